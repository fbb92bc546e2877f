/* platform.c: see platform.h. POSIX (pthreads) and Win32 (SRWLOCK, CONDITION_VARIABLE,
 * _beginthreadex, QueryPerformanceCounter, InitOnceExecuteOnce) implementations. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* SCHED_BATCH, pthread_setname_np */
#endif
#if !defined(_WIN32)
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#endif

#include "platform.h"

#include <stdlib.h>

typedef struct thread_box {
    void (*fn)(void *);
    void *arg;
} thread_box;

#ifdef _WIN32

#include <process.h>

void plat_mutex_init(plat_mutex *m) { InitializeSRWLock(m); }
void plat_mutex_lock(plat_mutex *m) { AcquireSRWLockExclusive(m); }
void plat_mutex_unlock(plat_mutex *m) { ReleaseSRWLockExclusive(m); }

void plat_cond_init(plat_cond *c) { InitializeConditionVariable(c); }
void plat_cond_wait(plat_cond *c, plat_mutex *m) { SleepConditionVariableSRW(c, m, INFINITE, 0); }
void plat_cond_broadcast(plat_cond *c) { WakeAllConditionVariable(c); }
void plat_cond_signal(plat_cond *c) { WakeConditionVariable(c); }

int plat_cond_timedwait(plat_cond *c, plat_mutex *m, uint64_t deadline_ns)
{
    uint64_t now = plat_now_ns();
    uint64_t ms;
    if (now >= deadline_ns)
        return 1;
    ms = (deadline_ns - now + 999999u) / 1000000u;
    if (ms >= (uint64_t)INFINITE)
        ms = (uint64_t)INFINITE - 1u;
    if (!SleepConditionVariableSRW(c, m, (DWORD)ms, 0))
        return GetLastError() == ERROR_TIMEOUT ? 1 : 0;
    return 0;
}

static unsigned __stdcall thread_tramp(void *p)
{
    thread_box box = *(thread_box *)p;
    free(p);
    box.fn(box.arg);
    return 0;
}

int plat_thread_start(void (*fn)(void *), void *arg)
{
    thread_box *box = malloc(sizeof *box);
    uintptr_t th;
    if (!box)
        return -1;
    box->fn = fn;
    box->arg = arg;
    th = _beginthreadex(NULL, 0, thread_tramp, box, 0, NULL);
    if (th == 0) {
        free(box);
        return -1;
    }
    CloseHandle((HANDLE)th);
    return 0;
}

uint64_t plat_now_ns(void)
{
    LARGE_INTEGER freq, c;
    QueryPerformanceFrequency(&freq); /* fixed at boot; cheap to read */
    QueryPerformanceCounter(&c);
    return (uint64_t)(c.QuadPart / freq.QuadPart) * 1000000000u +
           (uint64_t)(c.QuadPart % freq.QuadPart) * 1000000000u / (uint64_t)freq.QuadPart;
}

void plat_sleep_ns(uint64_t ns)
{
    uint64_t ms = (ns + 999999u) / 1000000u;
    while (ms > 0) {
        DWORD chunk = ms > 0x7fffffffu ? 0x7fffffffu : (DWORD)ms;
        Sleep(chunk);
        ms -= chunk;
    }
}

typedef struct once_box {
    void (*fn)(void);
} once_box;

static BOOL CALLBACK once_tramp(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once;
    (void)ctx;
    ((once_box *)param)->fn();
    return TRUE;
}

void plat_once(plat_once_t *once, void (*fn)(void))
{
    once_box box;
    box.fn = fn;
    InitOnceExecuteOnce(once, once_tramp, &box, NULL);
}

void plat_thread_batch(void) {}
void plat_thread_name(const char *name) { (void)name; }

void plat_pin_module(void *address)
{
    HMODULE module;
    (void)GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                                 GET_MODULE_HANDLE_EX_FLAG_PIN,
                             (LPCWSTR)address, &module);
}

uint64_t plat_entropy(void)
{
    LARGE_INTEGER c;
    int local = 0;
    QueryPerformanceCounter(&c);
    return (uint64_t)c.QuadPart ^ ((uint64_t)GetCurrentProcessId() << 32) ^
           (uint64_t)GetTickCount64() * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)&local;
}

#else

#include <signal.h> /* POSIX */

#include <time.h>
#include <unistd.h>

