/* shim.h: the facade's calling forms of the WFD functions and the completion queue, compiled
 * into both modules' own C (build_ffi.py defines them in the set_source preamble; cdef only).
 *
 * Calls: handles cross as uintptr_t (Python ints, no cdata casts) and device addresses as
 * `const char *` (a 6-byte Python bytes object is passed without a copy). Calls that produce a
 * handle return it, or 0 on failure with the Win32 code kept per thread for
 * wfdx_last_error(), like GetLastError: the success path allocates nothing.
 *
 * Completions: WFDStartOpenSession is given wfdx_on_complete, a WINAPI C trampoline that
 * copies its five arguments into a queue (whose capacity wfdx_start_open reserved, so a push
 * never allocates) and returns. The worker that finds the queue empty then calls the
 * extern "Python" hook wfd_completions_ready (callbacks.h) once, which takes completions with
 * wfdx_take until the queue is empty; workers arriving meanwhile only queue, without the GIL.
 * One completion costs one GIL acquisition as before; a burst costs one for all.
 */
typedef struct wfdx_completion {
    uintptr_t token;      /* pvContext: the facade's integer token */
    uintptr_t session;    /* hSessionHandle */
    DWORD error;          /* dwError */
    DWORD reason;         /* dwReasonCode */
    unsigned char guid[16]; /* guidSessionInterface, as laid out in memory */
} wfdx_completion;

uintptr_t wfdx_start_open(uintptr_t client, const char *address, uintptr_t token);
DWORD wfdx_last_error(void);
DWORD wfdx_cancel_open(uintptr_t session);
DWORD wfdx_close_session(uintptr_t session);
DWORD wfdx_close_handle(uintptr_t client);
DWORD wfdx_update_visibility(const char *address);
/* Move up to `max` queued completions to `out`; returns how many (0: the queue is empty). */
size_t wfdx_take(wfdx_completion *out, size_t max);
