// channels_stress.c: the completion channels of src/shim/shim.c against the simulator, without
// Python, for ThreadSanitizer, ASan and valgrind.
//
// It follows the facade's protocol with C threads in Python's place:
//  - a table lock (g_table, Python's _dispatch._lock) guards a per-open `done` flag;
//  - STARTERS threads start opens with wfdx_start_open_queued() on the current channel (one
//    in five with wfdx_start_open(), direct, like a blocking open), and cancel some of them at
//    once with wfdx_cancel_queued() (wfdx_cancel_open()), holding the table lock and only
//    when the open is not done (request_cancel);
//  - a drainer thread (the event loop) polls the channel's descriptor, drains it under the
//    table lock, marks each open done and closes the sessions that opened;
//  - a rotator thread (loops coming and going) closes the channel now and then and opens a
//    new one, so completions of a closed channel arrive through the direct callback
//    (wfd_open_complete below: it records under the table lock, as complete_batch does) and
//    channel slots are reused.
// Peers: zero latency (callbacks race the start), 1 ms, zero-latency failures (their handle is
// stale once the callback returns, so a cancel after that would be a violation) and unknown.
//
// The checks: every open completes exactly once (queued or direct) with the handle the start
// returned; a cancel is never issued on a completed open (zero violations of every kind); the
// simulator ends idle with no session, and every channel is closed and freed.
//
// Build and run (from the repository root; the argument is opens per starter):
//   gcc -std=c11 -Wall -Wextra -Werror -pthread -Iinclude -Isrc/wfdsim -Isrc/shim src/wfdsim/*.c tests/c/channels_stress.c -o /tmp/channels_stress
//   /tmp/channels_stress 20000
// Add -DWFDX_USE_PIPE=1 for the pipe wake-up that non-Linux POSIX systems use.
#if defined(__linux__)
#define _GNU_SOURCE
#endif
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#define WINAPI
#include "wfd_types_posix.h"
#include "wfd.h"
#include "wfdsim.h"

#include "shim.c"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STARTERS 3
#define MAX_OPENS (1 << 20)

static DOT11_MAC_ADDRESS ZERO = {0x02, 0x00, 0x5e, 0x40, 0x00, 0x01};     /* 0 s, success */
static DOT11_MAC_ADDRESS SLOW = {0x02, 0x00, 0x5e, 0x40, 0x00, 0x02};     /* 1 ms, success */
static DOT11_MAC_ADDRESS ZEROFAIL = {0x02, 0x00, 0x5e, 0x40, 0x00, 0x03}; /* 0 s, unpaired */
static DOT11_MAC_ADDRESS NOBODY = {0x02, 0x00, 0x5e, 0x40, 0x00, 0x99};   /* unknown */

typedef struct {
    uint64_t token;
    uintptr_t handle;   /* from the start */
    uintptr_t received; /* from the completion */
    int started, done, completions;
} open_rec;

static pthread_mutex_t g_table = PTHREAD_MUTEX_INITIALIZER;
static open_rec *g_opens;          /* indexed by sequence number */
static uint64_t g_next = 1;        /* next sequence number */
static int g_channel;              /* the current channel (0: none) */
static int g_stop;                 /* starters finished */
static uint64_t g_queued, g_direct, g_cancels, g_refused, g_rotations, g_errors;
static HANDLE g_client;

#define FAIL(...)                                                                          \
    do {                                                                                   \
        fprintf(stderr, "line %d: ", __LINE__);                                            \
        fprintf(stderr, __VA_ARGS__);                                                      \
        fputc('\n', stderr);                                                               \
        g_errors++;                                                                        \
    } while (0)

/* Table lock held: record one completion, close its session if it opened. */
static void record(uint64_t token, uint64_t session, DWORD error)
{
    uint64_t seq = token >> 16;
    if (seq == 0 || seq >= g_next) {
        FAIL("completion for unknown token %llu", (unsigned long long)token);
        return;
    }
    open_rec *o = &g_opens[seq];
    o->completions++;
    o->done = 1;
    o->received = (uintptr_t)session;
    if (error == 0 && wfdx_close_session((uintptr_t)session) != 0)
        FAIL("WFDCloseSession failed");
}

/* The direct path (a closed channel): record before returning, like complete_batch. */
static void WINAPI wfd_open_complete(HANDLE session, PVOID context, GUID guid, DWORD error,
                                     DWORD reason)
{
    (void)guid;
    (void)reason;
    pthread_mutex_lock(&g_table);
    g_direct++;
    record((uint64_t)(uintptr_t)context, (uint64_t)(uintptr_t)session, error);
    pthread_mutex_unlock(&g_table);
}

/* Table lock held: take everything queued on `channel`. */
static void drain_locked(int channel)
{
    wfdx_item items[64];
    size_t n;
    do {
        n = wfdx_channel_drain(channel, items, 64);
        for (size_t i = 0; i < n; i++) {
            g_queued++;
            record(items[i].token, items[i].session, items[i].error);
        }
    } while (n == 64);
}

