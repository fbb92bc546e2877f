/* shim.c: the definitions of include/shim.h, compiled into each wifidirect module's own C.
 *
 * build_ffi.py puts `#include "shim.c"` in the set_source preamble of wifidirect._wfdsim and
 * wifidirect._wlanapi, after the platform's types and wfd.h and before cffi's generated code
 * (which defines the extern "Python" callback wfd_open_complete declared below). It is a .c
 * file included by one translation unit per module, so every definition is static.
 * tests/c/channels_stress.c includes it the same way, with its own wfd_open_complete.
 */
#include <stddef.h>
#include <stdint.h>

#if defined(_MSC_VER)
#define WFDX_THREAD_LOCAL __declspec(thread)
#else
#define WFDX_THREAD_LOCAL _Thread_local
#endif
static WFDX_THREAD_LOCAL DWORD wfdx_error;
#include "wfdx_channel.h"
static void WINAPI wfd_open_complete(HANDLE, PVOID, GUID, DWORD, DWORD);

static DWORD wfdx_last_error(void) { return wfdx_error; }

/* WFDStartOpenSession with `callback`: the session handle, or 0 with the code kept for
 * wfdx_last_error(). */
static uintptr_t wfdx_start(uintptr_t client, const char *address, uintptr_t token,
                            WFD_OPEN_SESSION_COMPLETE_CALLBACK callback)
{
    HANDLE session = NULL;
    DWORD rc = WFDStartOpenSession((HANDLE)client, (PDOT11_MAC_ADDRESS)address, (PVOID)token,
                                   callback, &session);
    wfdx_error = rc;
    return rc ? 0 : (uintptr_t)session;
}

static uintptr_t wfdx_start_open(uintptr_t client, const char *address, uintptr_t token)
{
    return wfdx_start(client, address, token, wfd_open_complete);
}

static DWORD wfdx_cancel_open(uintptr_t s) { return WFDCancelOpenSession((HANDLE)s); }

/* ---- Completion channels (include/shim.h): completions queued in C for an event loop -------
 *
 * An open started with wfdx_start_open_queued() completes into wfdx_enqueue(), which runs on
 * the API's thread without the GIL: it copies the five arguments into the channel named by
 * the token's low 16 bits, and writes the channel's wake-up descriptor (an eventfd, or a pipe)
 * only when the queue was empty since the last drain. The event loop watches the descriptor
 * and drains every queued completion in one go (wfdx_channel_drain), so a burst of
 * completions costs one wake-up and no GIL acquisition on the API's thread.
 *
 * A failed open's handle becomes invalid when its callback returns, which for a queued
 * completion is before Python has seen it. So WFDCancelOpenSession for a queued open goes
 * through wfdx_cancel_queued(): under the channel lock it looks for the completion in the
 * queue and cancels only if it is not there; wfdx_enqueue() needs that lock to return, so the
 * handle cannot become invalid in between.
 *
 * A completion whose channel is closed (its loop is gone) or whose queue cannot grow is
 * delivered through the extern "Python" callback instead, like a direct one. One mutex guards
 * the channel table; nothing else is global. Windows builds and 32-bit builds have no
 * channels (wfdx_channel_open() returns -1) and every open is direct. */
#define WFDX_CHANNEL_MASK 0xFFFFu
#if !defined(_WIN32) && UINTPTR_MAX > 0xFFFFFFFFu
/* The wake-up descriptor: an eventfd on Linux, a non-blocking pipe elsewhere (macOS, BSD).
 * tests/c/channels_stress.c also builds the pipe variant on Linux (-DWFDX_USE_PIPE=1). */
#ifndef WFDX_USE_PIPE
#if defined(__linux__)
#define WFDX_USE_PIPE 0
#else
#define WFDX_USE_PIPE 1
#endif
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if !WFDX_USE_PIPE
#include <sys/eventfd.h>
#endif

enum { WFDX_FREE, WFDX_OPEN, WFDX_CLOSED };

typedef struct {
    int state;
    int read_fd, write_fd; /* the same eventfd on Linux */
    int signaled;          /* the descriptor was written since the last full drain */
    wfdx_item *items;      /* FIFO */
    size_t count, cap;
} wfdx_channel;

static pthread_mutex_t wfdx_mu = PTHREAD_MUTEX_INITIALIZER;
static wfdx_channel wfdx_channels[WFDX_MAX_CHANNELS]; /* slot 0 is never used */

static wfdx_channel *wfdx_channel_at(uintptr_t ch)
{
    return (ch > 0 && ch < WFDX_MAX_CHANNELS && wfdx_channels[ch].state != WFDX_FREE)
               ? &wfdx_channels[ch]
               : NULL;
}

static void wfdx_close_fds(wfdx_channel *c)
{
    if (c->read_fd >= 0)
        close(c->read_fd);
    if (c->write_fd >= 0 && c->write_fd != c->read_fd)
        close(c->write_fd);
    c->read_fd = c->write_fd = -1;
}

static void wfdx_release_if_done(wfdx_channel *c)
{
    if (c->state == WFDX_CLOSED && c->count == 0) {
        free(c->items);
        memset(c, 0, sizeof *c);
        c->read_fd = c->write_fd = -1;
    }
}

