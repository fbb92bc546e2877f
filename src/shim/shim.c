/* shim.c: the native guard, the definitions of include/shim.h.
 *
 * build_ffi.py puts `#include "shim.c"` in the set_source preamble of every backend module,
 * after the platform's types and wfd.h and before cffi's generated code (which defines the
 * extern "Python" hook wfdx_completed declared below); src/common/platform.c is compiled into
 * the module beside it. It is a .c file included by one translation unit per module, so every
 * definition is static. tests/c/shim_stress.c includes it the same way, with its own hook.
 *
 * Locking: each wfdx_open has a mutex, taken for its own facts. A client's counts of calls in
 * flight are atomics: a call enters by counting itself and then checking the client's state,
 * a closer stores the state and then waits for the counts (both sequentially consistent, so
 * either the closer sees the call or the call sees the closer); the client's mutex and
 * condition variable are used only while a closer waits, so the completion callback and the
 * callers never contend for a lock on the hot path. No mutex is held while calling into
 * Python. The one native call made under a mutex is WFDCancelOpenSession, under its open's
 * mutex: the completion callback takes that mutex before it returns, so a failed open's handle
 * cannot become invalid while the cancel uses it, and a slow cancel delays only its own open's
 * callback.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "platform.h"

#define WFDX_CLOSED 0x20000001u
#define WFDX_DONE 0x20000002u
#define WFDX_BUSY 0x20000003u
#define WFDX_PENDING 0x20000004u
enum { WFDX_OPEN, WFDX_CLOSING, WFDX_SHUT };

typedef struct {
    uint64_t handle;
    uint32_t version;
    uint32_t state;    /* atomic: WFDX_OPEN, WFDX_CLOSING or WFDX_SHUT */
    uint32_t pending;  /* atomic: started (or starting) opens whose callback has not come */
    uint32_t opening;  /* atomic: WFDStartOpenSession / WFDOpenLegacySession calls in flight */
    uint32_t calls;    /* atomic: WFDCancelOpenSession / WFDCloseSession calls in flight */
    uint32_t waiting;  /* atomic: closers waiting on cv */
    int handle_closed; /* WFDCloseHandle was called (under mu) */
    plat_mutex mu;     /* for closers: handle_closed, and cv's waits */
    plat_cond cv;      /* a count reached zero while a closer waits */
} wfdx_client;

typedef struct {
    uint64_t token;
    uint64_t session;
    uint32_t start_rc;
    uint32_t error;
    uint32_t reason;
    int32_t completed;
    int32_t cancelled;
    int32_t closed;
    unsigned char guid[16];
    int32_t started;       /* WFDStartOpenSession returned 0 */
    int32_t orphaned;      /* wfdx_orphan was called: nobody waits for the outcome */
    int32_t cancel_wanted; /* wfdx_cancel_open was called */
    wfdx_client *client;
    unsigned char address[6]; /* the device address of the start */
    void *next;               /* in the starter's queue */
    plat_mutex mu;
} wfdx_open;

/* cffi's generated code defines it (include/callbacks.h); the tests define their own. */
static void wfdx_completed(uint64_t token, int32_t orphaned);

static void wfdx_client_init(wfdx_client *c)
{
    memset(c, 0, sizeof *c);
    c->state = WFDX_SHUT; /* until wfdx_open_handle succeeds */
    plat_mutex_init(&c->mu);
    plat_cond_init(&c->cv);
}

static DWORD wfdx_open_handle(wfdx_client *c)
{
    DWORD version = 0;
    HANDLE handle = NULL;
    DWORD rc = WFDOpenHandle(WFD_API_VERSION, &version, &handle);
    plat_mutex_lock(&c->mu);
    if (rc == 0) {
        c->handle = (uint64_t)(uintptr_t)handle;
        c->version = version;
        plat_atomic_store(&c->state, WFDX_OPEN);
    }
    plat_mutex_unlock(&c->mu);
    return rc;
}

