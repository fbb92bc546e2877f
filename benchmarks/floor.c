/* floor.c: the C floor for benchmarks/bench.py.
 *
 * Pure C loops over the simulator that the package's own build produced: bench.py passes the
 * addresses of WFD* functions taken from the loaded wifidirect._wfdsim module, so the floor and
 * the Python rows measure the very same simulator. Built by bench.py with the system compiler
 * into benchmarks/.build/ (git-ignored).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef uint32_t DWORD;
typedef void *HANDLE;
typedef struct { uint32_t d1; uint16_t d2, d3; unsigned char d4[8]; } GUID;
typedef void (*callback_fn)(HANDLE, void *, GUID, DWORD, DWORD);
typedef DWORD (*start_fn)(HANDLE, const unsigned char *, void *, callback_fn, HANDLE *);
typedef DWORD (*close_fn)(HANDLE);
typedef DWORD (*visibility_fn)(const unsigned char *);

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Row 1: ns per WFDUpdateDeviceVisibility call from a C loop. */
double floor_visibility_ns(visibility_fn update, const unsigned char *mac, long n) {
    double start = now_ns();
    for (long i = 0; i < n; i++) {
        if (update(mac) != 0) return -1.0;
    }
    return (now_ns() - start) / (double)n;
}

/* Completion queue shared by the worker callbacks and the driving thread. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    HANDLE *done;      /* completed session handles (ring) */
    DWORD *errors;
    long cap, head, count;
} queue_t;

static void on_complete(HANDLE session, void *ctx, GUID guid, DWORD error, DWORD reason) {
    (void)guid;
    (void)reason;
    queue_t *q = ctx;
    pthread_mutex_lock(&q->mu);
    long tail = (q->head + q->count) % q->cap;
    q->done[tail] = session;
    q->errors[tail] = error;
    q->count++;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

/* Rows 2-3: open->close cycles with `inflight` opens outstanding; the driving thread waits on
 * a condition variable, closes each completed session and starts the next open. Writes each
 * cycle's latency (start to completion seen by the driver, ns) to lat (if not NULL) and returns
 * the total wall time in ns, or a negative value on error. */
double floor_cycles(start_fn start, close_fn close_session, HANDLE client,
                    const unsigned char *mac, long n, long inflight, double *lat) {
    queue_t q;
    memset(&q, 0, sizeof q);
    q.cap = inflight + 1;
    q.done = calloc((size_t)q.cap, sizeof *q.done);
    q.errors = calloc((size_t)q.cap, sizeof *q.errors);
    double *started = calloc((size_t)n, sizeof *started);
    HANDLE *handles = calloc((size_t)n, sizeof *handles);
    if (!q.done || !q.errors || !started || !handles) return -1.0;
    pthread_mutex_init(&q.mu, NULL);
    pthread_cond_init(&q.cv, NULL);
    double t0 = now_ns();
    long issued = 0, finished = 0;
    double result = 0.0;
    for (; issued < inflight && issued < n; issued++) {
        started[issued] = now_ns();
        if (start(client, mac, &q, on_complete, &handles[issued])) { result = -2.0; goto out; }
    }
    while (finished < n) {
        pthread_mutex_lock(&q.mu);
        while (q.count == 0) pthread_cond_wait(&q.cv, &q.mu);
        HANDLE session = q.done[q.head];
        DWORD error = q.errors[q.head];
        q.head = (q.head + 1) % q.cap;
        q.count--;
        pthread_mutex_unlock(&q.mu);
        double seen = now_ns();
        if (error) { result = -3.0; goto out; }
        /* With one open in flight, completions arrive in order: latency is exact. */
        if (lat) lat[finished] = seen - started[finished];
        if (close_session(session)) { result = -4.0; goto out; }
        finished++;
        if (issued < n) {
            started[issued] = now_ns();
            if (start(client, mac, &q, on_complete, &handles[issued])) { result = -2.0; goto out; }
            issued++;
        }
    }
    result = now_ns() - t0;
out:
    /* On error, wait for every outstanding callback before the queue goes away. */
    pthread_mutex_lock(&q.mu);
    while (finished + q.count < issued) pthread_cond_wait(&q.cv, &q.mu);
    pthread_mutex_unlock(&q.mu);
    free(q.done);
    free(q.errors);
    free(started);
    free(handles);
    return result;
}
