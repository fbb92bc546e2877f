/* shim.h: the native guard: the only way the facade calls the WFD functions (cdef only;
 * defined in src/shim/shim.c, compiled into every backend module's own C).
 *
 * Windows' rules about handles (a handle reaches a closing function at most once, never after
 * its client is closed, never while its open is pending; WFDCancelOpenSession only while the
 * open is pending, because a failed open's handle is invalid once its callback returns) are
 * enforced here, in C, under C mutexes: each decision and the native call it allows happen in
 * one call from Python, so no Python thread switch, signal handler or exception can come
 * between them. Python (src/wifidirect/_opens.py) decides who calls what and when; this layer
 * makes every call it allows safe.
 *
 * A wfdx_client guards one client handle, a wfdx_open one WFDStartOpenSession (or legacy open)
 * and then the session it opened. Both are allocated by Python (ffi.new), initialised here and
 * kept alive by Python until no C code can touch them: a wfdx_open is the callback's context,
 * so Python keeps it until its completion has been handed over (wfdx_completed).
 *
 * Every function returns a Win32 code of the WFD call it made, 0, or one of these codes of the
 * guard itself (bit 29, the "customer" bit, set: never a system code):
 */
#define WFDX_CLOSED 0x20000001  /* the client is closing or closed: no call was made */
#define WFDX_DONE 0x20000002    /* nothing to do: already closed / completed / cancelled */
#define WFDX_BUSY 0x20000003    /* the wait ran out: calls or opens are still in flight */
#define WFDX_PENDING 0x20000004 /* the open has not completed: its session cannot be closed */

/* client states */
#define WFDX_OPEN 0
#define WFDX_CLOSING 1  /* no new opens; cancels and session closes still allowed */
#define WFDX_SHUT 2     /* nothing more: the handle is being or has been closed */

typedef struct {
    uint64_t handle;    /* the client handle (WFDOpenHandle) */
    uint32_t version;   /* the negotiated API version */
    uint32_t state;     /* WFDX_OPEN, WFDX_CLOSING or WFDX_SHUT */
    uint32_t pending;   /* started opens whose completion has not arrived */
    ...;
} wfdx_client;

typedef struct {
    uint64_t token;          /* Python's name for this open, handed back by wfdx_completed */
    uint64_t session;        /* the session handle, from the start or the completion */
    uint32_t start_rc;       /* what WFDStartOpenSession / WFDOpenLegacySession returned */
    uint32_t error;          /* the completion's dwError (a legacy open: its return code) */
    uint32_t reason;         /* the completion's dwReasonCode */
    int32_t started;         /* the start returned 0: a completion will come (legacy: opened) */
    int32_t completed;       /* the outcome is in: the completion arrived, the start was
                                refused (error = start_rc), or a legacy open returned */
    int32_t cancelled;       /* WFDCancelOpenSession was called for it */
    int32_t orphaned;        /* wfdx_orphan was called: nobody waits for the outcome */
    int32_t closed;          /* WFDCloseSession was called, or the client's close covered it */
    unsigned char guid[16];  /* the interface GUID as its 16 bytes in memory (success only) */
    ...;
} wfdx_open;

void wfdx_client_init(wfdx_client *client);
/* WFDOpenHandle(WFD_API_VERSION_1_0): fills handle and version. */
DWORD wfdx_open_handle(wfdx_client *client);
/* No new opens from now on; waits up to wait_ms for starts and legacy opens in progress to
 * return (WFDX_BUSY if they did not). */
DWORD wfdx_begin_close(wfdx_client *client, uint32_t wait_ms);
/* Wait up to wait_ms until every started open of the client has completed (its callback came):
 * 0, or WFDX_BUSY. */
DWORD wfdx_wait_opens(wfdx_client *client, uint32_t wait_ms);
/* WFDCloseHandle once nothing is in flight and no open is pending: waits up to wait_ms for that,
 * else returns WFDX_BUSY and leaves the handle open (WFDCloseHandle would wait for the pending
 * opens itself). After this, cancels and session closes of the client return WFDX_CLOSED. */
DWORD wfdx_close_handle(wfdx_client *client, uint32_t wait_ms);

void wfdx_open_init(wfdx_open *open, wfdx_client *client, uint64_t token);
/* WFDStartOpenSession, with the open as the callback's context. The completion may arrive
 * (on another thread) before this returns. A cancel asked for meanwhile is issued when the
 * start returns. */
DWORD wfdx_start_open(wfdx_open *open, const char *address);
/* The same, made by one of the guard's starter threads: this only queues the open and returns
 * (0, or the refusal recorded as its outcome). A refusal by WFDStartOpenSession comes through
 * wfdx_completed like a completion. For event loops, which never wait on a native call. */
DWORD wfdx_start_queued(wfdx_open *open, const char *address);
/* How long an idle starter thread waits for work before it ends (default 1000 ms). */
void wfdx_set_idle_ms(uint32_t ms);
/* Whether a queued start is waiting or running (tests: everything has settled). */
int wfdx_starters_busy(void);
/* WFDCancelOpenSession if the open is pending and was not cancelled yet; if its start has not
 * returned, the start issues it. WFDX_DONE when there is nothing to cancel. */
DWORD wfdx_cancel_open(wfdx_open *open);
/* The owner left: nobody waits for the outcome. Returns whether the open has completed (then
 * the caller finishes it); otherwise its completion reports it orphaned to wfdx_completed, so
 * exactly one side sees the other's flag under the open's mutex and none is forgotten. */
int32_t wfdx_orphan(wfdx_open *open);
/* WFDOpenLegacySession (synchronous): the open is completed when this returns. */
DWORD wfdx_open_legacy(wfdx_open *open, const char *address);
/* WFDCloseSession of a completed, successful open, at most once. WFDX_DONE if it was closed
 * already or failed; WFDX_PENDING if it has not completed; WFDX_CLOSED if the client handle
 * was closed (which closed the session with it). */
DWORD wfdx_close_session(wfdx_open *open);
/* WFDUpdateDeviceVisibility (needs no client handle). */
DWORD wfdx_update_visibility(const char *address);