static void *drainer(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&g_table);
        int channel = g_channel, stop = g_stop;
        int fd = channel ? wfdx_channel_fd(channel) : -1;
        pthread_mutex_unlock(&g_table);
        if (stop)
            return NULL;
        if (fd >= 0) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            poll(&p, 1, 5);
        }
        pthread_mutex_lock(&g_table);
        if (g_channel == channel && channel) /* not rotated meanwhile (its fd is closed) */
            drain_locked(channel);
        pthread_mutex_unlock(&g_table);
        /* A busy loop: completions pile up in the queue, where cancels must find them. */
        struct timespec busy = {0, 100 * 1000};
        nanosleep(&busy, NULL);
    }
}

/* Close the current channel (later completions for it come directly) and open another. */
static void rotate_locked(void)
{
    if (g_channel) {
        wfdx_channel_close(g_channel);
        drain_locked(g_channel); /* what was queued before the close; frees the slot */
    }
    g_channel = wfdx_channel_open();
    if (g_channel <= 0)
        FAIL("wfdx_channel_open failed");
    g_rotations++;
}

static void *rotator(void *arg)
{
    (void)arg;
    for (;;) {
        struct timespec ts = {0, 200 * 1000};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&g_table);
        int stop = g_stop;
        if (!stop)
            rotate_locked();
        pthread_mutex_unlock(&g_table);
        if (stop)
            return NULL;
    }
}

static void *starter(void *arg)
{
    long opens = (long)(intptr_t)arg;
    unsigned seed = (unsigned)(uintptr_t)&arg;
    for (long i = 0; i < opens; i++) {
        unsigned r = (unsigned)rand_r(&seed);
        const unsigned char *peer =
            (r % 4 == 0) ? SLOW : (r % 4 == 1) ? ZEROFAIL : (r % 4 == 2) ? NOBODY : ZERO;
        int direct = r % 5 == 0; /* like a blocking open: no channel */
        pthread_mutex_lock(&g_table);
        uint64_t seq = g_next++;
        uint64_t token = seq << 16 | (uint64_t)(direct ? 0 : g_channel);
        g_opens[seq].started = 1;
        uintptr_t session =
            direct ? wfdx_start_open((uintptr_t)g_client, (const char *)peer, (uintptr_t)token)
                   : wfdx_start_open_queued((uintptr_t)g_client, (const char *)peer,
                                            (uintptr_t)token);
        if (!session)
            FAIL("start failed: %u", (unsigned)wfdx_last_error());
        g_opens[seq].handle = session;
        g_opens[seq].token = token;
        pthread_mutex_unlock(&g_table);
        if (r % 3 == 0) {
            /* Cancel this open or a recent one (of any starter): pending, queued or done. */
            pthread_mutex_lock(&g_table);
            uint64_t victim = seq > 1024 ? seq - (r >> 8) % 1024 : seq;
            open_rec *o = &g_opens[victim];
            if (o->handle && !o->done) { /* request_cancel: only while not recorded */
                g_cancels++;
                DWORD rc = (o->token & WFDX_CHANNEL_MASK) == 0
                               ? wfdx_cancel_open(o->handle)
                               : wfdx_cancel_queued(o->handle, (uintptr_t)o->token);
                if (rc == WFDX_ALREADY_COMPLETE)
                    g_refused++;
                else if (rc != 0)
                    FAIL("cancel returned %u", (unsigned)rc);
            }
            pthread_mutex_unlock(&g_table);
        }
        if (r % 1000 == 7 && wfdx_update_visibility((const char *)ZERO) != 0)
            FAIL("visibility");
    }
    return NULL;
}

