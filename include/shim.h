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

/* Completion channels: an open started with wfdx_start_open_queued() completes into a C queue
 * (the channel in the token's low 16 bits) and wakes its event loop through wfdx_channel_fd();
 * the loop takes the queued completions with wfdx_channel_drain(). The callback returns before
 * Python has seen the completion, so such an open is cancelled with wfdx_cancel_queued(),
 * which returns WFDX_ALREADY_COMPLETE instead of cancelling when the completion is queued.
 * wfdx_channel_open() returns -1 where channels are unsupported (Windows, 32-bit) or all
 * WFDX_MAX_CHANNELS - 1 are in use. The channel constants and wfdx_item are in
 * include/wfdx_channel.h, which src/shim/shim.c includes too. */
uintptr_t wfdx_start_open_queued(uintptr_t client, const char *address, uintptr_t token);
DWORD wfdx_cancel_queued(uintptr_t session, uintptr_t token);
int wfdx_channel_open(void);
int wfdx_channel_fd(int channel);
size_t wfdx_channel_drain(int channel, wfdx_item *out, size_t max);
void wfdx_channel_close(int channel);
