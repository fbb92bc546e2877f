/* callbacks.h: every extern "Python" function of wifidirect, cdef only (build_ffi.py reads it
 * last). Both compiled modules declare the same one, so the facade has one completion path.
 *
 * wfd_completions_ready is called by the completion trampoline (shim.h) on a foreign OS
 * thread (a Windows thread-pool thread, or a simulator worker), possibly before
 * WFDStartOpenSession has returned, when completions are waiting in the module's queue. It
 * takes them with wfdx_take and hands them to the waiting side; it never calls the WFD API.
 * The trampoline itself is the WINAPI WFD_OPEN_SESSION_COMPLETE_CALLBACK.
 */
extern "Python" void wfd_completions_ready(void);
