/* wfdsim.h: the control API of the bundled Wi-Fi Direct simulator.
 *
 * The simulator (src/wfdsim/) implements the seven functions of wfd.h with Windows' documented
 * semantics, and this API lets applications and tests script it: peers, service state, group
 * policy, the handle limit, fault injection and statistics. Like wfd.h this file is read both
 * as C and as a cffi cdef, so it holds declarations only. All functions are thread-safe.
 * Where Microsoft documents nothing, the simulator's choice is written next to the name.
 */

/* Win32 codes the simulator returns or delivers that wfd.h does not define (winerror.h). */
#define WFDSIM_ERROR_SUCCESS 0
#define WFDSIM_ERROR_INVALID_HANDLE 6
#define WFDSIM_ERROR_NOT_ENOUGH_MEMORY 8
#define WFDSIM_ERROR_INVALID_PARAMETER 87
#define WFDSIM_ERROR_SERVICE_NOT_ACTIVE 1062
#define WFDSIM_ERROR_POSSIBLE_DEADLOCK 1131
#define WFDSIM_ERROR_NOT_FOUND 1168
#define WFDSIM_ERROR_REMOTE_SESSION_LIMIT_EXCEEDED 1220
#define WFDSIM_ERROR_CANCELLED 1223
#define WFDSIM_ERROR_NOT_AUTHENTICATED 1244
#define WFDSIM_ERROR_TIMEOUT 1460
#define WFDSIM_ERROR_INVALID_STATE 5023

/* Reason codes delivered with a failed completion (Microsoft publishes none; these are ours).
 * A peer's configured outcome reason is delivered as configured. */
#define WFDSIM_REASON_NONE 0
#define WFDSIM_REASON_PEER_UNKNOWN 1       /* with ERROR_NOT_FOUND: no such peer */
#define WFDSIM_REASON_NOT_PAIRED 2         /* with ERROR_NOT_AUTHENTICATED: peer not paired */
#define WFDSIM_REASON_NOT_VISIBLE 3        /* with ERROR_TIMEOUT: peer out of range */
#define WFDSIM_REASON_CANCELLED 4          /* with ERROR_CANCELLED: WFDCancelOpenSession */
#define WFDSIM_REASON_SERVICE_STOPPED 5    /* with ERROR_SERVICE_NOT_ACTIVE: stopped mid-open */
#define WFDSIM_REASON_POLICY_DISABLED 6    /* with ERROR_INVALID_STATE: policy set mid-open */
#define WFDSIM_REASON_CLIENT_CLOSED 7      /* with ERROR_CANCELLED: reset while pending */

/* Kinds of contract violation: calls that are undefined or deadlock on real Windows. The
 * simulator counts each and answers with a defined error instead. */
#define WFDSIM_VIOLATION_STALE_HANDLE 0            /* a handle used after it became invalid */
#define WFDSIM_VIOLATION_CLOSE_SESSION_PENDING 1   /* WFDCloseSession while the open is pending */
#define WFDSIM_VIOLATION_CLOSE_HANDLE_IN_CALLBACK 2 /* WFDCloseHandle from a completion callback
                                                      while that client has pending opens */
#define WFDSIM_VIOLATION_KINDS 3

/* Function identifiers for wfdsim_inject_error. */
#define WFDSIM_FN_OPEN_HANDLE 0
#define WFDSIM_FN_CLOSE_HANDLE 1
#define WFDSIM_FN_START_OPEN_SESSION 2
#define WFDSIM_FN_CANCEL_OPEN_SESSION 3
#define WFDSIM_FN_OPEN_LEGACY_SESSION 4
#define WFDSIM_FN_CLOSE_SESSION 5
#define WFDSIM_FN_UPDATE_DEVICE_VISIBILITY 6
#define WFDSIM_FN_COUNT 7

/* A peer: a Wi-Fi Direct device the simulated radio can reach. */
typedef struct wfdsim_peer {
    unsigned char address[6];  /* device address; the peer's key */
    char name[64];             /* display name, NUL-terminated (truncated to 63 bytes) */
    int paired;                /* paired through Windows' pairing experience */
    int legacy;                /* a legacy WPS device with a stored profile (WFDOpenLegacySession) */
    int visible;               /* in range: targeted discovery finds it */
    double latency;            /* seconds from WFDStartOpenSession to the completion (>= 0) */
    DWORD error;               /* outcome of an open: 0 = success, else this Win32 code ... */
    DWORD reason;              /* ... with this reason code ... */
    uint32_t fail_times;       /* ... for this many opens, then success (0: every open) */
    /* Read-only state, ignored by wfdsim_add_peer: */
    int node_visible;          /* the device node's visibility property, as last updated */
    uint32_t visibility_updates; /* successful WFDUpdateDeviceVisibility calls for this peer */
} wfdsim_peer;