/* What a closer waits for. */
enum { WFDX_WAIT_STARTS, WFDX_WAIT_OPENS, WFDX_WAIT_ALL };
static uint32_t wfdx_busy(wfdx_client *c, int what)
{
    uint32_t n = plat_atomic_load(&c->opening); /* starts and legacy opens in flight */
    if (what >= WFDX_WAIT_OPENS)
        n += plat_atomic_load(&c->pending); /* started opens whose completion has not come */
    if (what >= WFDX_WAIT_ALL)
        n += plat_atomic_load(&c->calls); /* cancels and closes in flight */
    return n;
}

/* Wait (client mutex held) until wfdx_busy() is zero or wait_ms ran out: 1 if it is zero. */
static int wfdx_wait_quiet(wfdx_client *c, int what, uint32_t wait_ms)
{
    uint64_t deadline = plat_now_ns() + (uint64_t)wait_ms * 1000000u;
    uint32_t busy;
    plat_atomic_add(&c->waiting, 1); /* before the check: a call that ends now wakes us */
    /* Decided by the check that ends the loop: a later look could catch the count of a call
     * that is being refused (counted in, then out, after the state changed). */
    while ((busy = wfdx_busy(c, what)) > 0)
        if (plat_cond_timedwait(&c->cv, &c->mu, deadline) && plat_now_ns() >= deadline)
            break;
    plat_atomic_add(&c->waiting, -1);
    return busy == 0;
}

/* Count a call out; wake the closers if it was the last and one waits. */
static void wfdx_leave(wfdx_client *c, uint32_t *count)
{
    if (plat_atomic_add(count, -1) == 0 && plat_atomic_load(&c->waiting)) {
        plat_mutex_lock(&c->mu);
        plat_cond_broadcast(&c->cv);
        plat_mutex_unlock(&c->mu);
    }
}

/* Count a call in, then check the client: refused once the state passed `until` (counted out
 * again: a closer may have seen the count and be waiting for it). */
static DWORD wfdx_enter(wfdx_client *c, uint32_t *count, uint32_t until)
{
    plat_atomic_add(count, 1);
    if (plat_atomic_load(&c->state) <= until)
        return 0;
    wfdx_leave(c, count);
    return WFDX_CLOSED;
}

static DWORD wfdx_begin_close(wfdx_client *c, uint32_t wait_ms)
{
    DWORD rc;
    plat_mutex_lock(&c->mu);
    if (plat_atomic_load(&c->state) == WFDX_OPEN)
        plat_atomic_store(&c->state, WFDX_CLOSING);
    rc = wfdx_wait_quiet(c, WFDX_WAIT_STARTS, wait_ms) ? 0 : WFDX_BUSY;
    plat_mutex_unlock(&c->mu);
    return rc;
}

static DWORD wfdx_wait_opens(wfdx_client *c, uint32_t wait_ms)
{
    DWORD rc;
    plat_mutex_lock(&c->mu);
    rc = wfdx_wait_quiet(c, WFDX_WAIT_OPENS, wait_ms) ? 0 : WFDX_BUSY;
    plat_mutex_unlock(&c->mu);
    return rc;
}

static DWORD wfdx_close_handle(wfdx_client *c, uint32_t wait_ms)
{
    HANDLE handle;
    plat_mutex_lock(&c->mu);
    if (c->handle == 0 || c->handle_closed) {
        plat_mutex_unlock(&c->mu);
        return WFDX_DONE;
    }
    plat_atomic_store(&c->state, WFDX_SHUT);
    if (!wfdx_wait_quiet(c, WFDX_WAIT_ALL, wait_ms)) {
        /* left open: late completions can still be cleaned up, and a later call may close it */
        plat_atomic_store(&c->state, WFDX_CLOSING);
        plat_mutex_unlock(&c->mu);
        return WFDX_BUSY;
    }
    c->handle_closed = 1;
    handle = (HANDLE)(uintptr_t)c->handle;
    plat_mutex_unlock(&c->mu);
    return WFDCloseHandle(handle);
}

