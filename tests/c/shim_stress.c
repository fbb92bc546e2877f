// shim_stress.c: the native guard (src/shim/shim.c) under concurrent use, against the simulator,
// for ThreadSanitizer, ASan and valgrind.
//
// Every round, threads share one client guard: openers start opens (zero-latency peers, so many
// completions arrive before WFDStartOpenSession returns; failing ones; slow ones), cancellers
// cancel random opens (before, during and after their start), closers close the sessions of
// completed opens (twice, concurrently), and midway one thread closes the client the way the
// facade does (begin_close, cancel everything, wait_opens, close every session, close_handle)
// while the others keep calling. The guard must turn every late call into WFDX_CLOSED / DONE:
// at the end the simulator has counted no violation (no stale handle, no close of a pending
// open), nothing is left open or pending, and every started open had exactly one completion.
//
// Build and run (from the repository root; the argument is rounds):
//   gcc -std=c11 -Wall -Wextra -Werror -pthread -Iinclude -Isrc/wfdsim -Isrc/common -Isrc/shim src/wfdsim/*.c src/common/platform.c tests/c/shim_stress.c -o /tmp/shim_stress
//   /tmp/shim_stress 200
// Ends with "N passed, M failed"; exit status 0 iff M == 0.
#define _POSIX_C_SOURCE 200809L
#include "wfdsim_internal.h"

#include "shim.c"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPENERS 3
#define CANCELLERS 2
#define CLOSERS 2
#define OPENS_PER_ROUND 96

static DOT11_MAC_ADDRESS PEERS[] = {
    {0x02, 0x00, 0x5e, 0x40, 0x00, 0x01}, /* 0 s, success */
    {0x02, 0x00, 0x5e, 0x40, 0x00, 0x02}, /* 0.5 ms, success */
    {0x02, 0x00, 0x5e, 0x40, 0x00, 0x03}, /* 0 s, unpaired: fails */
    {0x02, 0x00, 0x5e, 0x40, 0x00, 0x04}, /* 20 ms, success: cancelled or outlived */
};
static DOT11_MAC_ADDRESS LEGACY = {0x02, 0x00, 0x5e, 0x40, 0x00, 0x05}; /* legacy, 0 s */
#define NPEERS (sizeof PEERS / sizeof PEERS[0])

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned g_completions[OPENS_PER_ROUND]; /* hook calls per open this round */
static long g_passed, g_failed;
static long g_started, g_refused, g_completed_ok; /* what the rounds exercised */

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        pthread_mutex_lock(&g_mu);                                                         \
        if (cond)                                                                          \
            g_passed++;                                                                    \
        else {                                                                             \
            g_failed++;                                                                    \
            fprintf(stderr, "line %d: %s: ", __LINE__, #cond);                             \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
        }                                                                                  \
        pthread_mutex_unlock(&g_mu);                                                       \
    } while (0)

/* The extern "Python" hook's stand-in: count the completion of each open. */
static void wfdx_completed(uint64_t token, int32_t orphaned)
{
    (void)orphaned;
    pthread_mutex_lock(&g_mu);
    g_completions[token]++;
    pthread_mutex_unlock(&g_mu);
}

typedef struct round {
    wfdx_client client;
    wfdx_open opens[OPENS_PER_ROUND];
    int next;       /* opens handed out to openers (under g_mu) */
    int legacy[OPENS_PER_ROUND]; /* opened with wfdx_open_legacy (under g_mu) */
    int queued[OPENS_PER_ROUND]; /* started by the starter threads (under g_mu) */
    int closed;     /* the client was closed (under g_mu) */
    unsigned seed;
} round_t;

static unsigned rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 16;
}

static int is_guard_code(DWORD rc) { return rc >= WFDX_CLOSED && rc <= WFDX_PENDING; }

