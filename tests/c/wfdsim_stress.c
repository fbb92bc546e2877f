// wfdsim_stress.c: concurrent use of the Wi-Fi Direct simulator, for ThreadSanitizer/valgrind.
//
// 8 threads, each repeatedly: open a client, start several opens (zero-latency peers, so many
// callbacks run before WFDStartOpenSession returns; failing and unknown peers), cancel some
// while pending, close some sessions (also from inside their own callback), open and close
// legacy sessions, then close the client (which waits for its pending opens). A chaos thread
// meanwhile reconfigures peers, toggles the service, updates visibility, reads stats and
// makes allocations fail. At the end the simulator must be idle with zero clients, sessions,
// pending opens and violations, and every callback accounted for.
//
// Phase 2 ("shared"): the same threads race on a small pool of client handles shared between
// them: opens on a client another thread is closing, two WFDCloseHandle calls on one client,
// cancels and closes of sessions a reset has invalidated, legacy opens, and wfdsim_reset from
// the threads and from inside completion callbacks. Violations of kind stale_handle are the
// expected result of those races; the checks are that every call answers with a documented
// code, every started open gets exactly one callback with the handle WFDStartOpenSession
// returned, no other kind of violation is counted, and the simulator ends idle.
//
// Build and run (from the repository root; the argument is iterations per thread):
//   gcc -std=c11 -Wall -Wextra -Werror -pthread -Iinclude -Isrc/wfdsim -Isrc/common src/wfdsim/*.c src/common/platform.c tests/c/wfdsim_stress.c -o /tmp/wfdsim_stress
//   /tmp/wfdsim_stress 200
//   clang -std=c11 -g -fsanitize=thread -pthread -Iinclude -Isrc/wfdsim -Isrc/common src/wfdsim/*.c src/common/platform.c tests/c/wfdsim_stress.c -o /tmp/wfdsim_stress_tsan
//   valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=3 /tmp/wfdsim_stress 50
// (valgrind reports the two detached worker threads' TLS blocks as "possibly lost": they
// live for the process by design.)
#define _POSIX_C_SOURCE 200809L
#include "wfdsim_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 8
#define OPENS 6

static DOT11_MAC_ADDRESS ZERO = {0x02, 0x00, 0x5e, 0x30, 0x00, 0x01};     /* 0 s, success */
static DOT11_MAC_ADDRESS FAST = {0x02, 0x00, 0x5e, 0x30, 0x00, 0x02};     /* 1 ms, success */
static DOT11_MAC_ADDRESS ZEROFAIL = {0x02, 0x00, 0x5e, 0x30, 0x00, 0x03}; /* 0 s, unpaired */
static DOT11_MAC_ADDRESS TOGGLE = {0x02, 0x00, 0x5e, 0x30, 0x00, 0x04};   /* 2 ms, flapping */
static DOT11_MAC_ADDRESS LEG = {0x02, 0x00, 0x5e, 0x30, 0x00, 0x05};      /* legacy, 0 s */
static DOT11_MAC_ADDRESS NOBODY = {0x02, 0x00, 0x5e, 0x30, 0x00, 0x99};   /* unknown */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t g_callbacks, g_errors, g_peak; /* g_peak: max sessions + pending seen */
static volatile int g_stop; /* written under g_mu, read under g_mu */

#define FAIL(...)                                                                          \
    do {                                                                                   \
        pthread_mutex_lock(&g_mu);                                                         \
        g_errors++;                                                                        \
        fprintf(stderr, "line %d: ", __LINE__);                                            \
        fprintf(stderr, __VA_ARGS__);                                                      \
        fputc('\n', stderr);                                                               \
        pthread_mutex_unlock(&g_mu);                                                       \
    } while (0)

typedef struct slot {
    pthread_mutex_t m;
    int started, done, close_in_cb, closed, cancelled;
    DWORD err;
    HANDLE h;
} slot;

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void WINAPI on_complete(HANDLE h, PVOID ctx, GUID guid, DWORD err, DWORD reason)
{
    slot *s = ctx;
    (void)guid;
    (void)reason;
    pthread_mutex_lock(&s->m);
    if (s->done)
        FAIL("callback twice");
    if (s->close_in_cb && err == 0) {
        DWORD rc = WFDCloseSession(h);
        if (rc != 0)
            FAIL("close in callback: %u", (unsigned)rc);
        s->closed = 1;
    }
    s->done = 1;
    s->err = err;
    s->h = h;
    pthread_mutex_unlock(&s->m);
    pthread_mutex_lock(&g_mu);
    g_callbacks++;
    pthread_mutex_unlock(&g_mu);
}