static void wfdx_open_init(wfdx_open *op, wfdx_client *c, uint64_t token)
{
    memset(op, 0, sizeof *op);
    op->token = token;
    op->client = c;
    plat_mutex_init(&op->mu);
}

/* WFDCancelOpenSession, open mutex held, if the open is started, pending and not cancelled. */
static DWORD wfdx_issue_cancel(wfdx_open *op)
{
    DWORD rc;
    if (!op->started || op->completed || op->cancelled)
        return WFDX_DONE;
    if (wfdx_enter(op->client, &op->client->calls, WFDX_CLOSING) != 0)
        return WFDX_CLOSED;
    op->cancelled = 1;
    rc = WFDCancelOpenSession((HANDLE)(uintptr_t)op->session);
    wfdx_leave(op->client, &op->client->calls);
    return rc;
}

/* The WFD_OPEN_SESSION_COMPLETE_CALLBACK of every open: copy the arguments, count the open as
 * no longer pending, hand its token to Python. Nothing else: no WFD call from here. */
static void WINAPI wfdx_on_complete(HANDLE session, PVOID context, GUID guid, DWORD error,
                                    DWORD reason)
{
    wfdx_open *op = (wfdx_open *)context;
    wfdx_client *c = op->client;
    uint64_t token;
    int32_t orphaned;
    plat_mutex_lock(&op->mu); /* waits for a cancel in progress */
    op->session = (uint64_t)(uintptr_t)session;
    op->error = error;
    op->reason = reason;
    if (error == 0)
        memcpy(op->guid, &guid, sizeof op->guid);
    op->completed = 1;
    token = op->token;
    orphaned = op->orphaned;
    plat_mutex_unlock(&op->mu);
    wfdx_leave(c, &c->pending);
    wfdx_completed(token, orphaned);
}

/* The start of an open whose counts were entered (opening, pending): WFDStartOpenSession, then
 * its facts. A refusal is the open's outcome; `report` hands it to Python like a completion
 * (the starter's opens: nobody waits for the call itself). */
static DWORD wfdx_run_start(wfdx_open *op, int report)
{
    wfdx_client *c = op->client;
    HANDLE session = NULL;
    uint64_t token;
    int32_t orphaned;
    DWORD rc = WFDStartOpenSession((HANDLE)(uintptr_t)c->handle,
                                   (PDOT11_MAC_ADDRESS)op->address, op, wfdx_on_complete,
                                   &session);
    plat_mutex_lock(&op->mu);
    op->start_rc = rc;
    if (rc == 0) {
        op->session = (uint64_t)(uintptr_t)session;
        op->started = 1;
        if (op->cancel_wanted)
            (void)wfdx_issue_cancel(op); /* refused or not: the completion still comes */
    } else {
        op->error = rc; /* no callback will come: this is the outcome */
        op->completed = 1;
    }
    token = op->token;
    orphaned = op->orphaned;
    plat_mutex_unlock(&op->mu);
    if (rc != 0 && report)
        wfdx_completed(token, orphaned); /* before the counts: a closer sees it reported */
    if (rc != 0)
        wfdx_leave(c, &c->pending); /* no callback will come */
    wfdx_leave(c, &c->opening);
    return rc;
}

/* Count an open in (a start in flight, and pending until its callback); keep its address.
 * A refusal is recorded as the open's outcome. */
static DWORD wfdx_enter_start(wfdx_open *op, const char *address)
{
    wfdx_client *c = op->client;
    DWORD rc = wfdx_enter(c, &c->opening, WFDX_OPEN);
    if (rc == 0) {
        plat_atomic_add(&c->pending, 1); /* before the start: its callback may come first */
        memcpy(op->address, address, sizeof op->address);
        return 0;
    }
    plat_mutex_lock(&op->mu);
    op->start_rc = op->error = rc;
    op->completed = 1;
    plat_mutex_unlock(&op->mu);
    return rc;
}

static DWORD wfdx_start_open(wfdx_open *op, const char *address)
{
    DWORD rc = wfdx_enter_start(op, address);
    return rc ? rc : wfdx_run_start(op, 0);
}

