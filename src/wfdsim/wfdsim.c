/* wfdsim.c: the Wi-Fi Direct simulator: the seven WFD functions of wfd.h and the control API
 * of wfdsim.h.
 *
 * What it does where Microsoft is silent (handles, threads, outcomes, faults, delays, fork, each
 * function's answers) is written in one place, docs/simulator.md: this file implements that
 * page, and a change here that it does not describe is a bug in one of them.
 */
#if !defined(_WIN32)
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#endif

#include "wfdsim_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S 1000000000.0
#define MAX_DELAY_NS 1000000000000000000ull /* ~31 years: clamp for huge latencies */
#define DEFAULT_HANDLE_LIMIT 64u
#define WORKERS 2u

typedef struct wfd_state {
    plat_mutex lock;
    plat_cond work_cv; /* workers: new or earlier work */
    plat_cond idle_cv; /* a work item finished: close handle, wait_idle, reset */
    uint64_t next_seq[2];
    wfd_table table;
    wfd_session **heap;
    size_t heap_len, heap_cap, n_sessobj;
    uint64_t item_seq;
    unsigned workers, busy;
    unsigned sleeping; /* workers waiting on work_cv */
    int waking;        /* a worker was signalled and has not returned from its wait yet */
    wfdsim_peer *peers;
    uint32_t npeers, peers_cap;
    int service_running, policy_disabled;
    uint32_t handle_limit;
    DWORD injected[WFDSIM_FN_COUNT];
    uint32_t delay_us[WFDSIM_FN_COUNT]; /* wfdsim_set_call_delay; atomic: read without the lock */
    uint32_t fail_allocs;
    wfdsim_stats st;
    uint64_t epoch;
    uint64_t rng;
    uint32_t iface_seq;    /* simulated interfaces made so far */
    uint64_t link_seq;     /* link changes so far (drops, closes) */
    plat_cond link_cv;     /* a link changed */
} wfd_state;

static wfd_state g;
static plat_once_t g_once = PLAT_ONCE_INIT;
static PLAT_THREAD_LOCAL wfd_client *tls_cb_client; /* set while this thread runs a callback */

/* ---- allocation, peers, randomness (lock held) -------------------------------------- */

void *wfd_alloc(size_t size)
{
    if (g.fail_allocs > 0) {
        g.fail_allocs--;
        return NULL;
    }
    return malloc(size);
}