static void add_peer(const unsigned char *addr, int paired, int legacy, int visible,
                     double latency)
{
    wfdsim_peer p;
    memset(&p, 0, sizeof p);
    memcpy(p.address, addr, 6);
    strcpy(p.name, "stress");
    p.paired = paired;
    p.legacy = legacy;
    p.visible = visible;
    p.latency = latency;
    while (wfdsim_add_peer(&p) == WFDSIM_ERROR_NOT_ENOUGH_MEMORY) {
    }
}

static void add_stress_peers(void) /* also after a reset, which restores the defaults */
{
    add_peer(ZERO, 1, 0, 1, 0.0);
    add_peer(FAST, 1, 0, 1, 0.001);
    add_peer(ZEROFAIL, 0, 0, 1, 0.0);
    add_peer(TOGGLE, 1, 0, 1, 0.002);
    add_peer(LEG, 1, 1, 1, 0.0);
}

static int iterations = 100;

static void one_iteration(uint64_t *seed)
{
    static PDOT11_MAC_ADDRESS const peers[] = {&ZERO, &ZERO, &FAST, &ZEROFAIL, &TOGGLE, &NOBODY};
    slot slots[OPENS];
    HANDLE hc = NULL, hs, hl = NULL;
    DWORD v, rc;
    GUID id;
    int k;

    rc = WFDOpenHandle(WFD_API_VERSION, &v, &hc);
    for (k = 0; k < 1000 && rc == WFDSIM_ERROR_SERVICE_NOT_ACTIVE; k++) {
        sched_yield(); /* the flipper thread stopped the service for a moment */
        rc = WFDOpenHandle(WFD_API_VERSION, &v, &hc);
    }
    if (rc == WFDSIM_ERROR_NOT_ENOUGH_MEMORY || rc == WFDSIM_ERROR_SERVICE_NOT_ACTIVE)
        return;
    if (rc != 0) {
        FAIL("open handle: %u", (unsigned)rc);
        return;
    }
    for (k = 0; k < OPENS; k++) {
        slot *s = &slots[k];
        memset(s, 0, sizeof *s);
        pthread_mutex_init(&s->m, NULL);
        s->close_in_cb = (int)(rnd(seed) % 4 == 0);
        hs = NULL;
        rc = WFDStartOpenSession(hc, peers[rnd(seed) % 6], s, on_complete, &hs);
        if (rc == 0) {
            s->started = 1;
            if (hs == NULL)
                FAIL("no session handle");
        } else if (rc != WFDSIM_ERROR_NOT_ENOUGH_MEMORY &&
                   rc != WFDSIM_ERROR_SERVICE_NOT_ACTIVE) {
            FAIL("start open: %u", (unsigned)rc);
        }
        /* cancel while still pending: the slot lock keeps the callback from returning */
        if (s->started && rnd(seed) % 3 == 0) {
            pthread_mutex_lock(&s->m);
            if (!s->done) {
                rc = WFDCancelOpenSession(hs);
                if (rc != 0)
                    FAIL("cancel: %u", (unsigned)rc);
                s->cancelled = 1;
            }
            pthread_mutex_unlock(&s->m);
        }
    }
    if (rnd(seed) % 2) {
        rc = WFDOpenLegacySession(hc, &LEG, &hl, &id);
        if (rc == 0 && rnd(seed) % 2) {
            if ((rc = WFDCloseSession(hl)) != 0)
                FAIL("close legacy: %u", (unsigned)rc);
        } else if (rc != 0 && rc != WFDSIM_ERROR_NOT_ENOUGH_MEMORY &&
                   rc != WFDSIM_ERROR_SERVICE_NOT_ACTIVE) {
            FAIL("legacy: %u", (unsigned)rc);
        }
    }
    if (rnd(seed) % 2)
        plat_sleep_ns(rnd(seed) % 3000000u);
    /* close some sessions whose open succeeded (and were not closed by their callback) */
    for (k = 0; k < OPENS; k++) {
        slot *s = &slots[k];
        pthread_mutex_lock(&s->m);
        if (s->done && s->err == 0 && !s->closed && rnd(seed) % 2) {
            if ((rc = WFDCloseSession(s->h)) != 0)
                FAIL("close session: %u", (unsigned)rc);
            s->closed = 1;
        }
        pthread_mutex_unlock(&s->m);
    }
    /* close the client: waits for every pending open's callback to return */
    if ((rc = WFDCloseHandle(hc)) != 0)
        FAIL("close handle: %u", (unsigned)rc);
    for (k = 0; k < OPENS; k++) {
        slot *s = &slots[k];
        pthread_mutex_lock(&s->m);
        if (s->started && !s->done)
            FAIL("WFDCloseHandle returned before a callback");
        pthread_mutex_unlock(&s->m);
        pthread_mutex_destroy(&s->m);
    }
}

