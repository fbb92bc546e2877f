/* wfdsim_internal.h: the one header every simulator .c file includes.
 *
 * include/wfd.h, wfdsim.h and wfd_types_posix.h have no include guards (cffi's cdef parses
 * them), so they are included here, once, behind this header's guard.
 */
#ifndef WFDSIM_INTERNAL_H
#define WFDSIM_INTERNAL_H

#include <stdint.h>
#include <stddef.h>

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#else
#ifndef WINAPI
#define WINAPI
#endif
#ifndef __stdcall
#define __stdcall
#endif
#include "wfd_types_posix.h"
#endif

#include "wfd.h"
#include "wfdsim.h"
#include "platform.h"

/* ---- live objects (all fields guarded by the global lock) ---------------------------- */

enum { OBJ_CLIENT = 0, OBJ_SESSION = 1 }; /* also the low bit of a handle's counter */

typedef struct wfd_obj {
    HANDLE handle;
    struct wfd_obj *hnext; /* hash-table chain */
    int type;              /* OBJ_CLIENT or OBJ_SESSION */
    int in_table;          /* the handle is live */
} wfd_obj;

struct wfd_session;

typedef struct wfd_client {
    wfd_obj hdr;
    int closing;                  /* WFDCloseHandle is waiting for pending opens */
    uint32_t pending;             /* opens whose callback has not returned */
    uint32_t refs;                /* 1 while live + 1 per session object */
    struct wfd_session *sessions; /* live sessions (in the table), doubly linked */
} wfd_client;

enum { SS_PENDING, SS_DELIVERING, SS_OPEN };
enum { ITEM_NONE, ITEM_COMPLETION, ITEM_DISCONNECT };

typedef struct wfd_session {
    wfd_obj hdr;
    wfd_client *client;
    struct wfd_session *prev, *next; /* in client->sessions while live */
    int state;                       /* SS_* */
    int item;                        /* what the heap entry means, ITEM_NONE if not queued */
    uint32_t refs;                   /* 1 live + 1 queued + 1 being delivered */
    uint64_t epoch;                  /* wfdsim_reset generation it was created in */
    size_t heap_idx;                 /* position in the heap while queued */
    uint64_t due, seq;               /* heap key: due time (ns), then FIFO sequence */
    WFD_OPEN_SESSION_COMPLETE_CALLBACK pfn;
    PVOID ctx;
    unsigned char addr[6];
    DWORD forced_error, forced_reason; /* set by cancel/reset: overrides the peer outcome */
    /* Once open: its simulated network interface (docs/simulator.md, "Interfaces"). */
    GUID guid;            /* the interface GUID the callback (or the legacy open) gave */
    uint32_t iface_no;    /* 1, 2, ...: the interface's number in this process */
    int link_up;          /* the link is up: open, not dropped (wfdsim_drop), not closed */
    DWORD down_reason;    /* wfdsim_drop's reason */
} wfd_session;

/* ---- handles.c: handle values and the live-handle hash table ------------------------- */

typedef struct wfd_table {
    wfd_obj **buckets;
    size_t nbuckets; /* power of two, or 0 before the first insert */
    size_t count;
} wfd_table;

void wfd_handles_init(uint64_t seed);
/* New handle of `type` from next_seq[type]; 0 on success, -1 if the counter space is spent. */
int wfd_handle_new(int type, uint64_t next_seq[2], HANDLE *out);
/* Was `h` ever issued as `type` (given the counters)? */
int wfd_handle_was_issued(HANDLE h, int type, const uint64_t next_seq[2]);

int wfd_table_reserve(wfd_table *t); /* room for one more insert: 0, or -1 (allocation) */
void wfd_table_insert(wfd_table *t, wfd_obj *o);
wfd_obj *wfd_table_find(const wfd_table *t, HANDLE h);
void wfd_table_remove(wfd_table *t, wfd_obj *o);
/* Empty the table; returns every object chained through hnext. */
wfd_obj *wfd_table_drain(wfd_table *t);

/* ---- wfdsim.c: the allocator that honours wfdsim_fail_allocations (lock held) ---------- */
void *wfd_alloc(size_t size);
void *wfd_realloc(void *p, size_t size);

/* ---- wfdsim.c, for system.c: the simulated system around the API (devices, interfaces) -- */
void wfd_lock(void);   /* the simulator's lock (initialising it on first use) */
void wfd_unlock(void);
/* Visit every live session (lock held). */
void wfd_each_session(void (*visit)(wfd_session *s, void *arg), void *arg);
/* The peers (lock held): count, and the one at an index. */
uint32_t wfd_peer_count(void);
const wfdsim_peer *wfd_peer_at(uint32_t index);
int wfd_service_running(void); /* lock held */
/* Wait (lock held) up to timeout_ms for a link change after `seen`; returns the change count. */
uint64_t wfd_wait_link_change(uint64_t seen, uint32_t timeout_ms);
uint64_t wfd_link_changes(void); /* lock held */
void wfd_link_poke(void);         /* lock held: wake the link waiters, as after a change */

#endif /* WFDSIM_INTERNAL_H */