/* ---- The starter: awaited opens' WFDStartOpenSession, off the event loop's thread ---------
 *
 * wfdx_start_queued() only queues the open (the queue is linked through the opens: no
 * allocation) and returns; starter threads make the native calls, without the GIL, and a
 * refusal reaches Python through wfdx_completed like a completion. A thread is started when
 * work arrives and none is idle (at most WFDX_STARTERS, so one slow call does not hold up the
 * rest); it ends after the idle time (wfdx_set_idle_ms) without work. In a forked child the
 * starter begins afresh: the parent's threads and queue are not there. */
#define WFDX_STARTERS 4

static struct {
    plat_mutex mu;
    plat_cond cv;
    wfdx_open *head, *tail;
    unsigned threads, idle, running;
    uint32_t idle_ms;
} wfdx_starter;
static plat_once_t wfdx_starter_once = PLAT_ONCE_INIT;

static void wfdx_starter_reset(void)
{
    plat_mutex_init(&wfdx_starter.mu);
    plat_cond_init(&wfdx_starter.cv);
    wfdx_starter.head = wfdx_starter.tail = NULL;
    wfdx_starter.threads = wfdx_starter.idle = wfdx_starter.running = 0;
}

#if !defined(_WIN32)
static void wfdx_starter_prepare(void) { plat_mutex_lock(&wfdx_starter.mu); }
static void wfdx_starter_parent(void) { plat_mutex_unlock(&wfdx_starter.mu); }
static void wfdx_starter_child(void) { wfdx_starter_reset(); }
#endif

static void wfdx_starter_init(void)
{
    wfdx_starter_reset();
    if (wfdx_starter.idle_ms == 0)
        wfdx_starter.idle_ms = 1000;
#if !defined(_WIN32)
    pthread_atfork(wfdx_starter_prepare, wfdx_starter_parent, wfdx_starter_child);
#endif
}

static void wfdx_starter_main(void *arg)
{
    (void)arg;
    plat_thread_name("wifidirect-start");
    /* A batch thread (Linux): woken, it does not preempt the event loop that queued the open,
     * so a burst of opens is queued before the starts run (at 1,000 in flight: 10-15% more
     * open->close cycles on one CPU). */
    plat_thread_batch();
    plat_mutex_lock(&wfdx_starter.mu);
    for (;;) {
        wfdx_open *op = wfdx_starter.head;
        if (op != NULL) {
            wfdx_starter.head = (wfdx_open *)op->next;
            if (wfdx_starter.head == NULL)
                wfdx_starter.tail = NULL;
            wfdx_starter.running++;
            plat_mutex_unlock(&wfdx_starter.mu);
            (void)wfdx_run_start(op, 1);
            plat_mutex_lock(&wfdx_starter.mu);
            wfdx_starter.running--;
            continue;
        }
        uint64_t deadline = plat_now_ns() + (uint64_t)wfdx_starter.idle_ms * 1000000u;
        int timed_out = 0;
        wfdx_starter.idle++;
        while (wfdx_starter.head == NULL && !timed_out)
            timed_out = plat_cond_timedwait(&wfdx_starter.cv, &wfdx_starter.mu, deadline) &&
                        plat_now_ns() >= deadline;
        wfdx_starter.idle--;
        if (wfdx_starter.head == NULL) {
            wfdx_starter.threads--;
            plat_mutex_unlock(&wfdx_starter.mu);
            return;
        }
    }
}

