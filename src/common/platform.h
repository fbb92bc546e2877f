/* platform.h: the thin portability layer (pthreads or Win32) of wifidirect's C: the native
 * guard (src/shim/shim.c) and the simulator (src/wfdsim/).
 *
 * Mutex, condition variable with a timed wait against the monotonic clock, 32-bit atomics,
 * detached threads, monotonic time in nanoseconds, sleeping, one-time initialisation, a
 * thread-local storage class and a little start-up entropy. Nothing here knows about Wi-Fi
 * Direct.
 */
#ifndef WFDSIM_PLATFORM_H
#define WFDSIM_PLATFORM_H

#include <stdint.h>

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
typedef SRWLOCK plat_mutex;
typedef CONDITION_VARIABLE plat_cond;
typedef INIT_ONCE plat_once_t;
#define PLAT_ONCE_INIT INIT_ONCE_STATIC_INIT
#else
#include <pthread.h>
typedef pthread_mutex_t plat_mutex;
typedef pthread_cond_t plat_cond;
typedef pthread_once_t plat_once_t;
#define PLAT_ONCE_INIT PTHREAD_ONCE_INIT
#endif

#if defined(_MSC_VER) && !defined(__clang__)
#define PLAT_THREAD_LOCAL __declspec(thread)
#else
#define PLAT_THREAD_LOCAL _Thread_local
#endif

/* Sequentially consistent atomics on a uint32_t: GCC/Clang builtins (also mingw-w64), or the
 * Interlocked functions of MSVC. Add returns the new value. */
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
static __inline uint32_t plat_atomic_add(volatile uint32_t *p, int32_t delta)
{
    return (uint32_t)_InterlockedExchangeAdd((volatile long *)p, (long)delta) + (uint32_t)delta;
}
static __inline uint32_t plat_atomic_load(volatile uint32_t *p)
{
    return (uint32_t)_InterlockedOr((volatile long *)p, 0);
}
static __inline void plat_atomic_store(volatile uint32_t *p, uint32_t value)
{
    (void)_InterlockedExchange((volatile long *)p, (long)value);
}
#else
static inline uint32_t plat_atomic_add(volatile uint32_t *p, int32_t delta)
{
    return __atomic_add_fetch(p, (uint32_t)delta, __ATOMIC_SEQ_CST);
}
static inline uint32_t plat_atomic_load(volatile uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}
static inline void plat_atomic_store(volatile uint32_t *p, uint32_t value)
{
    __atomic_store_n(p, value, __ATOMIC_SEQ_CST);
}
#endif

void plat_mutex_init(plat_mutex *m);
void plat_mutex_lock(plat_mutex *m);
void plat_mutex_unlock(plat_mutex *m);

void plat_cond_init(plat_cond *c);
void plat_cond_wait(plat_cond *c, plat_mutex *m);
/* Wait until signalled or until plat_now_ns() >= deadline_ns; 1 on timeout, else 0. Spurious
 * wake-ups happen: callers re-check their condition. */
int plat_cond_timedwait(plat_cond *c, plat_mutex *m, uint64_t deadline_ns);
void plat_cond_broadcast(plat_cond *c);
/* Wake one waiter (if any). */
void plat_cond_signal(plat_cond *c);

/* Start a detached thread running fn(arg), with every signal blocked; 0 on success, -1 on
 * failure. */
int plat_thread_start(void (*fn)(void *), void *arg);
/* The calling thread: run as a batch thread where the OS has that (Linux's SCHED_BATCH: it does
 * not preempt the thread whose call woke it); best effort, no-op elsewhere. */
void plat_thread_batch(void);
/* The calling thread's name as tools show it (Linux, 15 bytes at most); no-op elsewhere. */
void plat_thread_name(const char *name);
/* Keep the module (DLL) that contains `address` loaded until the process ends (Windows; a
 * shared object on POSIX stays loaded while its threads run anyway: no-op). */
void plat_pin_module(void *address);

uint64_t plat_now_ns(void);           /* monotonic clock, nanoseconds */
void plat_sleep_ns(uint64_t ns);
void plat_once(plat_once_t *once, void (*fn)(void));
uint64_t plat_entropy(void);          /* clock bits, process id, addresses: a PRNG seed */

#endif /* WFDSIM_PLATFORM_H */
