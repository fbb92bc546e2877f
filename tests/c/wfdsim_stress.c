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
// Build and run (from the repository root; the argument is iterations per thread):
//   gcc -std=c11 -Wall -Wextra -Werror -pthread -Iinclude -Isrc/wfdsim src/wfdsim/*.c tests/c/wfdsim_stress.c -o /tmp/wfdsim_stress
//   /tmp/wfdsim_stress 200
//   clang -std=c11 -g -fsanitize=thread -pthread -Iinclude -Isrc/wfdsim src/wfdsim/*.c tests/c/wfdsim_stress.c -o /tmp/wfdsim_stress_tsan
//   valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=3 /tmp/wfdsim_stress 50
// (valgrind reports the two detached worker threads' TLS blocks as "possibly lost": they
// live for the process by design.)
#define _POSIX_C_SOURCE 200809L
#include "wfdsim_internal.h"

#include <pthread.h>
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
    if (rc == WFDSIM_ERROR_NOT_ENOUGH_MEMORY)
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

int main(int argc, char **argv)
{
    pthread_t th[THREADS], ch;
    wfdsim_stats st;
    int i, idle;
    uint64_t seen;
    if (argc > 1)
        iterations = atoi(argv[1]);
    wfdsim_reset();
    add_peer(ZERO, 1, 0, 1, 0.0);
    add_peer(FAST, 1, 0, 1, 0.001);
    add_peer(ZEROFAIL, 0, 0, 1, 0.0);
    add_peer(TOGGLE, 1, 0, 1, 0.002);
    add_peer(LEG, 1, 1, 1, 0.0);
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
    i = g_errors != 0;
    pthread_mutex_unlock(&g_mu);
    wfdsim_reset();
    return i;
}