void *wfd_realloc(void *p, size_t size)
{
    if (g.fail_allocs > 0) {
        g.fail_allocs--;
        return NULL;
    }
    return realloc(p, size);
}

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t rng_next(void) /* xorshift64* */
{
    uint64_t x = g.rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    g.rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static GUID new_guid(void)
{
    uint64_t a = rng_next(), b = rng_next();
    GUID id;
    int i;
    id.Data1 = (uint32_t)a;
    id.Data2 = (uint16_t)(a >> 32);
    id.Data3 = (uint16_t)(((a >> 48) & 0x0fffu) | 0x4000u); /* version 4 */
    for (i = 0; i < 8; i++)
        id.Data4[i] = (unsigned char)(b >> (8 * i));
    id.Data4[0] = (unsigned char)((id.Data4[0] & 0x3fu) | 0x80u); /* RFC 4122 variant */
    return id;
}

static uint64_t delay_ns(double seconds)
{
    double ns = seconds * NS_PER_S;
    if (!(ns > 0.0))
        return 0;
    if (ns >= (double)MAX_DELAY_NS)
        return MAX_DELAY_NS;
    return (uint64_t)ns;
}

static wfdsim_peer *find_peer(const unsigned char *addr)
{
    uint32_t i;
    for (i = 0; i < g.npeers; i++)
        if (memcmp(g.peers[i].address, addr, 6) == 0)
            return &g.peers[i];
    return NULL;
}

static DWORD put_peer(const wfdsim_peer *p)
{
    wfdsim_peer *dst = find_peer(p->address);
    const char *end;
    size_t len;
    if (!dst) {
        if (g.npeers == g.peers_cap) {
            uint32_t cap = g.peers_cap ? g.peers_cap * 2 : 8;
            wfdsim_peer *np = wfd_realloc(g.peers, cap * sizeof *np);
            if (!np)
                return WFDSIM_ERROR_NOT_ENOUGH_MEMORY;
            g.peers = np;
            g.peers_cap = cap;
        }
        dst = &g.peers[g.npeers++];
        memset(dst, 0, sizeof *dst);
        dst->node_visible = p->visible ? 1 : 0;
    }
    memcpy(dst->address, p->address, 6);
    end = memchr(p->name, '\0', sizeof p->name - 1);
    len = end ? (size_t)(end - p->name) : sizeof p->name - 1;
    memcpy(dst->name, p->name, len);
    memset(dst->name + len, 0, sizeof dst->name - len);
    dst->paired = p->paired ? 1 : 0;
    dst->legacy = p->legacy ? 1 : 0;
    dst->visible = p->visible ? 1 : 0;
    dst->latency = p->latency;
    dst->error = p->error;
    dst->reason = p->reason;
    dst->fail_times = p->error ? p->fail_times : 0;
    return 0;
}

/* The default peers, restored by every reset (docs/simulator.md lists them; the plugin and
 * the tests read them back through wfdsim_get_default_peer). */
static const struct {
    unsigned char last; /* the address is 02:00:5e:10:00:<last> */
    const char *name;
    int paired, legacy;
    double latency;
    DWORD error, reason;
} DEFAULT_PEERS[] = {
    {1, "Living Room TV", 1, 0, 0.020, 0, 0},
    {2, "Office Printer", 1, 1, 0.010, 0, 0},
    {3, "Pixel Phone", 1, 0, 0.050, 0, 0},
    {4, "Meeting Room Projector", 1, 0, 0.030, WFDSIM_ERROR_TIMEOUT, 9},
    {5, "Neighbour's Speaker", 0, 0, 0.015, 0, 0},
};
#define DEFAULT_PEER_COUNT (sizeof DEFAULT_PEERS / sizeof DEFAULT_PEERS[0])

static void default_peer(size_t i, wfdsim_peer *p)
{
    static const unsigned char prefix[5] = {0x02, 0x00, 0x5e, 0x10, 0x00};
    memset(p, 0, sizeof *p);
    memcpy(p->address, prefix, 5);
    p->address[5] = DEFAULT_PEERS[i].last;
    strcpy(p->name, DEFAULT_PEERS[i].name);
    p->paired = DEFAULT_PEERS[i].paired;
    p->legacy = DEFAULT_PEERS[i].legacy;
    p->visible = 1;
    p->node_visible = 1;
    p->latency = DEFAULT_PEERS[i].latency;
    p->error = DEFAULT_PEERS[i].error;
    p->reason = DEFAULT_PEERS[i].reason;
}

static void restore_defaults(void)
{
    size_t i;
    free(g.peers); /* start from a fresh, small table: bounded growth */
    g.peers = NULL;
    g.npeers = g.peers_cap = 0;
    g.fail_allocs = 0;
    for (i = 0; i < DEFAULT_PEER_COUNT; i++) {
        wfdsim_peer p;
        default_peer(i, &p);
        (void)put_peer(&p); /* only a real out-of-memory can fail: fewer peers */
    }
    g.service_running = 1;
    g.policy_disabled = 0;
    g.handle_limit = DEFAULT_HANDLE_LIMIT;
    memset(g.injected, 0, sizeof g.injected);
    for (i = 0; i < WFDSIM_FN_COUNT; i++)
        plat_atomic_store(&g.delay_us[i], 0);
    memset(&g.st, 0, sizeof g.st);
}

static void drop_handles(void);
#if !defined(_WIN32)
static void fork_prepare(void);
static void fork_parent(void);
static void fork_child(void);
#endif

static void init_once(void)
{
    uint64_t seed = plat_entropy();
    plat_mutex_init(&g.lock);
    plat_cond_init(&g.work_cv);
    plat_cond_init(&g.idle_cv);
    plat_cond_init(&g.link_cv);
    wfd_handles_init(splitmix64(seed));
    g.rng = splitmix64(seed ^ 0x5DEECE66Dull) | 1u;
    restore_defaults();
#if !defined(_WIN32)
    pthread_atfork(fork_prepare, fork_parent, fork_child);
#endif
}

static void enter(void)
{
    plat_once(&g_once, init_once);
    plat_mutex_lock(&g.lock);
}

static void leave(void) { plat_mutex_unlock(&g.lock); }

/* wfdsim_set_call_delay: the call waits this long before it does anything, without the lock,
 * like an RPC to a busy service. Read atomically: the calls' fast path takes no extra lock. */
static void wait_delay(int fn)
{
    uint32_t us;
    plat_once(&g_once, init_once);
    us = plat_atomic_load(&g.delay_us[fn]);
    if (us)
        plat_sleep_ns((uint64_t)us * 1000u);
}

static DWORD take_injected(int fn)
{
    DWORD code = g.injected[fn];
    g.injected[fn] = 0;
    return code;
}

static void violation(int kind)
{
    g.st.violations_by_kind[kind]++;
    g.st.violations++;
}

/* ---- the work heap (lock held) ------------------------------------------------------ */

static int heap_less(const wfd_session *a, const wfd_session *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_set(size_t i, wfd_session *s)
{
    g.heap[i] = s;
    s->heap_idx = i;
}

static size_t sift_up(size_t i)
{
    wfd_session *s = g.heap[i];
    while (i > 0 && heap_less(s, g.heap[(i - 1) / 2])) {
        heap_set(i, g.heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(i, s);
    return i;
}

static void sift_down(size_t i)
{
    wfd_session *s = g.heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= g.heap_len)
            break;
        if (c + 1 < g.heap_len && heap_less(g.heap[c + 1], g.heap[c]))
            c++;
        if (!heap_less(g.heap[c], s))
            break;
        heap_set(i, g.heap[c]);
        i = c;
    }
    heap_set(i, s);
}

static void heap_fix(size_t i) { sift_down(sift_up(i)); } /* after heap[i]'s key changed */

/* Capacity is kept >= the number of session objects, so pushes never allocate. */
static int heap_reserve(size_t need)
{
    wfd_session **nh;
    size_t cap;
    if (need <= g.heap_cap)
        return 0;
    cap = g.heap_cap ? g.heap_cap * 2 : 16;
    while (cap < need)
        cap *= 2;
    nh = wfd_realloc(g.heap, cap * sizeof *nh);
    if (!nh)
        return -1;
    g.heap = nh;
    g.heap_cap = cap;
    return 0;
}

/* A new or earlier item: wake one sleeping worker if the item is the earliest or already due,
 * unless a wake-up is already on its way (g.waking: signalled, not yet returned from its
 * wait). Otherwise a worker sleeping until an earlier due time reaches it in order, and a
 * woken or busy worker looks at the heap again before it sleeps, so no item waits for a
 * wake-up that never comes. One wake-up per burst instead of one per item keeps a caller that
 * starts many opens from paying a futex call (and on one CPU a context switch) for each. */
static void wake_worker(const wfd_session *s)
{
    if (!g.waking && g.sleeping > 0 && (s->heap_idx == 0 || s->due <= plat_now_ns())) {
        g.waking = 1;
        plat_cond_signal(&g.work_cv);
    }
}

static void schedule(wfd_session *s, int item, uint64_t due)
{
    s->item = item;
    s->due = due;
    s->seq = g.item_seq++;
    g.heap_len++;
    heap_set(g.heap_len - 1, s);
    heap_fix(g.heap_len - 1);
    wake_worker(s);
}

static wfd_session *heap_pop(void)
{
    wfd_session *top = g.heap[0];
    g.heap_len--;
    if (g.heap_len > 0) {
        heap_set(0, g.heap[g.heap_len]);
        heap_fix(0);
    }
    return top;
}

/* Cancel a queued completion: new outcome, due now. First cancellation wins. */
static void force_cancel(wfd_session *s, DWORD reason)
{
    if (s->item != ITEM_COMPLETION)
        return;
    if (s->forced_error == 0) {
        s->forced_error = WFDSIM_ERROR_CANCELLED;
        s->forced_reason = reason;
    }
    s->due = plat_now_ns();
    s->seq = g.item_seq++;
    heap_fix(s->heap_idx);
    wake_worker(s);
}

/* ---- object lifetime (lock held) ---------------------------------------------------- */

/* Drop n references (several at once, so no pointer is touched after a possible free). */
static void client_unref(wfd_client *c, uint32_t n)
{
    c->refs -= n;
    if (c->refs == 0)
        free(c);
}

static void session_unref(wfd_session *s, uint32_t n)
{
    s->refs -= n;
    if (s->refs == 0) {
        client_unref(s->client, 1);
        free(s);
        g.n_sessobj--;
    }
}

/* Drop a session from the live table and its client's list (its handle is invalid after). */
static void session_unlink(wfd_session *s)
{
    wfd_table_remove(&g.table, &s->hdr);
    if (s->prev)
        s->prev->next = s->next;
    else
        s->client->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
}

/* A session's link changed (lock held): wake whoever waits for link changes. */
static void link_changed(void)
{
    g.link_seq++;
    plat_cond_broadcast(&g.link_cv);
}

/* A session opened (lock held): its simulated interface, link up. */
static void session_opened(wfd_session *s, GUID guid)
{
    s->guid = guid;
    s->iface_no = ++g.iface_seq;
    s->link_up = 1;
    link_changed();
}

/* An open session: invalidate its handle and queue its disconnect (the live reference becomes
 * the queued one). */
static void session_close(wfd_session *s)
{
    if (s->link_up) {
        s->link_up = 0;
        link_changed();
    }
    session_unlink(s);
    schedule(s, ITEM_DISCONNECT, plat_now_ns());
}

/* Room for one more session object, then the object itself with a fresh handle, live and
 * linked to its client. NULL with *rc set on failure, with no effect. */
static wfd_session *session_new(wfd_client *c, int state, DWORD *rc)
{
    wfd_session *s;
    HANDLE h;
    *rc = WFDSIM_ERROR_NOT_ENOUGH_MEMORY;
    if (wfd_table_reserve(&g.table) != 0 || heap_reserve(g.n_sessobj + 1) != 0)
        return NULL;
    s = wfd_alloc(sizeof *s);
    if (!s)
        return NULL;
    if (wfd_handle_new(OBJ_SESSION, g.next_seq, &h) != 0) {
        free(s);
        return NULL;
    }
    memset(s, 0, sizeof *s);
    s->hdr.handle = h;
    s->hdr.type = OBJ_SESSION;
    s->client = c;
    c->refs++;
    s->state = state;
    s->refs = 1;
    s->epoch = g.epoch;
    s->next = c->sessions;
    if (c->sessions)
        c->sessions->prev = s;
    c->sessions = s;
    wfd_table_insert(&g.table, &s->hdr);
    g.n_sessobj++;
    *rc = 0;
    return s;
}

/* Classify a handle: 0 when live (*out set), else the error, counting stale use. */
static DWORD lookup(HANDLE h, int type, wfd_obj **out)
{
    wfd_obj *o;
    if (!wfd_handle_was_issued(h, type, g.next_seq))
        return WFDSIM_ERROR_INVALID_HANDLE;
    o = wfd_table_find(&g.table, h);
    if (!o) {
        violation(WFDSIM_VIOLATION_STALE_HANDLE);
        return WFDSIM_ERROR_INVALID_HANDLE;
    }
    *out = o;
    return 0;
}

static DWORD lookup_client(HANDLE h, wfd_client **out)
{
    wfd_obj *o = NULL;
    DWORD rc = lookup(h, OBJ_CLIENT, &o);
    *out = (wfd_client *)o;
    return rc;
}

static DWORD lookup_session(HANDLE h, wfd_session **out)
{
    wfd_obj *o = NULL;
    DWORD rc = lookup(h, OBJ_SESSION, &o);
    *out = (wfd_session *)o;
    return rc;
}

/* ---- workers ------------------------------------------------------------------------ */

/* A configured failure was delivered (lock held): a peer set to fail N times succeeds after
 * the Nth. */
static void consume_failure(const unsigned char *address)
{
    wfdsim_peer *p = find_peer(address);
    if (p != NULL && p->fail_times > 0 && --p->fail_times == 0) {
        p->error = 0;
        p->reason = 0;
    }
}

static void decide(const wfd_session *s, DWORD *err, DWORD *reason)
{
    const wfdsim_peer *p;
    *err = 0;
    *reason = WFDSIM_REASON_NONE;
    if (s->forced_error) {
        *err = s->forced_error;
        *reason = s->forced_reason;
    } else if (!g.service_running) {
        *err = WFDSIM_ERROR_SERVICE_NOT_ACTIVE;
        *reason = WFDSIM_REASON_SERVICE_STOPPED;
    } else if (g.policy_disabled) {
        *err = WFDSIM_ERROR_INVALID_STATE;
        *reason = WFDSIM_REASON_POLICY_DISABLED;
    } else if (!(p = find_peer(s->addr))) {
        *err = WFDSIM_ERROR_NOT_FOUND;
        *reason = WFDSIM_REASON_PEER_UNKNOWN;
    } else if (!p->paired) {
        *err = WFDSIM_ERROR_NOT_AUTHENTICATED;
        *reason = WFDSIM_REASON_NOT_PAIRED;
    } else if (!p->visible) {
        *err = WFDSIM_ERROR_TIMEOUT;
        *reason = WFDSIM_REASON_NOT_VISIBLE;
    } else if (p->error) {
        *err = p->error;
        *reason = p->reason;
        consume_failure(p->address);
    }
}

/* Deliver a completion: called and returns with the lock held; unlocks around the callback.
 * The heap's reference on s becomes the delivery's. */
static void deliver(wfd_session *s)
{
    wfd_client *c = s->client;
    DWORD err, reason;
    GUID guid;
    HANDLE h = s->hdr.handle;
    WFD_OPEN_SESSION_COMPLETE_CALLBACK pfn = s->pfn;
    PVOID ctx = s->ctx;

    s->item = ITEM_NONE;
    s->state = SS_DELIVERING; /* cancel has no effect any more */
    decide(s, &err, &reason);
    memset(&guid, 0, sizeof guid);
    if (err == 0) {
        s->state = SS_OPEN;
        if (s->epoch == g.epoch)
            g.st.sessions++;
        guid = new_guid();
        session_opened(s, guid);
    }
    leave();
    tls_cb_client = c;
    pfn(h, ctx, guid, err, reason);
    tls_cb_client = NULL;
    plat_mutex_lock(&g.lock);
    c->pending--;
    if (s->epoch == g.epoch) {
        g.st.pending_opens--;
        g.st.callbacks_delivered++;
    }
    if (err != 0 && s->hdr.in_table) {
        session_unlink(s); /* a failed open's handle is stale from now on */
        session_unref(s, 2); /* the live and the delivery references */
    } else {
        session_unref(s, 1);
    }
}

static void worker_main(void *arg)
{
    (void)arg;
    /* The workers play the WLAN service, which runs beside the application rather than in
     * front of it: as batch threads (Linux) they do not preempt the thread whose call woke
     * them, so on a busy CPU a completion is delivered when that thread blocks or its time
     * slice ends instead of costing it two context switches per call. */
    plat_thread_batch();
    plat_thread_name("wfdsim-worker");
    plat_mutex_lock(&g.lock);
    for (;;) {
        wfd_session *s;
        if (g.heap_len == 0) {
            g.sleeping++;
            plat_cond_wait(&g.work_cv, &g.lock);
            g.sleeping--;
            g.waking = 0; /* this worker looks at the heap now (or another one will be woken) */
            continue;
        }
        if (g.heap[0]->due > plat_now_ns()) {
            g.sleeping++;
            plat_cond_timedwait(&g.work_cv, &g.lock, g.heap[0]->due);
            g.sleeping--;
            g.waking = 0;
            continue;
        }
        s = heap_pop();
        g.busy++;
        if (s->item == ITEM_DISCONNECT) {
            s->item = ITEM_NONE;
            if (s->epoch == g.epoch)
                g.st.sessions--;
            session_unref(s, 1);
        } else {
            deliver(s);
        }
        g.busy--;
        plat_cond_broadcast(&g.idle_cv);
    }
}

static int ensure_workers(void)
{
    /* A worker runs this module's code: the module must stay loaded while one runs, also when
     * it is a DLL that a program unloads with FreeLibrary (docs/simulator.md). */
    if (g.workers == 0)
        plat_pin_module((void *)worker_main);
    while (g.workers < WORKERS && plat_thread_start(worker_main, NULL) == 0)
        g.workers++;
    return g.workers > 0 ? 0 : -1;
}

static int is_idle(void) { return g.heap_len == 0 && g.busy == 0; }

/* ---- the seven WFD functions -------------------------------------------------------- */

DWORD WINAPI WFDOpenHandle(DWORD dwClientVersion, PDWORD pdwNegotiatedVersion,
                           PHANDLE phClientHandle)
{
    DWORD rc;
    wfd_client *c;
    HANDLE h;
    wait_delay(WFDSIM_FN_OPEN_HANDLE);
    enter();
    if ((rc = take_injected(WFDSIM_FN_OPEN_HANDLE)) != 0)
        goto out;
    rc = WFDSIM_ERROR_INVALID_PARAMETER;
    if (!pdwNegotiatedVersion || !phClientHandle || dwClientVersion != WFD_API_VERSION)
        goto out;
    rc = WFDSIM_ERROR_SERVICE_NOT_ACTIVE; /* an RPC to a stopped service: see docs/simulator.md */
    if (!g.service_running)
        goto out;
    rc = WFDSIM_ERROR_REMOTE_SESSION_LIMIT_EXCEEDED;
    if (g.st.clients >= g.handle_limit)
        goto out;
    rc = WFDSIM_ERROR_NOT_ENOUGH_MEMORY;
    if (ensure_workers() != 0 || wfd_table_reserve(&g.table) != 0)
        goto out;
    if (!(c = wfd_alloc(sizeof *c)))
        goto out;
    if (wfd_handle_new(OBJ_CLIENT, g.next_seq, &h) != 0) {
        free(c);
        goto out;
    }
    memset(c, 0, sizeof *c);
    c->hdr.handle = h;
    c->hdr.type = OBJ_CLIENT;
    c->refs = 1;
    wfd_table_insert(&g.table, &c->hdr);
    g.st.clients++;
    *pdwNegotiatedVersion = WFD_API_VERSION;
    *phClientHandle = h;
    rc = 0;
out:
    leave();
    return rc;
}

DWORD WINAPI WFDCloseHandle(HANDLE hClientHandle)
{
    DWORD rc;
    wfd_client *c;
    wait_delay(WFDSIM_FN_CLOSE_HANDLE);
    enter();
    if ((rc = take_injected(WFDSIM_FN_CLOSE_HANDLE)) != 0)
        goto out;
    rc = WFDSIM_ERROR_INVALID_PARAMETER;
    if (!hClientHandle)
        goto out;
    if ((rc = lookup_client(hClientHandle, &c)) != 0)
        goto out;
    rc = WFDSIM_ERROR_INVALID_HANDLE;
    if (c->closing) /* another WFDCloseHandle is at work: the caller's own race */
        goto out;
    if (tls_cb_client && c->pending > 0) {
        violation(WFDSIM_VIOLATION_CLOSE_HANDLE_IN_CALLBACK);
        rc = WFDSIM_ERROR_POSSIBLE_DEADLOCK; /* real Windows would wait forever */
        goto out;
    }
    c->closing = 1;
    c->refs++; /* keep it while waiting: a reset may drop it meanwhile */
    while (c->pending > 0 && c->hdr.in_table)
        plat_cond_wait(&g.idle_cv, &g.lock);
    if (c->hdr.in_table) {
        while (c->sessions)
            session_close(c->sessions);
        wfd_table_remove(&g.table, &c->hdr);
        g.st.clients--;
        client_unref(c, 2); /* the live reference and ours */
    } else {
        client_unref(c, 1);
    }
    rc = 0;
out:
    leave();
    return rc;
}

DWORD WINAPI WFDStartOpenSession(HANDLE hClientHandle, PDOT11_MAC_ADDRESS pDeviceAddress,
                                 PVOID pvContext, WFD_OPEN_SESSION_COMPLETE_CALLBACK pfnCallback,
                                 PHANDLE phSessionHandle)
{
    DWORD rc;
    wfd_client *c;
    wfd_session *s;
    const wfdsim_peer *p;
    wait_delay(WFDSIM_FN_START_OPEN_SESSION);
    enter();
    if ((rc = take_injected(WFDSIM_FN_START_OPEN_SESSION)) != 0)
        goto out;
    rc = WFDSIM_ERROR_INVALID_PARAMETER;
    if (!hClientHandle || !pDeviceAddress || !pfnCallback || !phSessionHandle)
        goto out;
    if ((rc = lookup_client(hClientHandle, &c)) != 0)
        goto out;
    rc = WFDSIM_ERROR_INVALID_HANDLE;
    if (c->closing)
        goto out;
    rc = WFDSIM_ERROR_SERVICE_NOT_ACTIVE;
    if (!g.service_running)
        goto out;
    rc = WFDSIM_ERROR_INVALID_STATE;
    if (g.policy_disabled)
        goto out;
    if (!(s = session_new(c, SS_PENDING, &rc)))
        goto out;
    memcpy(s->addr, *pDeviceAddress, 6);
    s->pfn = pfnCallback;
    s->ctx = pvContext;
    s->refs++; /* the queued reference */
    c->pending++;
    g.st.pending_opens++;
    p = find_peer(s->addr);
    /* Written before the work is visible: a zero-latency callback may run before we return. */
    *phSessionHandle = s->hdr.handle;
    schedule(s, ITEM_COMPLETION, plat_now_ns() + (p ? delay_ns(p->latency) : 0));
    rc = 0;
out:
    leave();
    return rc;
}

DWORD WINAPI WFDCancelOpenSession(HANDLE hSessionHandle)
{
    DWORD rc;
    wfd_session *s;
    wait_delay(WFDSIM_FN_CANCEL_OPEN_SESSION);
    enter();
    if ((rc = take_injected(WFDSIM_FN_CANCEL_OPEN_SESSION)) != 0)
        goto out;
    rc = WFDSIM_ERROR_INVALID_PARAMETER;
    if (!hSessionHandle)
        goto out;
    if ((rc = lookup_session(hSessionHandle, &s)) != 0)
        goto out;
    if (s->state == SS_PENDING)
        force_cancel(s, WFDSIM_REASON_CANCELLED);
out:
    leave();
    return rc;
}

/* Decide a legacy open's synchronous outcome from the peer (lock held). */
static DWORD legacy_precheck(const unsigned char *addr, uint64_t *sleep_ns, DWORD *late_err,
                             int *configured)
{
    const wfdsim_peer *p;
    if (!g.service_running)
        return WFDSIM_ERROR_SERVICE_NOT_ACTIVE;
    if (g.policy_disabled)
        return WFDSIM_ERROR_INVALID_STATE;
    p = find_peer(addr);
    if (!p || !p->paired || !p->legacy)
        return WFDSIM_ERROR_NOT_FOUND; /* no stored legacy profile */
    *sleep_ns = delay_ns(p->latency);
    *late_err = !p->visible ? WFDSIM_ERROR_TIMEOUT : p->error;
    *configured = p->visible && p->error != 0;
    return 0;
}

DWORD WINAPI WFDOpenLegacySession(HANDLE hClientHandle, PDOT11_MAC_ADDRESS pLegacyMacAddress,
                                  HANDLE *phSessionHandle, GUID *pGuidSessionInterface)
{
    DWORD rc, late_err = 0;
    int configured = 0;
    uint64_t sleep_ns = 0;
    unsigned char addr[6];
    wfd_client *c;
    wfd_session *s;
    wfd_obj *o;
    wait_delay(WFDSIM_FN_OPEN_LEGACY_SESSION);
    enter();
    if ((rc = take_injected(WFDSIM_FN_OPEN_LEGACY_SESSION)) != 0)
        goto out;
    rc = WFDSIM_ERROR_INVALID_PARAMETER;
    if (!hClientHandle || !pLegacyMacAddress || !phSessionHandle || !pGuidSessionInterface)
        goto out;
    memcpy(addr, *pLegacyMacAddress, 6);
    if ((rc = lookup_client(hClientHandle, &c)) != 0)
        goto out;
    rc = WFDSIM_ERROR_INVALID_HANDLE;
    if (c->closing)
        goto out;
    if ((rc = legacy_precheck(addr, &sleep_ns, &late_err, &configured)) != 0)
        goto out;
    leave();
    plat_sleep_ns(sleep_ns); /* the synchronous connection attempt, without the lock */
    plat_mutex_lock(&g.lock);
    if ((rc = late_err) != 0) {
        if (configured)
            consume_failure(addr);
        goto out;
    }
    /* Re-validate: the client may have been closed while we slept (no violation: it was live). */
    o = wfd_table_find(&g.table, hClientHandle);
    rc = WFDSIM_ERROR_INVALID_HANDLE;
    if (!o || o->type != OBJ_CLIENT || ((wfd_client *)o)->closing)
        goto out;
    c = (wfd_client *)o;
    rc = WFDSIM_ERROR_SERVICE_NOT_ACTIVE;
    if (!g.service_running)
        goto out;
    rc = WFDSIM_ERROR_INVALID_STATE;
    if (g.policy_disabled)
        goto out;
    if (!(s = session_new(c, SS_OPEN, &rc)))
        goto out;
    g.st.sessions++;
    memcpy(s->addr, addr, 6);
    *phSessionHandle = s->hdr.handle;
    *pGuidSessionInterface = new_guid();
    session_opened(s, *pGuidSessionInterface);
    rc = 0;
out:
    leave();
    return rc;
}

DWORD WINAPI WFDCloseSession(HANDLE hSessionHandle)
{
    DWORD rc;
    wfd_session *s;
    wait_delay(WFDSIM_FN_CLOSE_SESSION);
    enter();
    if ((rc = take_injected(WFDSIM_FN_CLOSE_SESSION)) != 0)
        goto out;
    rc = WFDSIM_ERROR_INVALID_PARAMETER;
    if (!hSessionHandle)
        goto out;
    if ((rc = lookup_session(hSessionHandle, &s)) != 0)
        goto out;
    if (s->state != SS_OPEN)
        violation(WFDSIM_VIOLATION_CLOSE_SESSION_PENDING); /* rule 4: it stays pending */
    else
        session_close(s);
out:
    leave();
    return rc;
}

DWORD WINAPI WFDUpdateDeviceVisibility(PDOT11_MAC_ADDRESS pDeviceAddress)
{
    DWORD rc;
    wfdsim_peer *p;
    wait_delay(WFDSIM_FN_UPDATE_DEVICE_VISIBILITY);
    enter();
    if ((rc = take_injected(WFDSIM_FN_UPDATE_DEVICE_VISIBILITY)) != 0)
        goto out;
    rc = WFDSIM_ERROR_INVALID_PARAMETER;
    if (!pDeviceAddress)
        goto out;
    rc = WFDSIM_ERROR_SERVICE_NOT_ACTIVE;
    if (!g.service_running)
        goto out;
    p = find_peer(*pDeviceAddress);
    rc = WFDSIM_ERROR_NOT_FOUND;
    if (!p || !p->paired)
        goto out;
    p->node_visible = p->visible;
    p->visibility_updates++;
    rc = 0;
out:
    leave();
    return rc;
}

/* ---- fork (POSIX) --------------------------------------------------------------------- */

#if !defined(_WIN32)
/* A forked child has none of the parent's threads: no worker would ever deliver the parent's
 * queued work, and a lock held by one of them would stay held. The simulator therefore starts
 * afresh in the child: the parent's handles are invalid there (their use is a stale-handle
 * violation), its queued work is dropped without callbacks, the peers and settings are the
 * defaults, and the next WFDOpenHandle starts new workers. The lock is taken around fork() so
 * that the state is consistent when the child inherits it. */
static void fork_prepare(void) { plat_mutex_lock(&g.lock); }
static void fork_parent(void) { plat_mutex_unlock(&g.lock); }
static void fork_child(void)
{
    while (g.heap_len > 0) { /* every queued item holds a reference */
        wfd_session *s = heap_pop();
        s->item = ITEM_NONE;
        session_unref(s, 1);
    }
    drop_handles();
    restore_defaults();
    g.workers = g.busy = g.sleeping = 0;
    g.waking = 0;
    tls_cb_client = NULL;
    plat_mutex_unlock(&g.lock);
    plat_cond_init(&g.work_cv); /* the parent's waiters do not exist here */
    plat_cond_init(&g.idle_cv);
}
#endif

/* ---- control API -------------------------------------------------------------------- */

/* Invalidate every live handle (lock held): later use is a stale-handle violation. Queued
 * work keeps its references and finishes without touching the (new epoch's) counters. */
static void drop_handles(void)
{
    wfd_obj *o, *next, *clients = NULL;
    g.epoch++;
    for (o = wfd_table_drain(&g.table); o; o = next) {
        next = o->hnext;
        if (o->type == OBJ_CLIENT) { /* after the sessions: they hold references to clients */
            o->hnext = clients;
            clients = o;
        } else {
            wfd_session *s = (wfd_session *)o;
            s->prev = s->next = NULL;
            if (s->state == SS_PENDING) /* only when called from a callback */
                force_cancel(s, WFDSIM_REASON_CLIENT_CLOSED);
            session_unref(s, 1);
        }
    }
    for (o = clients; o; o = next) {
        next = o->hnext;
        o->hnext = NULL;
        ((wfd_client *)o)->sessions = NULL;
        client_unref((wfd_client *)o, 1);
    }
}

void wfdsim_reset(void)
{
    size_t i;
    enter();
    if (!tls_cb_client) {
        for (;;) {
            uint64_t now = plat_now_ns();
            for (i = 0; i < g.heap_len; i++) { /* cancel all queued opens, then re-heapify */
                wfd_session *s = g.heap[i];
                if (s->item == ITEM_COMPLETION && s->forced_error == 0) {
                    s->forced_error = WFDSIM_ERROR_CANCELLED;
                    s->forced_reason = WFDSIM_REASON_CLIENT_CLOSED;
                }
                if (s->due > now)
                    s->due = now;
            }
            for (i = g.heap_len / 2; i-- > 0;)
                sift_down(i);
            plat_cond_broadcast(&g.work_cv);
            if (is_idle())
                break;
            plat_cond_wait(&g.idle_cv, &g.lock);
        }
    }
    drop_handles();
    restore_defaults();
    plat_cond_broadcast(&g.idle_cv); /* WFDCloseHandle waiters: their client is gone */
    leave();
}

void wfdsim_reset_settings(void)
{
    wfdsim_stats live;
    enter();
    live = g.st;
    restore_defaults();
    g.st.clients = live.clients; /* live counts stay: their handles do */
    g.st.sessions = live.sessions;
    g.st.pending_opens = live.pending_opens;
    leave();
}

DWORD wfdsim_add_peer(const wfdsim_peer *peer)
{
    DWORD rc = WFDSIM_ERROR_INVALID_PARAMETER;
    enter();
    if (peer && !isnan(peer->latency) && !isinf(peer->latency) && peer->latency >= 0.0)
        rc = put_peer(peer);
    leave();
    return rc;
}

DWORD wfdsim_remove_peer(const unsigned char *address)
{
    DWORD rc = WFDSIM_ERROR_INVALID_PARAMETER;
    wfdsim_peer *p;
    enter();
    if (address) {
        rc = WFDSIM_ERROR_NOT_FOUND;
        if ((p = find_peer(address)) != NULL) {
            size_t idx = (size_t)(p - g.peers);
            memmove(p, p + 1, (g.npeers - idx - 1) * sizeof *p);
            g.npeers--;
            rc = 0;
        }
    }
    leave();
    return rc;
}

DWORD wfdsim_get_peer(const unsigned char *address, wfdsim_peer *out)
{
    DWORD rc = WFDSIM_ERROR_INVALID_PARAMETER;
    const wfdsim_peer *p;
    enter();
    if (address && out) {
        rc = WFDSIM_ERROR_NOT_FOUND;
        if ((p = find_peer(address)) != NULL) {
            *out = *p;
            rc = 0;
        }
    }
    leave();
    return rc;
}

uint32_t wfdsim_peer_count(void)
{
    uint32_t n;
    enter();
    n = g.npeers;
    leave();
    return n;
}

DWORD wfdsim_get_peer_at(uint32_t index, wfdsim_peer *out)
{
    DWORD rc = WFDSIM_ERROR_INVALID_PARAMETER;
    enter();
    if (out) {
        rc = WFDSIM_ERROR_NOT_FOUND;
        if (index < g.npeers) {
            *out = g.peers[index];
            rc = 0;
        }
    }
    leave();
    return rc;
}

void wfdsim_set_group_policy_disabled(int disabled)
{
    enter();
    g.policy_disabled = disabled ? 1 : 0;
    leave();
}

void wfdsim_set_service_running(int running)
{
    enter();
    g.service_running = running ? 1 : 0;
    leave();
}

void wfdsim_set_handle_limit(uint32_t limit)
{
    enter();
    g.handle_limit = limit;
    leave();
}

uint32_t wfdsim_get_handle_limit(void)
{
    uint32_t n;
    enter();
    n = g.handle_limit;
    leave();
    return n;
}

void wfdsim_get_stats(wfdsim_stats *out)
{
    enter();
    if (out)
        *out = g.st;
    leave();
}

const char *wfdsim_violation_name(int kind)
{
    static const char *const names[WFDSIM_VIOLATION_KINDS] = {
        "stale_handle", "close_session_while_pending", "close_handle_in_callback"};
    return kind >= 0 && kind < WFDSIM_VIOLATION_KINDS ? names[kind] : NULL;
}

int wfdsim_wait_idle(uint32_t timeout_ms)
{
    uint64_t deadline;
    int idle;
    enter();
    deadline = plat_now_ns() + (uint64_t)timeout_ms * 1000000u;
    while (!(idle = is_idle()) && !tls_cb_client && plat_now_ns() < deadline)
        plat_cond_timedwait(&g.idle_cv, &g.lock, deadline);
    leave();
    return idle;
}

DWORD wfdsim_inject_error(int function, DWORD code)
{
    DWORD rc = WFDSIM_ERROR_INVALID_PARAMETER;
    enter();
    if (function >= 0 && function < WFDSIM_FN_COUNT) {
        g.injected[function] = code;
        rc = 0;
    }
    leave();
    return rc;
}

void wfdsim_fail_allocations(uint32_t count)
{
    enter();
    g.fail_allocs = count;
    leave();
}

DWORD wfdsim_set_call_delay(int function, double seconds)
{
    DWORD rc = WFDSIM_ERROR_INVALID_PARAMETER;
    enter();
    if (function >= 0 && function < WFDSIM_FN_COUNT && !isnan(seconds) && !isinf(seconds) &&
        seconds >= 0.0) {
        double us = seconds * 1e6; /* clamped to ~71 minutes */
        plat_atomic_store(&g.delay_us[function], us >= 4294967295.0 ? 0xFFFFFFFFu : (uint32_t)us);
        rc = 0;
    }
    leave();
    return rc;
}

uint32_t wfdsim_default_peer_count(void) { return (uint32_t)DEFAULT_PEER_COUNT; }

DWORD wfdsim_get_default_peer(uint32_t index, wfdsim_peer *out)
{
    if (!out)
        return WFDSIM_ERROR_INVALID_PARAMETER;
    if (index >= DEFAULT_PEER_COUNT)
        return WFDSIM_ERROR_NOT_FOUND;
    default_peer(index, out);
    return 0;
}

DWORD wfdsim_drop(const unsigned char *address, DWORD reason)
{
    DWORD rc = WFDSIM_ERROR_INVALID_PARAMETER;
    wfd_obj *o;
    size_t i;
    enter();
    if (address != NULL) {
        rc = find_peer(address) ? 0 : WFDSIM_ERROR_NOT_FOUND;
        for (i = 0; i < g.table.nbuckets; i++)
            for (o = g.table.buckets[i]; o; o = o->hnext) {
                wfd_session *s = (wfd_session *)o;
                if (o->type == OBJ_SESSION && s->link_up && memcmp(s->addr, address, 6) == 0) {
                    s->link_up = 0;
                    s->down_reason = reason;
                    link_changed();
                    rc = 0;
                }
            }
    }
    leave();
    return rc;
}

/* ---- for system.c: the simulated system around the API ------------------------------- */

void wfd_lock(void) { enter(); }
void wfd_unlock(void) { leave(); }

void wfd_each_session(void (*visit)(wfd_session *s, void *arg), void *arg)
{
    size_t i;
    wfd_obj *o;
    for (i = 0; i < g.table.nbuckets; i++)
        for (o = g.table.buckets[i]; o; o = o->hnext)
            if (o->type == OBJ_SESSION)
                visit((wfd_session *)o, arg);
}

uint32_t wfd_peer_count(void) { return g.npeers; }
const wfdsim_peer *wfd_peer_at(uint32_t index) { return &g.peers[index]; }
int wfd_service_running(void) { return g.service_running; }
uint64_t wfd_link_changes(void) { return g.link_seq; }
void wfd_link_poke(void) { link_changed(); }

uint64_t wfd_wait_link_change(uint64_t seen, uint32_t timeout_ms)
{
    uint64_t deadline = plat_now_ns() + (uint64_t)timeout_ms * 1000000u;
    while (g.link_seq == seen && plat_now_ns() < deadline)
        plat_cond_timedwait(&g.link_cv, &g.lock, deadline);
    return g.link_seq;
}
