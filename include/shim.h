/* shim.h: the facade's calling forms of the WFD functions, compiled into both modules' own C
 * (build_ffi.py defines them in the set_source preamble; cdef only here).
 *
 * Handles cross as uintptr_t (Python ints, no cdata casts) and device addresses as
 * `const char *` (a 6-byte Python bytes object is passed without a copy). Calls that produce a
 * handle return it, or 0 on failure with the Win32 code kept per thread for
 * wfdx_last_error(), like GetLastError: the success path allocates nothing.
 */
uintptr_t wfdx_start_open(uintptr_t client, const char *address, uintptr_t token);
DWORD wfdx_last_error(void);
DWORD wfdx_cancel_open(uintptr_t session);
DWORD wfdx_close_session(uintptr_t session);
DWORD wfdx_close_handle(uintptr_t client);
DWORD wfdx_update_visibility(const char *address);
