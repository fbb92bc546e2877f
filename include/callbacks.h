/* callbacks.h: every extern "Python" function of wifidirect, cdef only (build_ffi.py reads it
 * last). Both compiled modules declare the same callback, so the facade has one completion path.
 *
 * wfd_open_complete is passed as the WFD_OPEN_SESSION_COMPLETE_CALLBACK of WFDStartOpenSession.
 * It is WINAPI (__stdcall on 32-bit x86) like the callback type; it runs on a foreign OS thread
 * (a Windows thread-pool thread, or a simulator worker), possibly before WFDStartOpenSession has
 * returned. pvContext carries an integer token, never a pointer to a Python object.
 */
extern "Python" void WINAPI wfd_open_complete(
    HANDLE hSessionHandle,
    PVOID pvContext,
    GUID guidSessionInterface,
    DWORD dwError,
    DWORD dwReasonCode);