static void WINAPI wfdx_enqueue(HANDLE session, PVOID context, GUID guid, DWORD error,
                                DWORD reason)
{
    uintptr_t token = (uintptr_t)context;
    int queued = 0;
    pthread_mutex_lock(&wfdx_mu);
    wfdx_channel *c = wfdx_channel_at(token & WFDX_CHANNEL_MASK);
    if (c != NULL && c->state == WFDX_OPEN) {
        if (c->count == c->cap) {
            size_t cap = c->cap ? 2 * c->cap : 64;
            wfdx_item *grown = realloc(c->items, cap * sizeof *grown);
            if (grown != NULL) {
                c->items = grown;
                c->cap = cap;
            }
        }
        if (c->count < c->cap) {
            wfdx_item *it = &c->items[c->count++];
            it->token = token;
            it->session = (uint64_t)(uintptr_t)session;
            it->error = error;
            it->reason = reason;
            memcpy(it->guid, &guid, sizeof it->guid);
            queued = 1;
            if (!c->signaled) {
                c->signaled = 1;
#if !WFDX_USE_PIPE
                uint64_t one = 1;
                ssize_t w = write(c->write_fd, &one, sizeof one);
#else
                ssize_t w = write(c->write_fd, "", 1);
#endif
                (void)w; /* EAGAIN: the descriptor is readable already */
            }
        }
    }
    pthread_mutex_unlock(&wfdx_mu);
    if (!queued)
        wfd_open_complete(session, context, guid, error, reason);
}

static int wfdx_channel_open(void)
{
    int rfd, wfd;
#if !WFDX_USE_PIPE
    rfd = wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (rfd < 0)
        return -1;
#else
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    rfd = fds[0];
    wfd = fds[1];
#endif
    pthread_mutex_lock(&wfdx_mu);
    for (int ch = 1; ch < WFDX_MAX_CHANNELS; ch++) {
        wfdx_channel *c = &wfdx_channels[ch];
        if (c->state == WFDX_FREE) {
            memset(c, 0, sizeof *c);
            c->state = WFDX_OPEN;
            c->read_fd = rfd;
            c->write_fd = wfd;
            pthread_mutex_unlock(&wfdx_mu);
            return ch;
        }
    }
    pthread_mutex_unlock(&wfdx_mu);
    wfdx_channel spare = {.read_fd = rfd, .write_fd = wfd};
    wfdx_close_fds(&spare);
    return -1;
}

static int wfdx_channel_fd(int ch)
{
    pthread_mutex_lock(&wfdx_mu);
    wfdx_channel *c = wfdx_channel_at((uintptr_t)ch);
    int fd = c != NULL ? c->read_fd : -1;
    pthread_mutex_unlock(&wfdx_mu);
    return fd;
}

static size_t wfdx_channel_drain(int ch, wfdx_item *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&wfdx_mu);
    wfdx_channel *c = wfdx_channel_at((uintptr_t)ch);
    if (c != NULL) {
        n = c->count < max ? c->count : max;
        if (n > 0) { /* items is NULL until the first completion */
            memcpy(out, c->items, n * sizeof *out);
            c->count -= n;
            memmove(c->items, c->items + n, c->count * sizeof *out);
        }
        if (c->count == 0 && c->signaled && c->state == WFDX_OPEN) {
            char sink[8];
            ssize_t r;
            do {
                r = read(c->read_fd, sink, sizeof sink);
            } while (r > 0 && c->read_fd != c->write_fd);
            c->signaled = 0;
        }
        wfdx_release_if_done(c);
    }
    pthread_mutex_unlock(&wfdx_mu);
    return n;
}

static void wfdx_channel_close(int ch)
{
    pthread_mutex_lock(&wfdx_mu);
    wfdx_channel *c = wfdx_channel_at((uintptr_t)ch);
    if (c != NULL && c->state == WFDX_OPEN) {
        c->state = WFDX_CLOSED;
        wfdx_close_fds(c);
        wfdx_release_if_done(c);
    }
    pthread_mutex_unlock(&wfdx_mu);
}

static DWORD wfdx_cancel_queued(uintptr_t session, uintptr_t token)
{
    DWORD rc = WFDX_ALREADY_COMPLETE;
    pthread_mutex_lock(&wfdx_mu);
    wfdx_channel *c = wfdx_channel_at(token & WFDX_CHANNEL_MASK);
    size_t i = 0;
    if (c != NULL)
        while (i < c->count && c->items[i].token != token)
            i++;
    if (c == NULL || i == c->count)
        rc = WFDCancelOpenSession((HANDLE)session);
    pthread_mutex_unlock(&wfdx_mu);
    return rc;
}
#else /* no channels: every open is direct */
#define wfdx_enqueue wfd_open_complete
static int wfdx_channel_open(void) { return -1; }
static int wfdx_channel_fd(int ch) { (void)ch; return -1; }
static size_t wfdx_channel_drain(int ch, wfdx_item *out, size_t max)
{
    (void)ch, (void)out, (void)max;
    return 0;
}
static void wfdx_channel_close(int ch) { (void)ch; }
static DWORD wfdx_cancel_queued(uintptr_t session, uintptr_t token)
{
    (void)token;
    return WFDCancelOpenSession((HANDLE)session);
}
#endif

static uintptr_t wfdx_start_open_queued(uintptr_t client, const char *address, uintptr_t token)
{
    return wfdx_start(client, address, token, wfdx_enqueue);
}
static DWORD wfdx_close_session(uintptr_t s) { return WFDCloseSession((HANDLE)s); }
static DWORD wfdx_close_handle(uintptr_t c) { return WFDCloseHandle((HANDLE)c); }
static DWORD wfdx_update_visibility(const char *address)
{
    return WFDUpdateDeviceVisibility((PDOT11_MAC_ADDRESS)address);
}