static void *opener(void *arg)
{
    round_t *r = arg;
    unsigned seed = (unsigned)(uintptr_t)&seed ^ r->seed;
    for (;;) {
        int i;
        DWORD rc;
        pthread_mutex_lock(&g_mu);
        i = r->next < OPENS_PER_ROUND ? r->next++ : -1;
        pthread_mutex_unlock(&g_mu);
        if (i < 0)
            return NULL;
        if (rnd(&seed) % 8 == 0) {
            pthread_mutex_lock(&g_mu);
            r->legacy[i] = 1;
            pthread_mutex_unlock(&g_mu);
            rc = wfdx_open_legacy(&r->opens[i], (const char *)LEGACY);
        } else if (rnd(&seed) % 2) {
            pthread_mutex_lock(&g_mu);
            r->queued[i] = 1;
            pthread_mutex_unlock(&g_mu);
            rc = wfdx_start_queued(&r->opens[i], (const char *)PEERS[rnd(&seed) % NPEERS]);
        } else {
            rc = wfdx_start_open(&r->opens[i], (const char *)PEERS[rnd(&seed) % NPEERS]);
        }
        /* 0, or refused because the client is closing: nothing else is possible here */
        CHECK(rc == 0 || rc == WFDX_CLOSED, "start %d -> %#x", i, (unsigned)rc);
        if (i % 16 == 0) /* needs no client: the guard passes it through */
            CHECK(wfdx_update_visibility((const char *)PEERS[0]) == 0, "visibility");
    }
}

static void *canceller(void *arg)
{
    round_t *r = arg;
    unsigned seed = (unsigned)(uintptr_t)&seed ^ r->seed;
    for (int k = 0; k < OPENS_PER_ROUND; k++) {
        if (k % 8 == 0) /* the owner left: no effect on the native calls, only on the record */
            (void)wfdx_orphan(&r->opens[rnd(&seed) % OPENS_PER_ROUND]);
        DWORD rc = wfdx_cancel_open(&r->opens[rnd(&seed) % OPENS_PER_ROUND]);
        /* issued (0), nothing to do, or the client is gone: never a stale handle */
        CHECK(rc == 0 || rc == WFDX_DONE || rc == WFDX_CLOSED, "cancel -> %#x", (unsigned)rc);
    }
    return NULL;
}

static void *closer(void *arg)
{
    round_t *r = arg;
    unsigned seed = (unsigned)(uintptr_t)&seed ^ r->seed;
    for (int k = 0; k < 2 * OPENS_PER_ROUND; k++) {
        DWORD rc = wfdx_close_session(&r->opens[rnd(&seed) % OPENS_PER_ROUND]);
        CHECK(rc == 0 || is_guard_code(rc), "close session -> %#x", (unsigned)rc);
    }
    return NULL;
}

/* The facade's close sequence (src/wifidirect/_opens.py, close_client). */
static void *client_closer(void *arg)
{
    round_t *r = arg;
    DWORD rc;
    for (;;) { /* midway: half of the opens handed out */
        pthread_mutex_lock(&g_mu);
        int next = r->next;
        pthread_mutex_unlock(&g_mu);
        if (next >= OPENS_PER_ROUND / 2)
            break;
        plat_sleep_ns(50000);
    }
    rc = wfdx_begin_close(&r->client, 10000);
    CHECK(rc == 0, "begin_close -> %#x", (unsigned)rc);
    for (int i = 0; i < OPENS_PER_ROUND; i++)
        (void)wfdx_cancel_open(&r->opens[i]);
    rc = wfdx_wait_opens(&r->client, 10000);
    CHECK(rc == 0, "wait_opens -> %#x", (unsigned)rc);
    for (int i = 0; i < OPENS_PER_ROUND; i++) {
        rc = wfdx_close_session(&r->opens[i]);
        /* an open never started (refused) is "not completed" here: PENDING is the guard
         * refusing to close it, not a call */
        CHECK(rc == 0 || is_guard_code(rc), "closing session %d -> %#x", i, (unsigned)rc);
    }
    rc = wfdx_close_handle(&r->client, 10000);
    CHECK(rc == 0, "close_handle -> %#x", (unsigned)rc);
    rc = wfdx_close_handle(&r->client, 0);
    CHECK(rc == WFDX_DONE, "second close_handle -> %#x", (unsigned)rc);
    pthread_mutex_lock(&g_mu);
    r->closed = 1;
    pthread_mutex_unlock(&g_mu);
    return NULL;
}

