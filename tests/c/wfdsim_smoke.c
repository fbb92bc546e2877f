// wfdsim_smoke.c: functional tests of the Wi-Fi Direct simulator, one check per rule.
//
// Build and run (from the repository root):
//   gcc -std=c11 -Wall -Wextra -Werror -pthread -Iinclude -Isrc/wfdsim -Isrc/common src/wfdsim/*.c src/common/platform.c tests/c/wfdsim_smoke.c -o /tmp/wfdsim_smoke
//   /tmp/wfdsim_smoke
// Prints every failed check and ends with "N passed, M failed"; exit status 0 iff M == 0.
#define _POSIX_C_SOURCE 200809L
#include "wfdsim_internal.h"

#include "backend.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (cond)                                                                          \
            passed++;                                                                      \
        else {                                                                             \
            failed++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);       \
        }                                                                                  \
    } while (0)
#define EQ(a, b) CHECK((uint64_t)(a) == (uint64_t)(b))

static DOT11_MAC_ADDRESS TV = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
static DOT11_MAC_ADDRESS PRINTER = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x02};
static DOT11_MAC_ADDRESS PROJECTOR = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x04};
static DOT11_MAC_ADDRESS SPEAKER = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x05};
static DOT11_MAC_ADDRESS UNKNOWN = {0x02, 0x00, 0x5e, 0x99, 0x99, 0x99};
static DOT11_MAC_ADDRESS SLOW = {0x02, 0x00, 0x5e, 0x20, 0x00, 0x01};   /* 0.3 s, success */
static DOT11_MAC_ADDRESS INSTANT = {0x02, 0x00, 0x5e, 0x20, 0x00, 0x02}; /* 0 s, success */
static DOT11_MAC_ADDRESS HIDDEN = {0x02, 0x00, 0x5e, 0x20, 0x00, 0x03};  /* not visible */
static DOT11_MAC_ADDRESS SLOWLEG = {0x02, 0x00, 0x5e, 0x20, 0x00, 0x04}; /* legacy, 0.3 s */

/* ---- a recording callback ---------------------------------------------------------------- */

enum { ACT_NONE, ACT_CLOSE_HANDLE, ACT_CLOSE_SESSION, ACT_RESET, ACT_WAIT_IDLE, ACT_CANCEL };

typedef struct rec {
    pthread_mutex_t m;
    pthread_cond_t cv;
    int count;
    HANDLE h;
    void *ctx;
    GUID guid;
    DWORD err, reason;
    pthread_t thread;
    int action;
    HANDLE client;          /* for ACT_CLOSE_HANDLE */
    DWORD action_rc;
    wfdsim_stats in_cb;     /* stats seen from inside the callback */
    volatile HANDLE *caller_slot; /* the caller's *phSession, read from the callback */
    HANDLE seen_in_slot;
} rec;

static void rec_init(rec *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->m, NULL);
    pthread_cond_init(&r->cv, NULL);
}

static void rec_free(rec *r)
{
    pthread_mutex_destroy(&r->m);
    pthread_cond_destroy(&r->cv);
}

static void WINAPI on_complete(HANDLE h, PVOID ctx, GUID guid, DWORD err, DWORD reason)
{
    rec *r = ctx;
    DWORD arc = 0;
    wfdsim_stats st;
    wfdsim_get_stats(&st);
    switch (r->action) {
    case ACT_CLOSE_HANDLE: arc = WFDCloseHandle(r->client); break;
    case ACT_CLOSE_SESSION: arc = WFDCloseSession(h); break;
    case ACT_RESET: wfdsim_reset(); break;
    case ACT_WAIT_IDLE: arc = (DWORD)wfdsim_wait_idle(100); break;
    case ACT_CANCEL: arc = WFDCancelOpenSession(h); break;
    default: break;
    }
    pthread_mutex_lock(&r->m);
    r->in_cb = st;
    r->action_rc = arc;
    r->h = h;
    r->ctx = ctx;
    r->guid = guid;
    r->err = err;
    r->reason = reason;
    r->thread = pthread_self();
    r->seen_in_slot = r->caller_slot ? *r->caller_slot : NULL;
    r->count++;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->m);
}

static int rec_wait(rec *r, int count, double seconds)
{
    uint64_t deadline = plat_now_ns() + (uint64_t)(seconds * 1e9);
    int ok;
    pthread_mutex_lock(&r->m);
    while (r->count < count && plat_now_ns() < deadline) {
        pthread_mutex_unlock(&r->m);
        plat_sleep_ns(1000000);
        pthread_mutex_lock(&r->m);
    }
    ok = r->count >= count;
    pthread_mutex_unlock(&r->m);
    return ok;
}

static int rec_count(rec *r)
{
    int n;
    pthread_mutex_lock(&r->m);
    n = r->count;
    pthread_mutex_unlock(&r->m);
    return n;
}

static wfdsim_stats stats(void)
{
    wfdsim_stats st;
    wfdsim_get_stats(&st);
    return st;
}

static void add_peer(const unsigned char *addr, const char *name, int paired, int legacy,
                     int visible, double latency, DWORD error, DWORD reason)
{
    wfdsim_peer p;
    memset(&p, 0, sizeof p);
    memcpy(p.address, addr, 6);
    snprintf(p.name, sizeof p.name, "%s", name);
    p.paired = paired;
    p.legacy = legacy;
    p.visible = visible;
    p.latency = latency;
    p.error = error;
    p.reason = reason;
    CHECK(wfdsim_add_peer(&p) == 0);
}

/* Fresh simulator with the test peers added. */
static void fresh(void)
{
    wfdsim_reset();
    add_peer(SLOW, "Slow", 1, 0, 1, 0.3, 0, 0);
    add_peer(INSTANT, "Instant", 1, 0, 1, 0.0, 0, 0);
    add_peer(HIDDEN, "Hidden", 1, 1, 0, 0.01, 0, 0);
    add_peer(SLOWLEG, "Slow legacy", 1, 1, 1, 0.3, 0, 0);
}

static HANDLE open_client(void)
{
    DWORD v = 0;
    HANDLE h = NULL;
    EQ(WFDOpenHandle(WFD_API_VERSION, &v, &h), 0);
    EQ(v, 1);
    CHECK(h != NULL);
    return h;
}