/* Single-threaded checks of the rules the stress run relies on. */
static void check_basics(void)
{
    wfdx_item items[4];
    int ch = wfdx_channel_open();
    int fd = wfdx_channel_fd(ch);
    if (ch <= 0 || fd < 0) {
        FAIL("no channel");
        return;
    }
    /* A failed zero-latency open: once the simulator is idle its callback has returned (the
     * handle is stale) and the completion waits in the queue, so the cancel must not reach
     * WFDCancelOpenSession (that would count a stale-handle violation). */
    uint64_t token = (uint64_t)1 << 40 | (uint64_t)ch;
    uintptr_t s = wfdx_start_open_queued((uintptr_t)g_client, (const char *)ZEROFAIL, token);
    if (!s || !wfdsim_wait_idle(5000))
        FAIL("start");
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 5000) != 1)
        FAIL("the descriptor did not become readable");
    if (wfdx_cancel_queued(s, (uintptr_t)token) != WFDX_ALREADY_COMPLETE)
        FAIL("cancel of a queued completion was issued");
    if (wfdx_channel_drain(ch, items, 4) != 1 || items[0].token != token ||
        items[0].session != s || items[0].error != WFDSIM_ERROR_NOT_AUTHENTICATED)
        FAIL("drain");
    if (poll(&p, 1, 0) != 0)
        FAIL("the descriptor stayed readable after a full drain");
    /* A pending slow open: the cancel is issued and the completion says ERROR_CANCELLED. */
    token += (uint64_t)1 << 16;
    s = wfdx_start_open_queued((uintptr_t)g_client, (const char *)SLOW, token);
    if (!s || wfdx_cancel_queued(s, (uintptr_t)token) != 0 || !wfdsim_wait_idle(5000))
        FAIL("cancel of a pending open");
    if (wfdx_channel_drain(ch, items, 4) != 1 || items[0].error != WFDSIM_ERROR_CANCELLED)
        FAIL("cancelled completion");
    /* A closed channel is freed by the drain that empties it. */
    wfdx_channel_close(ch);
    if (wfdx_channel_fd(ch) != -1 || wfdx_channels[ch].state != WFDX_FREE)
        FAIL("closed empty channel not freed");
    wfdsim_stats st;
    wfdsim_get_stats(&st);
    if (st.violations)
        FAIL("basics: %llu violations", (unsigned long long)st.violations);
}

int main(int argc, char **argv)
{
    long opens = argc > 1 ? atol(argv[1]) : 20000;
    if (opens <= 0 || opens * STARTERS >= MAX_OPENS) {
        fprintf(stderr, "opens per starter: 1 .. %d\n", MAX_OPENS / STARTERS - 1);
        return 2;
    }
    g_opens = calloc(MAX_OPENS, sizeof *g_opens);
    wfdsim_peer peers[] = {
        {.paired = 1, .visible = 1, .latency = 0.0},
        {.paired = 1, .visible = 1, .latency = 0.001},
        {.paired = 0, .visible = 1, .latency = 0.0},
    };
    const unsigned char *addresses[] = {ZERO, SLOW, ZEROFAIL};
    for (int i = 0; i < 3; i++) {
        memcpy(peers[i].address, addresses[i], 6);
        if (wfdsim_add_peer(&peers[i]) != 0)
            FAIL("add_peer");
    }
    DWORD version;
    if (!g_opens || WFDOpenHandle(WFD_API_VERSION, &version, &g_client) != 0) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    check_basics();
    pthread_mutex_lock(&g_table);
    rotate_locked();
    pthread_mutex_unlock(&g_table);

    pthread_t starters[STARTERS], drain_thread, rotate_thread;
    pthread_create(&drain_thread, NULL, drainer, NULL);
    pthread_create(&rotate_thread, NULL, rotator, NULL);
    for (int i = 0; i < STARTERS; i++)
        pthread_create(&starters[i], NULL, starter, (void *)(intptr_t)opens);
    for (int i = 0; i < STARTERS; i++)
        pthread_join(starters[i], NULL);
    pthread_mutex_lock(&g_table);
    g_stop = 1;
    pthread_mutex_unlock(&g_table);
    pthread_join(drain_thread, NULL);
    pthread_join(rotate_thread, NULL);

    if (!wfdsim_wait_idle(10000))
        FAIL("simulator not idle");
    pthread_mutex_lock(&g_table);
    wfdx_channel_close(g_channel);
    drain_locked(g_channel);
    for (uint64_t seq = 1; seq < g_next; seq++) {
        open_rec *o = &g_opens[seq];
        if (o->completions != 1 || o->received != o->handle) {
            FAIL("open %llu: %d completions, handle %#lx vs %#lx", (unsigned long long)seq,
                 o->completions, (unsigned long)o->received, (unsigned long)o->handle);
            break;
        }
    }
    pthread_mutex_unlock(&g_table);
    for (int ch = 1; ch < WFDX_MAX_CHANNELS; ch++)
        if (wfdx_channels[ch].state != WFDX_FREE)
            FAIL("channel %d not freed", ch);
    if (!wfdsim_wait_idle(10000))
        FAIL("simulator not idle after the closes");
    if (wfdx_close_handle((uintptr_t)g_client) != 0)
        FAIL("WFDCloseHandle");
    wfdsim_stats st;
    wfdsim_get_stats(&st);
    if (st.violations || st.sessions || st.pending_opens || st.clients)
        FAIL("stats: %llu violations, %u sessions, %u pending, %u clients",
             (unsigned long long)st.violations, st.sessions, st.pending_opens, st.clients);
    printf("channels_stress: %llu opens, %llu queued, %llu direct, %llu cancels (%llu refused: "
           "already queued), %llu channel rotations, %llu errors\n",
           (unsigned long long)(g_next - 1), (unsigned long long)g_queued,
           (unsigned long long)g_direct, (unsigned long long)g_cancels,
           (unsigned long long)g_refused, (unsigned long long)g_rotations,
           (unsigned long long)g_errors);
    free(g_opens);
    return g_errors ? 1 : 0;
}