typedef struct wfdsim_stats {
    uint32_t clients;              /* live client handles */
    uint32_t sessions;             /* live sessions: open, or closing until the worker ends them */
    uint32_t pending_opens;        /* opens whose completion callback has not yet returned */
    uint64_t callbacks_delivered;  /* completion callbacks that have returned */
    uint64_t violations;           /* sum of violations_by_kind */
    uint64_t violations_by_kind[8]; /* indexed by WFDSIM_VIOLATION_*; unused slots are 0 */
} wfdsim_stats;

/* Back to the defaults: cancels pending opens and waits for their callbacks (unless called from
 * a callback), invalidates every live handle (later use counts as STALE_HANDLE), restores the
 * default peers, service running, group policy enabled, the default handle limit, no injected
 * faults, and zeroes the counters. */
void wfdsim_reset(void);
/* The same, but live handles stay valid and pending opens go on: only the settings (peers,
 * service, policy, handle limit, faults, delays) and the counters (callbacks delivered,
 * violations) start afresh. For a test suite that keeps one client across tests. */
void wfdsim_reset_settings(void);

/* Add a peer, or reconfigure the one with the same address. ERROR_INVALID_PARAMETER for NULL,
 * a negative/NaN/infinite latency; ERROR_NOT_ENOUGH_MEMORY when allocation fails. */
DWORD wfdsim_add_peer(const wfdsim_peer *peer);
/* ERROR_NOT_FOUND when no peer has that address. */
DWORD wfdsim_remove_peer(const unsigned char *address);
/* Copy the peer with that address, or ERROR_NOT_FOUND. */
DWORD wfdsim_get_peer(const unsigned char *address, wfdsim_peer *out);
/* Peers in insertion order: count, then copy by index (ERROR_NOT_FOUND past the end). */
uint32_t wfdsim_peer_count(void);
DWORD wfdsim_get_peer_at(uint32_t index, wfdsim_peer *out);

void wfdsim_set_group_policy_disabled(int disabled);
void wfdsim_set_service_running(int running);
/* Live client handles allowed at once (default 64; 0 = none). */
void wfdsim_set_handle_limit(uint32_t limit);
uint32_t wfdsim_get_handle_limit(void);

void wfdsim_get_stats(wfdsim_stats *out);
/* "stale_handle", "close_session_while_pending", "close_handle_in_callback", or NULL. */
const char *wfdsim_violation_name(int kind);

/* Block until no work is queued and no callback is running; 1 if idle, 0 after timeout_ms.
 * From inside a completion callback it returns 0 at once (it cannot become idle meanwhile). */
int wfdsim_wait_idle(uint32_t timeout_ms);

/* Fault injection. The next call of `function` (a WFDSIM_FN_*) returns `code` without effect
 * (0 clears). The next `count` internal allocations fail, so the functions that allocate
 * return ERROR_NOT_ENOUGH_MEMORY. */
DWORD wfdsim_inject_error(int function, DWORD code);
void wfdsim_fail_allocations(uint32_t count);

/* A slow service: every call of `function` (a WFDSIM_FN_*) waits `seconds` before it does
 * anything, without holding the simulator's lock, as an RPC to a busy service would (0 clears;
 * a reset clears all). ERROR_INVALID_PARAMETER for an unknown function or a negative, NaN or
 * infinite time. */
DWORD wfdsim_set_call_delay(int function, double seconds);

/* The peer leaves: the links of its open sessions go down (their handles stay valid: close them
 * as usual), and its device is no longer connected. ERROR_NOT_FOUND for an unknown peer. */
DWORD wfdsim_drop(const unsigned char *address, DWORD reason);

/* The peers every reset restores, in order (ERROR_NOT_FOUND past the end). */
uint32_t wfdsim_default_peer_count(void);
DWORD wfdsim_get_default_peer(uint32_t index, wfdsim_peer *out);