#if defined(__APPLE__) || !defined(CLOCK_MONOTONIC)
#define PLAT_COND_REALTIME 1 /* no pthread_condattr_setclock: convert deadlines */
#endif

static void check(int rc)
{
    if (rc != 0)
        abort(); /* only on misuse or resource exhaustion at init: nothing sane to return */
}

void plat_mutex_init(plat_mutex *m) { check(pthread_mutex_init(m, NULL)); }
void plat_mutex_lock(plat_mutex *m) { check(pthread_mutex_lock(m)); }
void plat_mutex_unlock(plat_mutex *m) { check(pthread_mutex_unlock(m)); }

void plat_cond_init(plat_cond *c)
{
#ifdef PLAT_COND_REALTIME
    check(pthread_cond_init(c, NULL));
#else
    pthread_condattr_t attr;
    check(pthread_condattr_init(&attr));
    check(pthread_condattr_setclock(&attr, CLOCK_MONOTONIC));
    check(pthread_cond_init(c, &attr));
    pthread_condattr_destroy(&attr);
#endif
}

void plat_cond_wait(plat_cond *c, plat_mutex *m) { check(pthread_cond_wait(c, m)); }
void plat_cond_broadcast(plat_cond *c) { check(pthread_cond_broadcast(c)); }
void plat_cond_signal(plat_cond *c) { check(pthread_cond_signal(c)); }

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t plat_now_ns(void)
{
#ifdef CLOCK_MONOTONIC
    return clock_ns(CLOCK_MONOTONIC);
#else
    return clock_ns(CLOCK_REALTIME);
#endif
}

int plat_cond_timedwait(plat_cond *c, plat_mutex *m, uint64_t deadline_ns)
{
    struct timespec ts;
    uint64_t now = plat_now_ns();
    uint64_t abs_ns;
    int rc;
    if (now >= deadline_ns)
        return 1;
#ifdef PLAT_COND_REALTIME
    abs_ns = clock_ns(CLOCK_REALTIME) + (deadline_ns - now);
#else
    abs_ns = deadline_ns;
#endif
    if (abs_ns > (uint64_t)INT32_MAX * 1000000000u) /* far future: keep time_t in range */
        abs_ns = (uint64_t)INT32_MAX * 1000000000u;
    ts.tv_sec = (time_t)(abs_ns / 1000000000u);
    ts.tv_nsec = (long)(abs_ns % 1000000000u);
    rc = pthread_cond_timedwait(c, m, &ts);
    return rc != 0; /* ETIMEDOUT (or EINTR-like wake-up): callers re-check anyway */
}

static void *thread_tramp(void *p)
{
    thread_box box = *(thread_box *)p;
    free(p);
    box.fn(box.arg);
    return NULL;
}

void plat_thread_batch(void)
{
#if defined(SCHED_BATCH)
    struct sched_param batch = {0};
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &batch); /* best effort */
#endif
}

void plat_thread_name(const char *name)
{
#if defined(__linux__)
    pthread_setname_np(pthread_self(), name);
#else
    (void)name;
#endif
}

void plat_pin_module(void *address) { (void)address; }

/* Workers are created with every signal blocked (the mask is inherited), so a process-directed
 * signal such as Ctrl-C's SIGINT is delivered to one of the application's threads, never to
 * the simulator's: a library's internal threads must not take the application's signals (a
 * SIGINT landing here would leave a Python main thread blocked in a wait, uninterrupted). */
int plat_thread_start(void (*fn)(void *), void *arg)
{
    pthread_t th;
    sigset_t all, old;
    int rc;
    thread_box *box = malloc(sizeof *box);
    if (!box)
        return -1;
    box->fn = fn;
    box->arg = arg;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&th, NULL, thread_tramp, box);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        free(box);
        return -1;
    }
    pthread_detach(th);
    return 0;
}

void plat_sleep_ns(uint64_t ns)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    while (nanosleep(&ts, &ts) != 0) {
    }
}

void plat_once(plat_once_t *once, void (*fn)(void)) { check(pthread_once(once, fn)); }

uint64_t plat_entropy(void)
{
    int local = 0;
    return clock_ns(CLOCK_REALTIME) ^ (plat_now_ns() * 0x9E3779B97F4A7C15ull) ^
           ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)&local;
}

#endif