static void one_round(unsigned seed)
{
    round_t *r = calloc(1, sizeof *r);
    pthread_t th[OPENERS + CANCELLERS + CLOSERS + 1];
    int n = 0;
    DWORD rc;
    r->seed = seed;
    wfdx_client_init(&r->client);
    rc = wfdx_open_handle(&r->client);
    CHECK(rc == 0, "open_handle -> %#x", (unsigned)rc);
    memset(g_completions, 0, sizeof g_completions);
    for (int i = 0; i < OPENS_PER_ROUND; i++)
        wfdx_open_init(&r->opens[i], &r->client, (uint64_t)i);
    for (int i = 0; i < OPENERS; i++)
        pthread_create(&th[n++], NULL, opener, r);
    for (int i = 0; i < CANCELLERS; i++)
        pthread_create(&th[n++], NULL, canceller, r);
    for (int i = 0; i < CLOSERS; i++)
        pthread_create(&th[n++], NULL, closer, r);
    pthread_create(&th[n++], NULL, client_closer, r);
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    CHECK(wfdsim_wait_idle(10000), "the simulator is not idle");
    /* A starter may still be returning from a start the close refused (it holds no client
     * state then): busy for a moment is fine, busy for good is a lost start. */
    for (int i = 0; i < 5000 && wfdx_starters_busy(); i++)
        plat_sleep_ns(1000000);
    CHECK(!wfdx_starters_busy(), "a queued start is left after the close");
    for (int i = 0; i < OPENS_PER_ROUND; i++) {
        wfdx_open *op = &r->opens[i];
        pthread_mutex_lock(&g_mu);
        unsigned got = g_completions[i];
        /* a started open gets one completion; a legacy open, none (it is synchronous); a queued
         * open that the API refused reports the refusal through the hook too */
        int refused_later = r->queued[i] && op->start_rc != 0 && op->start_rc != WFDX_CLOSED;
        unsigned expected = (op->started && !r->legacy[i]) || refused_later ? 1u : 0u;
        pthread_mutex_unlock(&g_mu);
        CHECK(got == expected, "open %d: %u completions, started %d", i, got, op->started);
        CHECK(!op->started || op->completed, "open %d started and never completed", i);
        pthread_mutex_lock(&g_mu);
        g_started += op->started;
        g_refused += op->start_rc == WFDX_CLOSED;
        g_completed_ok += op->completed && op->error == 0;
        pthread_mutex_unlock(&g_mu);
    }
    /* after the close, the guard refuses everything without a call */
    wfdx_open late;
    wfdx_open_init(&late, &r->client, 0);
    rc = wfdx_start_open(&late, (const char *)PEERS[0]);
    CHECK(rc == WFDX_CLOSED && !late.started, "start after close -> %#x", (unsigned)rc);
    free(r);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 50;
    wfdsim_stats st;
    wfdsim_peer p;
    wfdsim_reset();
    wfdx_set_idle_ms(20); /* starter threads come and go between rounds */
    for (size_t i = 0; i < NPEERS; i++) {
        memset(&p, 0, sizeof p);
        memcpy(p.address, PEERS[i], 6);
        p.paired = i != 2;
        p.visible = 1;
        p.latency = i == 1 ? 0.0005 : i == 3 ? 0.02 : 0.0;
        wfdsim_add_peer(&p);
    }
    memset(&p, 0, sizeof p);
    memcpy(p.address, LEGACY, 6);
    p.paired = p.legacy = p.visible = 1;
    wfdsim_add_peer(&p);
    for (int k = 0; k < rounds; k++)
        one_round((unsigned)k * 2654435761u);
    CHECK(wfdsim_wait_idle(10000), "not idle at the end");
    wfdsim_get_stats(&st);
    CHECK(st.violations == 0, "%llu violations (stale %llu, close pending %llu)",
          (unsigned long long)st.violations, (unsigned long long)st.violations_by_kind[0],
          (unsigned long long)st.violations_by_kind[1]);
    CHECK(st.clients == 0 && st.sessions == 0 && st.pending_opens == 0,
          "left over: %u clients, %u sessions, %u pending", (unsigned)st.clients,
          (unsigned)st.sessions, (unsigned)st.pending_opens);
    wfdsim_reset();
    printf("opens: %ld started, %ld refused after the close began, %ld opened\n", g_started,
           g_refused, g_completed_ok);
    CHECK(g_started > 0 && g_refused > 0 && g_completed_ok > 0, "a case was not exercised");
    printf("%ld passed, %ld failed\n", g_passed, g_failed);
    return g_failed != 0;
}
