/* callbacks.h: every extern "Python" function of wifidirect, cdef only (build_ffi.py reads it
 * last). Every backend module declares the same hook, so the facade has one completion path.
 *
 * wfdx_completed is called by the native guard's WFD_OPEN_SESSION_COMPLETE_CALLBACK
 * (wfdx_on_complete in src/shim/shim.c) after it has copied the callback's arguments into the
 * open's wfdx_open: on a foreign OS thread (a Windows thread-pool thread, a simulator worker,
 * the wpa_supplicant backend's event thread), possibly before WFDStartOpenSession has returned.
 * It receives the open's token, never a pointer to a Python object, and whether the open had
 * been orphaned (wfdx_orphan) when its completion arrived.
 */
extern "Python" void wfdx_completed(uint64_t token, int32_t orphaned);