static void *worker(void *arg)
{
    uint64_t seed = 0x9E3779B97F4A7C15ull * ((uint64_t)(uintptr_t)arg + 1);
    int i;
    for (i = 0; i < iterations; i++)
        one_iteration(&seed);
    return NULL;
}

static void *chaos(void *arg)
{
    uint64_t seed = 12345;
    wfdsim_stats st;
    (void)arg;
    for (;;) {
        int stop;
        pthread_mutex_lock(&g_mu);
        stop = g_stop;
        pthread_mutex_unlock(&g_mu);
        if (stop)
            break;
        switch (rnd(&seed) % 6) {
        case 0: add_peer(TOGGLE, 1, 0, (int)(rnd(&seed) % 2), 0.002); break;
        case 1: (void)WFDUpdateDeviceVisibility(&TOGGLE); break;
        case 2:
            wfdsim_get_stats(&st);
            pthread_mutex_lock(&g_mu);
            if ((uint64_t)st.sessions + st.pending_opens > g_peak)
                g_peak = (uint64_t)st.sessions + st.pending_opens;
            pthread_mutex_unlock(&g_mu);
            break;
        case 3: wfdsim_fail_allocations(rnd(&seed) % 8 == 0 ? 1 : 0); break;
        case 4:
            wfdsim_set_service_running(0);
            plat_sleep_ns(100000);
            wfdsim_set_service_running(1);
            break;
        default: (void)wfdsim_peer_count(); break;
        }
        plat_sleep_ns(200000);
    }
    wfdsim_fail_allocations(0);
    wfdsim_set_service_running(1);
    return NULL;
}

/* ---- phase 2: shared clients, close-handle races, resets -------------------------------- */

#define POOL 3
enum { ACT2_NONE, ACT2_CLOSE, ACT2_CANCEL, ACT2_RESET };

typedef struct rec2 {
    int started, calls, action;
    DWORD err;
    HANDLE returned, delivered;
} rec2;

static pthread_mutex_t g_pool_mu = PTHREAD_MUTEX_INITIALIZER;
static HANDLE g_pool[POOL];
static pthread_mutex_t g_rec_mu = PTHREAD_MUTEX_INITIALIZER; /* guards every rec2 */
static rec2 *g_recs[THREADS];
static uint64_t g_resets, g_close_races;

static int is_one_of(DWORD rc, const DWORD *ok, int n)
{
    int i;
    for (i = 0; i < n; i++)
        if (rc == ok[i])
            return 1;
    return 0;
}