/* Start an open and wait for its callback; returns the session handle. */
static HANDLE open_and_wait(HANDLE hc, PDOT11_MAC_ADDRESS addr, rec *r)
{
    HANDLE hs = NULL;
    int before = rec_count(r);
    EQ(WFDStartOpenSession(hc, addr, r, on_complete, &hs), 0);
    CHECK(hs != NULL);
    CHECK(rec_wait(r, before + 1, 5.0));
    CHECK(r->h == hs);
    return hs;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_names_and_defaults(void)
{
    wfdsim_peer p;
    wfdsim_stats st;
    static const char *names[5] = {"Living Room TV", "Office Printer", "Pixel Phone",
                                   "Meeting Room Projector", "Neighbour's Speaker"};
    uint32_t i;
    CHECK(strcmp(wfdsim_violation_name(0), "stale_handle") == 0);
    CHECK(strcmp(wfdsim_violation_name(1), "close_session_while_pending") == 0);
    CHECK(strcmp(wfdsim_violation_name(2), "close_handle_in_callback") == 0);
    CHECK(wfdsim_violation_name(3) == NULL);
    CHECK(wfdsim_violation_name(-1) == NULL);

    wfdsim_reset();
    st = stats();
    EQ(st.clients + st.sessions + st.pending_opens + st.callbacks_delivered + st.violations, 0);
    EQ(wfdsim_peer_count(), 5);
    EQ(wfdsim_get_handle_limit(), 64);
    for (i = 0; i < 5; i++) {
        EQ(wfdsim_get_peer_at(i, &p), 0);
        CHECK(strcmp(p.name, names[i]) == 0);
        EQ(p.address[5], i + 1);
        EQ(p.paired, i != 4);
        EQ(p.legacy, i == 1);
        EQ(p.visible, 1);
        EQ(p.node_visible, 1);
        EQ(p.visibility_updates, 0);
    }
    EQ(wfdsim_get_peer_at(0, &p), 0);
    CHECK(fabs(p.latency - 0.020) < 1e-12);
    EQ(wfdsim_get_peer_at(3, &p), 0);
    EQ(p.error, 1460);
    EQ(p.reason, 9);
    EQ(wfdsim_get_peer_at(5, &p), WFDSIM_ERROR_NOT_FOUND);
    EQ(wfdsim_get_peer_at(0, NULL), WFDSIM_ERROR_INVALID_PARAMETER);
}

static void test_open_handle(void)
{
    DWORD v = 0;
    HANDLE h1 = NULL, h2 = NULL, h3;
    uint32_t i;
    HANDLE hs[3];
    wfdsim_reset();
    EQ(WFDOpenHandle(WFD_API_VERSION, NULL, &h1), WFDSIM_ERROR_INVALID_PARAMETER);
    EQ(WFDOpenHandle(WFD_API_VERSION, &v, NULL), WFDSIM_ERROR_INVALID_PARAMETER);
    EQ(WFDOpenHandle(2, &v, &h1), WFDSIM_ERROR_INVALID_PARAMETER);
    EQ(WFDOpenHandle(0, &v, &h1), WFDSIM_ERROR_INVALID_PARAMETER);
    EQ(stats().clients, 0);
    h1 = open_client();
    h2 = open_client();
    h3 = open_client();
    CHECK(h1 != h2 && h2 != h3 && h1 != h3);
    CHECK(h1 != (HANDLE)(intptr_t)-1 && h2 != (HANDLE)(intptr_t)-1);
    /* not sequential: successive handles are not a constant stride apart */
    CHECK((uintptr_t)h2 - (uintptr_t)h1 != (uintptr_t)h3 - (uintptr_t)h2);
    EQ(stats().clients, 3);
    EQ(WFDCloseHandle(h1), 0);
    EQ(WFDCloseHandle(h2), 0);
    EQ(WFDCloseHandle(h3), 0);
    EQ(stats().clients, 0);
    EQ(stats().violations, 0);

    /* the handle limit */
    wfdsim_set_handle_limit(2);
    EQ(wfdsim_get_handle_limit(), 2);
    for (i = 0; i < 2; i++)
        hs[i] = open_client();
    EQ(WFDOpenHandle(WFD_API_VERSION, &v, &hs[2]), WFDSIM_ERROR_REMOTE_SESSION_LIMIT_EXCEEDED);
    EQ(WFDCloseHandle(hs[0]), 0);
    hs[2] = open_client();
    wfdsim_set_handle_limit(0);
    EQ(WFDOpenHandle(WFD_API_VERSION, &v, &hs[0]), WFDSIM_ERROR_REMOTE_SESSION_LIMIT_EXCEEDED);
    wfdsim_set_handle_limit(64);
    EQ(WFDCloseHandle(hs[1]), 0);
    EQ(WFDCloseHandle(hs[2]), 0);

    /* a stopped service refuses a new handle, as the real service most likely does
     * (docs/simulator.md); an existing handle stays valid and closes */
    h1 = open_client();
    wfdsim_set_service_running(0);
    h2 = NULL;
    EQ(WFDOpenHandle(WFD_API_VERSION, &v, &h2), WFDSIM_ERROR_SERVICE_NOT_ACTIVE);
    CHECK(h2 == NULL);
    EQ(WFDCloseHandle(h1), 0);
    wfdsim_set_service_running(1);
    EQ(stats().violations, 0);
}

static void test_handle_classes(void)
{
    HANDLE hc, hs = NULL;
    rec r;
    wfdsim_stats st;
    rec_init(&r);
    fresh();
    hc = open_client();
    /* NULL -> 87 everywhere */
    EQ(WFDCloseHandle(NULL), WFDSIM_ERROR_INVALID_PARAMETER);
    EQ(WFDCloseSession(NULL), WFDSIM_ERROR_INVALID_PARAMETER);
    EQ(WFDCancelOpenSession(NULL), WFDSIM_ERROR_INVALID_PARAMETER);
    EQ(WFDStartOpenSession(NULL, &TV, &r, on_complete, &hs), WFDSIM_ERROR_INVALID_PARAMETER);
    EQ(WFDStartOpenSession(hc, NULL, &r, on_complete, &hs), WFDSIM_ERROR_INVALID_PARAMETER);
    EQ(WFDStartOpenSession(hc, &TV, &r, NULL, &hs), WFDSIM_ERROR_INVALID_PARAMETER);
    EQ(WFDStartOpenSession(hc, &TV, &r, on_complete, NULL), WFDSIM_ERROR_INVALID_PARAMETER);
    EQ(WFDUpdateDeviceVisibility(NULL), WFDSIM_ERROR_INVALID_PARAMETER);
    /* never issued, wrong type, INVALID_HANDLE_VALUE: 6 without violation */
    EQ(WFDCloseHandle((HANDLE)(uintptr_t)0x1234), WFDSIM_ERROR_INVALID_HANDLE);
    EQ(WFDCloseHandle((HANDLE)(intptr_t)-1), WFDSIM_ERROR_INVALID_HANDLE);
    EQ(WFDCloseSession(hc), WFDSIM_ERROR_INVALID_HANDLE);
    EQ(WFDCancelOpenSession(hc), WFDSIM_ERROR_INVALID_HANDLE);
    hs = open_and_wait(hc, &INSTANT, &r);
    EQ(WFDCloseHandle(hs), WFDSIM_ERROR_INVALID_HANDLE);
    EQ(WFDStartOpenSession(hs, &TV, &r, on_complete, &hs), WFDSIM_ERROR_INVALID_HANDLE);
    EQ(stats().violations, 0);
    /* stale: 6 and a violation */
    EQ(WFDCloseSession(hs), 0);
    EQ(WFDCloseSession(hs), WFDSIM_ERROR_INVALID_HANDLE);
    EQ(WFDCancelOpenSession(hs), WFDSIM_ERROR_INVALID_HANDLE);
    EQ(WFDCloseHandle(hc), 0);
    EQ(WFDCloseHandle(hc), WFDSIM_ERROR_INVALID_HANDLE);
    EQ(WFDStartOpenSession(hc, &TV, &r, on_complete, &hs), WFDSIM_ERROR_INVALID_HANDLE);
    st = stats();
    EQ(st.violations, 4);
    EQ(st.violations_by_kind[WFDSIM_VIOLATION_STALE_HANDLE], 4);
    EQ(st.violations_by_kind[1] + st.violations_by_kind[2], 0);
    CHECK(wfdsim_wait_idle(2000));
    rec_free(&r);
}

static void test_open_success(void)
{
    HANDLE hc, hs = NULL;
    rec r;
    wfdsim_stats st;
    uint64_t t0;
    rec_init(&r);
    fresh();
    hc = open_client();
    t0 = plat_now_ns();
    EQ(WFDStartOpenSession(hc, &SLOW, &r, on_complete, &hs), 0);
    st = stats();
    EQ(st.pending_opens, 1);
    EQ(st.sessions, 0);
    CHECK(rec_wait(&r, 1, 5.0));
    CHECK(plat_now_ns() - t0 >= 290000000u); /* latency 0.3 s */
    CHECK(r.h == hs);
    CHECK(r.ctx == &r);
    EQ(r.err, 0);
    EQ(r.reason, 0);
    CHECK(!pthread_equal(r.thread, pthread_self()));
    EQ(r.guid.Data3 >> 12, 4);
    EQ(r.guid.Data4[0] >> 6, 2);
    EQ(r.in_cb.sessions, 1);      /* counted from just before the callback */
    EQ(r.in_cb.pending_opens, 1); /* ... and pending until it returns */
    CHECK(wfdsim_wait_idle(2000));
    st = stats();
    EQ(st.pending_opens, 0);
    EQ(st.sessions, 1);
    EQ(st.callbacks_delivered, 1);
    /* a second success has a different GUID */
    {
        rec r2;
        rec_init(&r2);
        (void)open_and_wait(hc, &TV, &r2);
        CHECK(memcmp(&r2.guid, &r.guid, sizeof r.guid) != 0);
        CHECK(wfdsim_wait_idle(2000));
        EQ(stats().sessions, 2);
        rec_free(&r2);
    }
    /* cancel of an open session: harmless no-op */
    EQ(WFDCancelOpenSession(hs), 0);
    EQ(stats().sessions, 2);
    /* close: handle invalid at once, the worker ends it */
    EQ(WFDCloseSession(hs), 0);
    CHECK(wfdsim_wait_idle(2000));
    EQ(stats().sessions, 1);
    EQ(WFDCloseHandle(hc), 0); /* closes the other session */
    CHECK(wfdsim_wait_idle(2000));
    st = stats();
    EQ(st.sessions, 0);
    EQ(st.clients, 0);
    EQ(st.violations, 0);
    rec_free(&r);
}

static void expect_outcome(HANDLE hc, PDOT11_MAC_ADDRESS addr, DWORD err, DWORD reason)
{
    rec r;
    HANDLE hs;
    rec_init(&r);
    hs = open_and_wait(hc, addr, &r);
    EQ(r.err, err);
    EQ(r.reason, reason);
    CHECK(wfdsim_wait_idle(2000));
    if (err != 0) { /* a failed open's handle is stale after its callback */
        uint64_t v = stats().violations;
        EQ(WFDCloseSession(hs), WFDSIM_ERROR_INVALID_HANDLE);
        EQ(stats().violations, v + 1);
    } else {
        EQ(WFDCloseSession(hs), 0);
    }
    rec_free(&r);
}

static void test_outcomes(void)
{
    HANDLE hc, hs = (HANDLE)(uintptr_t)0x77;
    rec r;
    uint64_t t0;
    rec_init(&r);
    fresh();
    hc = open_client();
    expect_outcome(hc, &INSTANT, 0, 0);
    t0 = plat_now_ns();
    expect_outcome(hc, &UNKNOWN, WFDSIM_ERROR_NOT_FOUND, WFDSIM_REASON_PEER_UNKNOWN);
    CHECK(plat_now_ns() - t0 < 200000000u);
    expect_outcome(hc, &SPEAKER, WFDSIM_ERROR_NOT_AUTHENTICATED, WFDSIM_REASON_NOT_PAIRED);
    expect_outcome(hc, &HIDDEN, WFDSIM_ERROR_TIMEOUT, WFDSIM_REASON_NOT_VISIBLE);
    expect_outcome(hc, &PROJECTOR, WFDSIM_ERROR_TIMEOUT, 9);

    /* synchronous failures: no callback, no handle */
    wfdsim_set_service_running(0);
    EQ(WFDStartOpenSession(hc, &TV, &r, on_complete, &hs), WFDSIM_ERROR_SERVICE_NOT_ACTIVE);
    wfdsim_set_service_running(1);
    wfdsim_set_group_policy_disabled(1);
    EQ(WFDStartOpenSession(hc, &TV, &r, on_complete, &hs), WFDSIM_ERROR_INVALID_STATE);
    wfdsim_set_group_policy_disabled(0);
    CHECK(hs == (HANDLE)(uintptr_t)0x77);
    CHECK(wfdsim_wait_idle(2000));
    EQ(rec_count(&r), 0);
    EQ(stats().pending_opens, 0);

    /* decided at delivery: service stopped / policy disabled meanwhile */
    EQ(WFDStartOpenSession(hc, &SLOW, &r, on_complete, &hs), 0);
    wfdsim_set_service_running(0);
    CHECK(rec_wait(&r, 1, 5.0));
    EQ(r.err, WFDSIM_ERROR_SERVICE_NOT_ACTIVE);
    EQ(r.reason, WFDSIM_REASON_SERVICE_STOPPED);
    wfdsim_set_service_running(1);
    EQ(WFDStartOpenSession(hc, &SLOW, &r, on_complete, &hs), 0);
    wfdsim_set_group_policy_disabled(1);
    CHECK(rec_wait(&r, 2, 5.0));
    EQ(r.err, WFDSIM_ERROR_INVALID_STATE);
    EQ(r.reason, WFDSIM_REASON_POLICY_DISABLED);
    wfdsim_set_group_policy_disabled(0);
    /* a peer reconfigured meanwhile: the outcome is the one at delivery */
    EQ(WFDStartOpenSession(hc, &SLOW, &r, on_complete, &hs), 0);
    add_peer(SLOW, "Slow", 0, 0, 1, 0.3, 0, 0);
    CHECK(rec_wait(&r, 3, 5.0));
    EQ(r.err, WFDSIM_ERROR_NOT_AUTHENTICATED);
    EQ(WFDCloseHandle(hc), 0);
    CHECK(wfdsim_wait_idle(2000));
    EQ(stats().violations, 4); /* the four failed handles closed by expect_outcome */
    rec_free(&r);
}

static void test_cancel_and_close_pending(void)
{
    HANDLE hc, hs = NULL;
    rec r;
    wfdsim_stats st;
    uint64_t t0;
    rec_init(&r);
    fresh();
    hc = open_client();
    /* closing a pending session: violation, it stays pending and completes */
    EQ(WFDStartOpenSession(hc, &SLOW, &r, on_complete, &hs), 0);
    EQ(WFDCloseSession(hs), 0);
    st = stats();
    EQ(st.violations_by_kind[WFDSIM_VIOLATION_CLOSE_SESSION_PENDING], 1);
    EQ(st.pending_opens, 1);
    CHECK(rec_wait(&r, 1, 5.0));
    EQ(r.err, 0);
    EQ(WFDCloseSession(hs), 0);
    /* cancel: the callback still comes, on a worker, soon */
    t0 = plat_now_ns();
    EQ(WFDStartOpenSession(hc, &SLOW, &r, on_complete, &hs), 0);
    EQ(WFDCancelOpenSession(hs), 0);
    CHECK(rec_wait(&r, 2, 5.0));
    CHECK(plat_now_ns() - t0 < 250000000u);
    EQ(r.err, WFDSIM_ERROR_CANCELLED);
    EQ(r.reason, WFDSIM_REASON_CANCELLED);
    CHECK(!pthread_equal(r.thread, pthread_self()));
    CHECK(wfdsim_wait_idle(2000));
    EQ(WFDCancelOpenSession(hs), WFDSIM_ERROR_INVALID_HANDLE); /* stale now */
    /* cancel from inside the callback (delivering): no effect */
    r.action = ACT_CANCEL;
    hs = open_and_wait(hc, &INSTANT, &r);
    EQ(r.action_rc, 0);
    EQ(r.err, 0);
    /* close from inside the session's own success callback: allowed */
    r.action = ACT_CLOSE_SESSION;
    hs = open_and_wait(hc, &INSTANT, &r);
    EQ(r.action_rc, 0);
    CHECK(wfdsim_wait_idle(2000));
    st = stats();
    EQ(st.sessions, 1); /* the first INSTANT one */
    EQ(st.violations, 2);
    EQ(WFDCloseHandle(hc), 0);
    CHECK(wfdsim_wait_idle(2000));
    EQ(stats().sessions, 0);
    rec_free(&r);
}

static void test_legacy(void)
{
    HANDLE hc, hs = NULL;
    GUID id;
    wfdsim_stats st;
    uint64_t t0;
    fresh();
    hc = open_client();
    EQ(WFDOpenLegacySession(NULL, &PRINTER, &hs, &id), WFDSIM_ERROR_INVALID_PARAMETER);
    EQ(WFDOpenLegacySession(hc, NULL, &hs, &id), WFDSIM_ERROR_INVALID_PARAMETER);
    EQ(WFDOpenLegacySession(hc, &PRINTER, NULL, &id), WFDSIM_ERROR_INVALID_PARAMETER);
    EQ(WFDOpenLegacySession(hc, &PRINTER, &hs, NULL), WFDSIM_ERROR_INVALID_PARAMETER);
    EQ(WFDOpenLegacySession(hc, &TV, &hs, &id), WFDSIM_ERROR_NOT_FOUND);
    EQ(WFDOpenLegacySession(hc, &SPEAKER, &hs, &id), WFDSIM_ERROR_NOT_FOUND);
    EQ(WFDOpenLegacySession(hc, &UNKNOWN, &hs, &id), WFDSIM_ERROR_NOT_FOUND);
    EQ(WFDOpenLegacySession(hc, &HIDDEN, &hs, &id), WFDSIM_ERROR_TIMEOUT);
    wfdsim_set_service_running(0);
    EQ(WFDOpenLegacySession(hc, &PRINTER, &hs, &id), WFDSIM_ERROR_SERVICE_NOT_ACTIVE);
    wfdsim_set_service_running(1);
    wfdsim_set_group_policy_disabled(1);
    EQ(WFDOpenLegacySession(hc, &PRINTER, &hs, &id), WFDSIM_ERROR_INVALID_STATE);
    wfdsim_set_group_policy_disabled(0);
    add_peer(PRINTER, "Office Printer", 1, 1, 1, 0.010, 1234, 5);
    EQ(WFDOpenLegacySession(hc, &PRINTER, &hs, &id), 1234);
    add_peer(PRINTER, "Office Printer", 1, 1, 1, 0.010, 0, 0);
    EQ(stats().sessions, 0);
    memset(&id, 0, sizeof id);
    t0 = plat_now_ns();
    EQ(WFDOpenLegacySession(hc, &PRINTER, &hs, &id), 0);
    CHECK(plat_now_ns() - t0 >= 8000000u);
    CHECK(hs != NULL);
    EQ(id.Data3 >> 12, 4);
    st = stats();
    EQ(st.sessions, 1);
    EQ(st.pending_opens, 0);
    EQ(st.callbacks_delivered, 0);
    EQ(WFDCancelOpenSession(hs), 0);
    EQ(WFDCloseSession(hs), 0);
    CHECK(wfdsim_wait_idle(2000));
    EQ(stats().sessions, 0);
    /* a legacy session is closed by WFDCloseHandle too */
    EQ(WFDOpenLegacySession(hc, &PRINTER, &hs, &id), 0);
    EQ(stats().sessions, 1);
    EQ(WFDCloseHandle(hc), 0);
    CHECK(wfdsim_wait_idle(2000));
    EQ(stats().sessions, 0);
    EQ(WFDOpenLegacySession(hc, &PRINTER, &hs, &id), WFDSIM_ERROR_INVALID_HANDLE);
    EQ(stats().violations, 1);
}

static void *legacy_thread(void *arg)
{
    HANDLE *hc = arg;
    HANDLE hs;
    GUID id;
    return (void *)(uintptr_t)WFDOpenLegacySession(*hc, &SLOWLEG, &hs, &id);
}

static void test_legacy_client_closed_while_sleeping(void)
{
    HANDLE hc;
    pthread_t th;
    void *ret;
    fresh();
    hc = open_client();
    pthread_create(&th, NULL, legacy_thread, &hc);
    plat_sleep_ns(100000000u);
    EQ(WFDCloseHandle(hc), 0);
    pthread_join(th, &ret);
    EQ((uintptr_t)ret, WFDSIM_ERROR_INVALID_HANDLE);
    EQ(stats().violations, 0);
    EQ(stats().sessions, 0);
}

static void test_visibility(void)
{
    wfdsim_peer p;
    fresh();
    EQ(WFDUpdateDeviceVisibility(&UNKNOWN), WFDSIM_ERROR_NOT_FOUND);
    EQ(WFDUpdateDeviceVisibility(&SPEAKER), WFDSIM_ERROR_NOT_FOUND);
    EQ(WFDUpdateDeviceVisibility(&TV), 0);
    EQ(wfdsim_get_peer(TV, &p), 0);
    EQ(p.visibility_updates, 1);
    EQ(p.node_visible, 1);
    add_peer(TV, "Living Room TV", 1, 0, 0, 0.020, 0, 0); /* moved out of range */
    EQ(wfdsim_get_peer(TV, &p), 0);
    EQ(p.node_visible, 1); /* kept until updated */
    EQ(p.visibility_updates, 1);
    EQ(WFDUpdateDeviceVisibility(&TV), 0);
    EQ(wfdsim_get_peer(TV, &p), 0);
    EQ(p.node_visible, 0);
    EQ(p.visibility_updates, 2);
    wfdsim_set_service_running(0);
    EQ(WFDUpdateDeviceVisibility(&TV), WFDSIM_ERROR_SERVICE_NOT_ACTIVE);
    wfdsim_set_service_running(1);
    EQ(wfdsim_get_peer(HIDDEN, &p), 0);
    EQ(p.node_visible, 0); /* a new peer starts with node_visible = visible */
}

static void test_peers(void)
{
    wfdsim_peer p;
    uint32_t n;
    fresh();
    n = wfdsim_peer_count();
    EQ(n, 9);
    EQ(wfdsim_add_peer(NULL), WFDSIM_ERROR_INVALID_PARAMETER);
    memset(&p, 0, sizeof p);
    memcpy(p.address, UNKNOWN, 6);
    p.latency = -1.0;
    EQ(wfdsim_add_peer(&p), WFDSIM_ERROR_INVALID_PARAMETER);
    p.latency = NAN;
    EQ(wfdsim_add_peer(&p), WFDSIM_ERROR_INVALID_PARAMETER);
    p.latency = INFINITY;
    EQ(wfdsim_add_peer(&p), WFDSIM_ERROR_INVALID_PARAMETER);
    EQ(wfdsim_peer_count(), n);
    p.latency = 0.5;
    memset(p.name, 'x', sizeof p.name); /* not NUL-terminated */
    p.paired = 7;
    p.node_visible = 1;          /* ignored */
    p.visibility_updates = 99;   /* ignored */
    EQ(wfdsim_add_peer(&p), 0);
    EQ(wfdsim_peer_count(), n + 1);
    memset(&p, 0, sizeof p);
    EQ(wfdsim_get_peer(UNKNOWN, &p), 0);
    EQ(strlen(p.name), 63);
    EQ(p.paired, 1);
    EQ(p.node_visible, 0);
    EQ(p.visibility_updates, 0);
    EQ(wfdsim_get_peer_at(n, &p), 0);
    EQ(memcmp(p.address, UNKNOWN, 6), 0);
    /* replacing keeps the position */
    add_peer(TV, "Renamed", 1, 0, 1, 0.1, 0, 0);
    EQ(wfdsim_get_peer_at(0, &p), 0);
    CHECK(strcmp(p.name, "Renamed") == 0);
    EQ(wfdsim_peer_count(), n + 1);
    EQ(wfdsim_remove_peer(TV), 0);
    EQ(wfdsim_remove_peer(TV), WFDSIM_ERROR_NOT_FOUND);
    EQ(wfdsim_remove_peer(NULL), WFDSIM_ERROR_INVALID_PARAMETER);
    EQ(wfdsim_get_peer(TV, &p), WFDSIM_ERROR_NOT_FOUND);
    EQ(wfdsim_get_peer(NULL, &p), WFDSIM_ERROR_INVALID_PARAMETER);
    EQ(wfdsim_get_peer_at(0, &p), 0);
    CHECK(strcmp(p.name, "Office Printer") == 0); /* order kept */
    wfdsim_reset();
    EQ(wfdsim_peer_count(), 5);
    EQ(wfdsim_get_peer(UNKNOWN, &p), WFDSIM_ERROR_NOT_FOUND);
    EQ(wfdsim_get_peer(TV, &p), 0);
    CHECK(strcmp(p.name, "Living Room TV") == 0);
}

static void test_injection(void)
{
    HANDLE hc, h = NULL;
    DWORD v = 0;
    GUID id;
    rec r;
    rec_init(&r);
    fresh();
    EQ(wfdsim_inject_error(-1, 5), WFDSIM_ERROR_INVALID_PARAMETER);
    EQ(wfdsim_inject_error(WFDSIM_FN_COUNT, 5), WFDSIM_ERROR_INVALID_PARAMETER);
    EQ(wfdsim_inject_error(WFDSIM_FN_OPEN_HANDLE, 1722), 0);
    EQ(WFDOpenHandle(WFD_API_VERSION, &v, &h), 1722);
    CHECK(h == NULL);
    EQ(stats().clients, 0);
    hc = open_client(); /* disarmed after one use */
    /* checked before argument validation */
    EQ(wfdsim_inject_error(WFDSIM_FN_CLOSE_HANDLE, 1722), 0);
    EQ(WFDCloseHandle(NULL), 1722);
    EQ(wfdsim_inject_error(WFDSIM_FN_START_OPEN_SESSION, 1722), 0);
    EQ(WFDStartOpenSession(hc, &TV, &r, on_complete, &h), 1722);
    EQ(stats().pending_opens, 0);
    EQ(wfdsim_inject_error(WFDSIM_FN_CANCEL_OPEN_SESSION, 1722), 0);
    EQ(WFDCancelOpenSession(NULL), 1722);
    EQ(wfdsim_inject_error(WFDSIM_FN_OPEN_LEGACY_SESSION, 1722), 0);
    EQ(WFDOpenLegacySession(hc, &PRINTER, &h, &id), 1722);
    EQ(stats().sessions, 0);
    EQ(wfdsim_inject_error(WFDSIM_FN_CLOSE_SESSION, 1722), 0);
    EQ(WFDCloseSession(NULL), 1722);
    EQ(wfdsim_inject_error(WFDSIM_FN_UPDATE_DEVICE_VISIBILITY, 1722), 0);
    EQ(WFDUpdateDeviceVisibility(&TV), 1722);
    EQ(wfdsim_inject_error(WFDSIM_FN_CLOSE_HANDLE, 1722), 0);
    EQ(wfdsim_inject_error(WFDSIM_FN_CLOSE_HANDLE, 0), 0); /* 0 clears */
    EQ(WFDCloseHandle(hc), 0);
    /* reset clears armed errors */
    EQ(wfdsim_inject_error(WFDSIM_FN_OPEN_HANDLE, 1722), 0);
    wfdsim_reset();
    hc = open_client();
    EQ(WFDCloseHandle(hc), 0);
    CHECK(wfdsim_wait_idle(2000));
    EQ(rec_count(&r), 0);
    EQ(stats().violations, 0);
    rec_free(&r);
}

static void test_allocation_failures(void)
{
    HANDLE hc, h = NULL, hs;
    DWORD v;
    GUID id;
    rec r;
    wfdsim_peer p;
    uint32_t k, n;
    wfdsim_stats st;
    rec_init(&r);
    fresh();
    wfdsim_fail_allocations(1);
    EQ(WFDOpenHandle(WFD_API_VERSION, &v, &h), WFDSIM_ERROR_NOT_ENOUGH_MEMORY);
    CHECK(h == NULL);
    EQ(stats().clients, 0);
    hc = open_client();
    wfdsim_fail_allocations(1);
    EQ(WFDStartOpenSession(hc, &INSTANT, &r, on_complete, &h), WFDSIM_ERROR_NOT_ENOUGH_MEMORY);
    EQ(stats().pending_opens, 0);
    wfdsim_fail_allocations(1);
    EQ(WFDOpenLegacySession(hc, &PRINTER, &h, &id), WFDSIM_ERROR_NOT_ENOUGH_MEMORY);
    EQ(stats().sessions, 0);
    /* many opens so that the tables grow, with failures sprinkled in: no leaks, no effect */
    for (k = 0; k < 200; k++) {
        DWORD rc;
        wfdsim_fail_allocations(k % 3 == 0 ? 1 : 0);
        rc = WFDStartOpenSession(hc, &INSTANT, &r, on_complete, &hs);
        CHECK(rc == 0 || rc == WFDSIM_ERROR_NOT_ENOUGH_MEMORY);
    }
    CHECK(wfdsim_wait_idle(5000));
    st = stats();
    EQ(st.callbacks_delivered, (uint64_t)rec_count(&r));
    EQ(st.sessions, (uint64_t)rec_count(&r));
    wfdsim_fail_allocations(1000);
    EQ(WFDCloseHandle(hc), 0); /* closing never allocates */
    wfdsim_fail_allocations(0);
    CHECK(wfdsim_wait_idle(5000));
    EQ(stats().sessions, 0);
    /* the peer table */
    n = wfdsim_peer_count();
    for (k = 0; k < 40; k++) {
        memset(&p, 0, sizeof p);
        p.address[0] = 0x06;
        p.address[5] = (unsigned char)k;
        wfdsim_fail_allocations(1);
        v = wfdsim_add_peer(&p);
        CHECK(v == 0 || v == WFDSIM_ERROR_NOT_ENOUGH_MEMORY);
        if (v != 0)
            EQ(wfdsim_add_peer(&p), 0);
    }
    wfdsim_fail_allocations(0);
    EQ(wfdsim_peer_count(), n + 40);
    EQ(stats().violations, 0);
    rec_free(&r);
}

typedef struct closer_arg {
    HANDLE hc;
    DWORD rc;
    uint64_t done_ns;
} closer_arg;

static void *closer_thread(void *arg)
{
    closer_arg *a = arg;
    a->rc = WFDCloseHandle(a->hc);
    a->done_ns = plat_now_ns();
    return NULL;
}

static void test_close_handle_waits(void)
{
    HANDLE hc, hs = NULL, hs2 = NULL;
    rec r, r2;
    uint64_t t0;
    pthread_t th;
    closer_arg a;
    wfdsim_stats st;
    rec_init(&r);
    rec_init(&r2);
    fresh();
    hc = open_client();
    hs2 = open_and_wait(hc, &INSTANT, &r2); /* an open session */
    t0 = plat_now_ns();
    EQ(WFDStartOpenSession(hc, &SLOW, &r, on_complete, &hs), 0);
    a.hc = hc;
    a.rc = 99;
    pthread_create(&th, NULL, closer_thread, &a);
    plat_sleep_ns(80000000u);
    /* while closing: new opens and a second close get 6 without violation */
    EQ(WFDStartOpenSession(hc, &TV, &r, on_complete, &hs2), WFDSIM_ERROR_INVALID_HANDLE);
    EQ(WFDCloseHandle(hc), WFDSIM_ERROR_INVALID_HANDLE);
    EQ(stats().violations, 0);
    EQ(stats().clients, 1);
    pthread_join(th, NULL);
    EQ(a.rc, 0);
    CHECK(a.done_ns - t0 >= 250000000u); /* waited for the 0.3 s completion */
    EQ(rec_count(&r), 1);                 /* whose callback had returned */
    EQ(r.err, 0);
    CHECK(wfdsim_wait_idle(2000));
    st = stats();
    EQ(st.clients, 0);
    EQ(st.sessions, 0);
    EQ(st.pending_opens, 0);
    EQ(st.violations, 0);
    EQ(WFDCloseSession(hs), WFDSIM_ERROR_INVALID_HANDLE); /* closed by WFDCloseHandle */
    EQ(stats().violations, 1);
    rec_free(&r);
    rec_free(&r2);
}

static void test_close_handle_in_callback(void)
{
    HANDLE hc, hc2, hs;
    rec r;
    wfdsim_stats st;
    rec_init(&r);
    fresh();
    hc = open_client();
    hc2 = open_client();
    /* own client: its open is in progress -> 1131, violation, handle stays valid */
    r.action = ACT_CLOSE_HANDLE;
    r.client = hc;
    hs = open_and_wait(hc, &INSTANT, &r);
    EQ(r.action_rc, WFDSIM_ERROR_POSSIBLE_DEADLOCK);
    st = stats();
    EQ(st.violations_by_kind[WFDSIM_VIOLATION_CLOSE_HANDLE_IN_CALLBACK], 1);
    EQ(st.clients, 2);
    /* another client with no pending opens: closes normally from a callback */
    r.client = hc2;
    hs = open_and_wait(hc, &INSTANT, &r);
    EQ(r.action_rc, 0);
    CHECK(wfdsim_wait_idle(2000));
    st = stats();
    EQ(st.clients, 1);
    EQ(st.violations, 1);
    /* wait_idle from a callback cannot succeed: returns 0 */
    r.action = ACT_WAIT_IDLE;
    hs = open_and_wait(hc, &INSTANT, &r);
    EQ(r.action_rc, 0);
    (void)hs;
    EQ(WFDCloseHandle(hc), 0);
    CHECK(wfdsim_wait_idle(2000));
    EQ(stats().sessions, 0);
    rec_free(&r);
}

static void test_callback_before_return(void)
{
    HANDLE hc;
    int i, same = 0;
    fresh();
    hc = open_client();
    for (i = 0; i < 200; i++) {
        rec r;
        volatile HANDLE hs = NULL;
        rec_init(&r);
        r.caller_slot = &hs;
        EQ(WFDStartOpenSession(hc, &UNKNOWN, &r, on_complete, (PHANDLE)&hs), 0);
        CHECK(rec_wait(&r, 1, 5.0));
        CHECK(r.h == hs);
        same += r.seen_in_slot == hs; /* written before the callback could run */
        CHECK(wfdsim_wait_idle(2000));
        rec_free(&r);
    }
    EQ(same, 200);
    EQ(WFDCloseHandle(hc), 0);
    EQ(stats().violations, 0);
}

static void test_reset(void)
{
    HANDLE hc, hs, hs_open;
    rec r, r2;
    wfdsim_stats st;
    rec_init(&r);
    rec_init(&r2);
    fresh();
    hc = open_client();
    hs_open = open_and_wait(hc, &INSTANT, &r2);
    EQ(WFDStartOpenSession(hc, &SLOW, &r, on_complete, &hs), 0);
    add_peer(SLOW, "Far", 1, 0, 1, 1000.0, 0, 0); /* would take forever */
    wfdsim_inject_error(WFDSIM_FN_CLOSE_SESSION, 1722);
    wfdsim_reset();
    EQ(rec_count(&r), 1); /* reset waited for the cancelled callback */
    EQ(r.err, WFDSIM_ERROR_CANCELLED);
    EQ(r.reason, WFDSIM_REASON_CLIENT_CLOSED);
    st = stats();
    EQ(st.clients + st.sessions + st.pending_opens + st.callbacks_delivered + st.violations, 0);
    EQ(wfdsim_peer_count(), 5);
    /* every old handle is stale now */
    EQ(WFDCloseSession(hs_open), WFDSIM_ERROR_INVALID_HANDLE);
    EQ(WFDCloseHandle(hc), WFDSIM_ERROR_INVALID_HANDLE);
    EQ(stats().violations_by_kind[WFDSIM_VIOLATION_STALE_HANDLE], 2);
    /* a far-future item: wait_idle times out; cancel makes it idle */
    fresh();
    add_peer(SLOW, "Far", 1, 0, 1, 1000.0, 0, 0);
    hc = open_client();
    EQ(WFDStartOpenSession(hc, &SLOW, &r, on_complete, &hs), 0);
    EQ(wfdsim_wait_idle(50), 0);
    EQ(WFDCancelOpenSession(hs), 0);
    EQ(wfdsim_wait_idle(2000), 1);
    EQ(r.err, WFDSIM_ERROR_CANCELLED);
    /* reset from inside a callback: no deadlock, counters consistent afterwards */
    EQ(WFDStartOpenSession(hc, &SLOW, &r2, on_complete, &hs), 0); /* stays pending */
    r.action = ACT_RESET;
    EQ(WFDStartOpenSession(hc, &INSTANT, &r, on_complete, &hs), 0);
    CHECK(rec_wait(&r, 3, 5.0));
    CHECK(rec_wait(&r2, 2, 5.0)); /* the pending one was cancelled by the reset */
    EQ(r2.err, WFDSIM_ERROR_CANCELLED);
    EQ(r2.reason, WFDSIM_REASON_CLIENT_CLOSED);
    CHECK(wfdsim_wait_idle(2000));
    st = stats();
    EQ(st.clients + st.sessions + st.pending_opens + st.callbacks_delivered + st.violations, 0);
    EQ(WFDCloseHandle(hc), WFDSIM_ERROR_INVALID_HANDLE);
    EQ(stats().violations, 1);
    wfdsim_reset();
    rec_free(&r);
    rec_free(&r2);
}

static void test_handles_not_reused(void)
{
    enum { N = 2000 };
    static HANDLE seen[N];
    int i, j, dup = 0;
    wfdsim_reset();
    for (i = 0; i < N; i++) {
        seen[i] = open_client();
        EQ(WFDCloseHandle(seen[i]), 0);
    }
    for (i = 0; i < N && !dup; i++)
        for (j = i + 1; j < N; j++)
            if (seen[i] == seen[j]) {
                dup = 1;
                break;
            }
    CHECK(!dup);
    EQ(stats().violations, 0);
}

/* The system around the API (backend.h): devices, interfaces, drops, links, fail_times. */
static void test_system(void)
{
    wfdx_device devs[8];
    wfdx_iface iface;
    uint32_t n = 0;
    uint64_t seen = 0;
    HANDLE hc, hs;
    rec r;
    wfdsim_peer p;
    wfdsim_reset();
    EQ(wfdx_list_devices(devs, 8, &n), 0);
    EQ(n, 4); /* the five default peers less the unpaired speaker */
    CHECK(memcmp(devs[0].address, TV, 6) == 0 && strcmp(devs[0].name, "Living Room TV") == 0);
    CHECK(!devs[0].connected && devs[0].visible && !devs[0].legacy && devs[1].legacy);
    EQ(devs[0].interface_address[4], 0x80);
    EQ(wfdx_list_devices(devs, 2, &n), 0); /* too little room: the count, two filled */
    EQ(n, 4);
    EQ(wfdx_list_devices(NULL, 1, &n), WFDSIM_ERROR_INVALID_PARAMETER);
    EQ(wfdx_service_running(), 1);
    wfdsim_set_service_running(0);
    EQ(wfdx_service_running(), 0);
    wfdsim_set_service_running(1);

    rec_init(&r);
    hc = open_client();
    hs = open_and_wait(hc, &TV, &r);
    EQ(r.err, 0);
    EQ(wfdx_get_interface((const unsigned char *)&r.guid, &iface), 0);
    CHECK(iface.up && iface.address_count == 2 && iface.neighbor_count == 2);
    EQ(iface.addresses[0].family, 4);
    EQ(iface.addresses[1].scope_id, iface.index);
    EQ(wfdx_list_devices(devs, 8, &n), 0);
    CHECK(devs[0].connected);

    EQ(wfdx_wait_link_change(&seen, 0), 0); /* changes happened since 0 */
    EQ(wfdx_wait_link_change(&seen, 10), 1460); /* none since */
    EQ(wfdsim_drop(TV, 3), 0);
    EQ(wfdx_wait_link_change(&seen, 1000), 0);
    EQ(wfdx_get_interface((const unsigned char *)&r.guid, &iface), 0);
    CHECK(!iface.up);
    EQ(wfdx_list_devices(devs, 8, &n), 0);
    CHECK(!devs[0].connected);
    wfdx_link_poke();
    EQ(wfdx_wait_link_change(&seen, 0), 0);
    EQ(wfdsim_drop(UNKNOWN, 0), WFDSIM_ERROR_NOT_FOUND);
    EQ(WFDCloseSession(hs), 0); /* a dropped session still closes */
    EQ(wfdx_get_interface((const unsigned char *)&r.guid, &iface), WFDSIM_ERROR_NOT_FOUND);

    /* fail_times: two failures, then success */
    EQ(wfdsim_get_peer(PRINTER, &p), 0);
    p.error = WFDSIM_ERROR_TIMEOUT;
    p.reason = 9;
    p.fail_times = 2;
    EQ(wfdsim_add_peer(&p), 0);
    hs = open_and_wait(hc, &PRINTER, &r);
    EQ(r.err, WFDSIM_ERROR_TIMEOUT);
    hs = open_and_wait(hc, &PRINTER, &r);
    EQ(r.err, WFDSIM_ERROR_TIMEOUT);
    hs = open_and_wait(hc, &PRINTER, &r);
    EQ(r.err, 0);
    EQ(WFDCloseSession(hs), 0);
    EQ(wfdsim_get_peer(PRINTER, &p), 0);
    EQ(p.error + p.fail_times, 0);

    /* reset_settings keeps the live handle */
    wfdsim_reset_settings();
    EQ(stats().clients, 1);
    EQ(WFDCloseHandle(hc), 0);
    EQ(stats().violations, 0);
    rec_free(&r);
}

int main(void)
{
    test_names_and_defaults();
    test_open_handle();
    test_handle_classes();
    test_open_success();
    test_outcomes();
    test_cancel_and_close_pending();
    test_legacy();
    test_legacy_client_closed_while_sleeping();
    test_visibility();
    test_peers();
    test_injection();
    test_allocation_failures();
    test_close_handle_waits();
    test_close_handle_in_callback();
    test_callback_before_return();
    test_reset();
    test_handles_not_reused();
    test_system();
    wfdsim_reset();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