static DWORD wfdx_start_queued(wfdx_open *op, const char *address)
{
    DWORD rc = wfdx_enter_start(op, address);
    if (rc != 0)
        return rc;
    plat_once(&wfdx_starter_once, wfdx_starter_init);
    plat_mutex_lock(&wfdx_starter.mu);
    if (wfdx_starter.idle == 0 && wfdx_starter.threads < WFDX_STARTERS) {
        if (plat_thread_start(wfdx_starter_main, NULL) == 0)
            wfdx_starter.threads++;
    }
    if (wfdx_starter.threads == 0) { /* no thread could be started: refuse, like the API */
        plat_mutex_unlock(&wfdx_starter.mu);
        rc = 8; /* ERROR_NOT_ENOUGH_MEMORY */
        plat_mutex_lock(&op->mu);
        op->start_rc = op->error = rc;
        op->completed = 1;
        plat_mutex_unlock(&op->mu);
        wfdx_leave(op->client, &op->client->pending);
        wfdx_leave(op->client, &op->client->opening);
        return rc;
    }
    op->next = NULL;
    if (wfdx_starter.tail != NULL)
        wfdx_starter.tail->next = op;
    else
        wfdx_starter.head = op;
    wfdx_starter.tail = op;
    if (wfdx_starter.idle > 0)
        plat_cond_signal(&wfdx_starter.cv);
    plat_mutex_unlock(&wfdx_starter.mu);
    return 0;
}

static int wfdx_starters_busy(void)
{
    int busy;
    plat_once(&wfdx_starter_once, wfdx_starter_init);
    plat_mutex_lock(&wfdx_starter.mu);
    busy = wfdx_starter.head != NULL || wfdx_starter.running > 0;
    plat_mutex_unlock(&wfdx_starter.mu);
    return busy;
}

static void wfdx_set_idle_ms(uint32_t ms)
{
    plat_once(&wfdx_starter_once, wfdx_starter_init);
    plat_mutex_lock(&wfdx_starter.mu);
    wfdx_starter.idle_ms = ms;
    plat_mutex_unlock(&wfdx_starter.mu);
}

static DWORD wfdx_cancel_open(wfdx_open *op)
{
    DWORD rc;
    plat_mutex_lock(&op->mu);
    op->cancel_wanted = 1;
    rc = wfdx_issue_cancel(op);
    plat_mutex_unlock(&op->mu);
    return rc;
}

static int32_t wfdx_orphan(wfdx_open *op)
{
    int32_t completed;
    plat_mutex_lock(&op->mu);
    op->orphaned = 1;
    completed = op->completed;
    plat_mutex_unlock(&op->mu);
    return completed;
}

static DWORD wfdx_open_legacy(wfdx_open *op, const char *address)
{
    wfdx_client *c = op->client;
    HANDLE session = NULL;
    GUID guid;
    DWORD rc = wfdx_enter(c, &c->opening, WFDX_OPEN);
    int entered = rc == 0;
    memset(&guid, 0, sizeof guid);
    if (entered)
        rc = WFDOpenLegacySession((HANDLE)(uintptr_t)c->handle, (PDOT11_MAC_ADDRESS)address,
                                  &session, &guid);
    plat_mutex_lock(&op->mu);
    op->start_rc = op->error = rc;
    if (rc == 0) {
        op->session = (uint64_t)(uintptr_t)session;
        memcpy(op->guid, &guid, sizeof op->guid);
        op->started = 1;
    }
    op->completed = 1;
    plat_mutex_unlock(&op->mu);
    if (entered)
        wfdx_leave(c, &c->opening);
    return rc;
}

static DWORD wfdx_close_session(wfdx_open *op)
{
    DWORD rc;
    uint64_t session;
    if (wfdx_enter(op->client, &op->client->calls, WFDX_CLOSING) != 0)
        return WFDX_CLOSED; /* WFDCloseHandle closes the client's sessions */
    plat_mutex_lock(&op->mu);
    if (!op->completed)
        rc = WFDX_PENDING; /* rule 4: it would not close, and its handle is still pending */
    else if (op->closed || op->error != 0)
        rc = WFDX_DONE;
    else
        op->closed = 1, rc = 0;
    session = op->session;
    plat_mutex_unlock(&op->mu);
    if (rc == 0)
        rc = WFDCloseSession((HANDLE)(uintptr_t)session);
    wfdx_leave(op->client, &op->client->calls);
    return rc;
}

static DWORD wfdx_update_visibility(const char *address)
{
    return WFDUpdateDeviceVisibility((PDOT11_MAC_ADDRESS)address);
}