#define EXPECT(rc, ...)                                                                    \
    do {                                                                                   \
        static const DWORD ok_[] = {__VA_ARGS__};                                          \
        if (!is_one_of((rc), ok_, (int)(sizeof ok_ / sizeof ok_[0])))                      \
            FAIL("unexpected %u from %s", (unsigned)(rc), #rc);                            \
    } while (0)

static void WINAPI on_complete2(HANDLE h, PVOID ctx, GUID guid, DWORD err, DWORD reason)
{
    rec2 *r = ctx;
    int action;
    (void)guid;
    (void)reason;
    pthread_mutex_lock(&g_rec_mu);
    r->calls++;
    r->delivered = h;
    r->err = err;
    action = r->action;
    pthread_mutex_unlock(&g_rec_mu);
    if (action == ACT2_CLOSE && err == 0) {
        DWORD rc = WFDCloseSession(h); /* 6: a reset from another thread got there first */
        EXPECT(rc, 0, WFDSIM_ERROR_INVALID_HANDLE);
    } else if (action == ACT2_CANCEL) {
        DWORD rc = WFDCancelOpenSession(h); /* being delivered: no effect */
        EXPECT(rc, 0, WFDSIM_ERROR_INVALID_HANDLE);
    } else if (action == ACT2_RESET) {
        wfdsim_reset(); /* from a callback: does not wait */
        add_stress_peers();
        pthread_mutex_lock(&g_mu);
        g_resets++;
        pthread_mutex_unlock(&g_mu);
    }
}

/* A client from the pool slot, opening one if the slot is empty; NULL if that failed. */
static HANDLE pool_get(int i)
{
    HANDLE h;
    pthread_mutex_lock(&g_pool_mu);
    if (g_pool[i] == NULL) {
        DWORD v, rc = WFDOpenHandle(WFD_API_VERSION, &v, &g_pool[i]);
        EXPECT(rc, 0, WFDSIM_ERROR_NOT_ENOUGH_MEMORY);
        if (rc != 0)
            g_pool[i] = NULL;
    }
    h = g_pool[i];
    pthread_mutex_unlock(&g_pool_mu);
    return h;
}

static void *worker2(void *arg)
{
    int me = (int)(uintptr_t)arg, i, n = 0;
    uint64_t seed = 0xD1B54A32D192ED03ull * ((uint64_t)me + 7);
    rec2 *recs = g_recs[me];
    for (i = 0; i < iterations; i++) {
        int slot = (int)(rnd(&seed) % POOL);
        HANDLE hc = pool_get(slot), hs = NULL, hl = NULL;
        DWORD rc;
        GUID id;
        unsigned op = (unsigned)(rnd(&seed) % 16);
        if (hc == NULL)
            continue;
        if (op < 9) { /* start an open; maybe cancel it at once */
            static PDOT11_MAC_ADDRESS const peers[] = {&ZERO, &FAST, &ZEROFAIL, &TOGGLE,
                                                       &NOBODY};
            rec2 *r = &recs[n];
            uint64_t a = rnd(&seed) % 16;
            pthread_mutex_lock(&g_rec_mu);
            r->action = a < 4 ? ACT2_CLOSE : a < 6 ? ACT2_CANCEL : a == 6 ? ACT2_RESET : 0;
            pthread_mutex_unlock(&g_rec_mu);
            rc = WFDStartOpenSession(hc, peers[rnd(&seed) % 5], r, on_complete2, &hs);
            /* 6: another thread closed the client, or a reset invalidated it */
            EXPECT(rc, 0, WFDSIM_ERROR_INVALID_HANDLE);
            if (rc == 0) {
                n++;
                pthread_mutex_lock(&g_rec_mu);
                r->started = 1;
                r->returned = hs;
                pthread_mutex_unlock(&g_rec_mu);
                if (rnd(&seed) % 3 == 0) {
                    rc = WFDCancelOpenSession(hs);
                    EXPECT(rc, 0, WFDSIM_ERROR_INVALID_HANDLE);
                }
            }
        } else if (op < 11 && n > 0) { /* close a session this thread opened */
            rec2 *r = &recs[rnd(&seed) % (uint64_t)n];
            HANDLE target = NULL;
            pthread_mutex_lock(&g_rec_mu);
            if (r->calls == 1 && r->err == 0 && r->action != ACT2_CLOSE) {
                target = r->delivered;
                r->action = ACT2_CLOSE; /* closed once by us: stale from now on */
            }
            pthread_mutex_unlock(&g_rec_mu);
            if (target) {
                rc = WFDCloseSession(target);
                EXPECT(rc, 0, WFDSIM_ERROR_INVALID_HANDLE);
            }
        } else if (op < 14) { /* close the client, racing the other users of the slot */
            int keep = rnd(&seed) % 2 == 0; /* leave it in the slot: a second close may race */
            pthread_mutex_lock(&g_pool_mu);
            if (g_pool[slot] == hc && !keep)
                g_pool[slot] = NULL;
            pthread_mutex_unlock(&g_pool_mu);
            rc = WFDCloseHandle(hc);
            EXPECT(rc, 0, WFDSIM_ERROR_INVALID_HANDLE);
            if (keep) {
                pthread_mutex_lock(&g_pool_mu);
                if (g_pool[slot] == hc)
                    g_pool[slot] = NULL;
                pthread_mutex_unlock(&g_pool_mu);
            }
            pthread_mutex_lock(&g_mu);
            g_close_races++;
            pthread_mutex_unlock(&g_mu);
        } else if (op == 14) { /* a legacy session on the shared client */
            rc = WFDOpenLegacySession(hc, &LEG, &hl, &id);
            /* 1168: a reset restored the default peers and LEG is not back yet */
            EXPECT(rc, 0, WFDSIM_ERROR_INVALID_HANDLE, WFDSIM_ERROR_NOT_FOUND);
            if (rc == 0) {
                rc = WFDCloseSession(hl);
                EXPECT(rc, 0, WFDSIM_ERROR_INVALID_HANDLE);
            }
        } else if (rnd(&seed) % 4 == 0) { /* a reset under everyone's feet */
            wfdsim_reset();
            add_stress_peers();
            pthread_mutex_lock(&g_mu);
            g_resets++;
            pthread_mutex_unlock(&g_mu);
        }
    }
    return NULL;
}

/* Phase 2; returns the number of started opens, all checked. */
static uint64_t run_shared_phase(void)
{
    pthread_t th[THREADS];
    wfdsim_stats st;
    uint64_t started = 0;
    int i, k;
    wfdsim_reset();
    add_stress_peers();
    for (i = 0; i < THREADS; i++) {
        g_recs[i] = calloc((size_t)iterations + 1, sizeof(rec2));
        if (!g_recs[i]) {
            FAIL("out of memory");
            return 0;
        }
    }
    for (i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, worker2, (void *)(uintptr_t)i);
    for (i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    for (i = 0; i < POOL; i++)
        if (g_pool[i]) {
            DWORD rc = WFDCloseHandle(g_pool[i]); /* 6: a reset invalidated it */
            EXPECT(rc, 0, WFDSIM_ERROR_INVALID_HANDLE);
            g_pool[i] = NULL;
        }
    if (!wfdsim_wait_idle(10000))
        FAIL("shared phase: not idle");
    wfdsim_get_stats(&st);
    if (st.violations_by_kind[WFDSIM_VIOLATION_CLOSE_SESSION_PENDING] ||
        st.violations_by_kind[WFDSIM_VIOLATION_CLOSE_HANDLE_IN_CALLBACK])
        FAIL("shared phase: violations other than stale_handle");
    if (st.clients || st.sessions || st.pending_opens)
        FAIL("shared phase left over: %u clients, %u sessions, %u pending",
             (unsigned)st.clients, (unsigned)st.sessions, (unsigned)st.pending_opens);
    pthread_mutex_lock(&g_rec_mu);
    for (i = 0; i < THREADS; i++) {
        for (k = 0; k < iterations; k++) {
            const rec2 *r = &g_recs[i][k];
            if (!r->started)
                continue;
            started++;
            if (r->calls != 1)
                FAIL("thread %d open %d: %d callbacks", i, k, r->calls);
            else if (r->delivered != r->returned)
                FAIL("thread %d open %d: callback got another handle", i, k);
        }
        free(g_recs[i]);
        g_recs[i] = NULL;
    }
    pthread_mutex_unlock(&g_rec_mu);
    return started;
}

int main(int argc, char **argv)
{
    pthread_t th[THREADS], ch;
    wfdsim_stats st;
    int i, idle;
    uint64_t seen;
    if (argc > 1)
        iterations = atoi(argv[1]);
    wfdsim_reset();
    add_stress_peers();
    pthread_create(&ch, NULL, chaos, NULL);
    for (i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i);
    for (i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_lock(&g_mu);
    g_stop = 1;
    pthread_mutex_unlock(&g_mu);
    pthread_join(ch, NULL);

    idle = wfdsim_wait_idle(10000);
    wfdsim_get_stats(&st);
    if (!idle)
        FAIL("not idle");
    if (st.clients || st.sessions || st.pending_opens)
        FAIL("left over: %u clients, %u sessions, %u pending", (unsigned)st.clients,
             (unsigned)st.sessions, (unsigned)st.pending_opens);
    if (st.violations)
        FAIL("%llu violations", (unsigned long long)st.violations);
    pthread_mutex_lock(&g_mu);
    seen = g_callbacks;
    pthread_mutex_unlock(&g_mu);
    if (st.callbacks_delivered != seen)
        FAIL("callbacks: simulator %llu, seen %llu", (unsigned long long)st.callbacks_delivered,
             (unsigned long long)seen);
    pthread_mutex_lock(&g_mu);
    printf("%d threads x %d iterations: %llu callbacks, peak %llu sessions+pending, %llu errors\n",
           THREADS, iterations, (unsigned long long)seen, (unsigned long long)g_peak,
           (unsigned long long)g_errors);
    pthread_mutex_unlock(&g_mu);

    seen = run_shared_phase();
    pthread_mutex_lock(&g_mu);
    printf("shared: %d threads x %d iterations: %llu opens, each called back once; "
           "%llu close-handle races, %llu resets; %llu errors\n",
           THREADS, iterations, (unsigned long long)seen, (unsigned long long)g_close_races,
           (unsigned long long)g_resets, (unsigned long long)g_errors);
    i = g_errors != 0;
    pthread_mutex_unlock(&g_mu);
    wfdsim_reset();
    return i;
}
