/* platform.h: the simulator's thin portability layer (pthreads or Win32).
 *
 * Mutex, condition variable with a timed wait against the monotonic clock, detached threads,
 * monotonic time in nanoseconds, sleeping, one-time initialisation, a thread-local storage
 * class and a little start-up entropy. Nothing here knows about Wi-Fi Direct.
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

/* Start a detached thread running fn(arg); 0 on success, -1 on failure. */
int plat_thread_start(void (*fn)(void *), void *arg);

uint64_t plat_now_ns(void);           /* monotonic clock, nanoseconds */
void plat_sleep_ns(uint64_t ns);
void plat_once(plat_once_t *once, void (*fn)(void));
uint64_t plat_entropy(void);          /* clock bits, process id, addresses: a PRNG seed */

#endif /* WFDSIM_PLATFORM_H */
