/* wpas_internal.h: what the files of the wpa_supplicant backend share (src/wpas/).
 *
 * - wpas.c: the seven WFD functions, the objects (clients, sessions) and the event thread that
 *   forms sessions and delivers their completions;
 * - control.c: wpas.h (configuration, discovery, pairing) and the request helpers;
 * - system.c: backend.h (devices, interfaces, link changes) for this backend;
 * - ctrl.c / parse.c: the socket transport and the text parsers.
 *
 * The mapping of the API onto wpa_supplicant, and every choice made where the two differ, is
 * documented in docs/wpas.md.
 */
#ifndef WPAS_INTERNAL_H
#define WPAS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#ifndef WINAPI
#define WINAPI
#endif
#ifndef __stdcall
#define __stdcall
#endif
#include "wfd_types_posix.h"

#include "backend.h"
#include "ctrl.h"
#include "parse.h"
#include "platform.h"
#include "wfd.h"
#include "wpas.h"

/* Win32 codes this backend returns. */
#define W_SUCCESS 0u
#define W_ACCESS_DENIED 5u
#define W_INVALID_HANDLE 6u
#define W_NOT_ENOUGH_MEMORY 8u
#define W_NOT_SUPPORTED 50u
#define W_INVALID_PARAMETER 87u
#define W_SERVICE_NOT_ACTIVE 1062u
#define W_POSSIBLE_DEADLOCK 1131u
#define W_NOT_FOUND 1168u
#define W_CANCELLED 1223u
#define W_NOT_AUTHENTICATED 1244u
#define W_TIMEOUT 1460u
#define W_INVALID_STATE 5023u

/* Reason codes of failed completions (docs/wpas.md). */
#define R_NOT_PAIRED 2u      /* no persistent group with the peer */
#define R_NOT_VISIBLE 3u     /* not found / no answer within the formation time */
#define R_CANCELLED 4u       /* WFDCancelOpenSession */
#define R_SERVICE 5u         /* wpa_supplicant went away while pending */
#define R_CLIENT_CLOSED 7u   /* the client was closed while pending */
#define R_INVITATION 100u    /* + the P2P status of P2P-INVITATION-RESULT */
#define R_FORMATION 200u     /* + the status of a formation failure */
#define R_GROUP_REMOVED 300u /* the group went away during formation */

enum { K_CLIENT = 1, K_SESSION = 2 };

/* Session states. */
enum {
    S_QUEUED = 1,  /* started, waiting for its turn (one formation at a time) */
    S_FORMING,     /* its formation runs (see `step`) */
    S_DELIVERING,  /* its completion callback runs */
    S_OPEN,        /* opened: its group is up (link_up says whether the peer is still there) */
    S_CLOSING,     /* WFDCloseSession: the handle is invalid; the group is to be removed */
    S_REMOVING,    /* the event thread is removing its group */
    S_DONE         /* failed and delivered, or closed: to be freed by the event thread */
};

/* Formation steps. */
enum { F_LOOKUP = 1, F_FIND, F_INVITE, F_RESULT, F_GROUP, F_STATION };

typedef struct wobj {
    struct wobj *next;
    HANDLE handle;
    int kind;
    /* clients */
    int closing;
    uint32_t pending; /* its sessions started and not yet delivered */
    /* sessions */
    struct wobj *client;
    int state, step;
    unsigned char peer[6];
    PVOID ctx;
    WFD_OPEN_SESSION_COMPLETE_CALLBACK callback;
    long net_id;       /* the persistent group's network id */
    int we_go;         /* we are its group owner */
    char ifname[64];   /* the group interface, once started */
    GUID guid;         /* derived from the interface name */
    int link_up;
    int cancel;        /* WFDCancelOpenSession or the client's close asked to stop */
    uint64_t deadline; /* the formation's end (plat_now_ns) */
    uint64_t settled;  /* as group owner: its group is not removed before this (plat_now_ns) */
    unsigned char sta[6]; /* as group owner: the peer's station address in our group */
    int sta_joined;    /* ... and it is associated (AP-STA-CONNECTED, no DISCONNECTED since) */
    int farewell;      /* the peer was told that the group ends (DEAUTHENTICATE sent) */
    DWORD error, reason;
} wobj;

typedef struct {
    plat_mutex lock;          /* everything below but `req` */
    plat_cond cv;             /* deliveries, link changes, closes */
    char dir[256];            /* the control directory */
    char dev_if[64];          /* the P2P device interface's socket name (p2p-dev-wlan0) */
    unsigned char own[6];     /* our P2P device address */
    int configured;
    uint32_t config_gen;      /* bumped by each wpas_configure: the event thread re-attaches */
    char why[512];
    int save_config;          /* update_config=1 */
    wobj *objs;
    uint64_t next_id;
    int thread_running, stop;
    int wake[2];              /* the event thread's wake-up pipe */
    int service_down;         /* the event socket failed: no wpa_supplicant */
    uint64_t link_seq;
    wobj *forming;            /* the session whose formation runs */
    unsigned char late_peer[6]; /* a formation that ended while wpa_supplicant went on ... */
    uint64_t late_until;        /* ... may still start its group until then: it is removed */
    uint32_t formation_ms, reply_ms, visibility_ms;
    uint32_t settle_ms;       /* a new group's grace before removal (docs/wpas.md) */
    plat_mutex req_lock;      /* the request socket */
    wpas_ctrl req;
} wpas_global;

extern wpas_global G;

void wpas_init(void);                 /* once, before anything (lock, defaults) */
void wpas_lock(void);
void wpas_unlock(void);

/* A request on the P2P device's socket: the reply's length, or -errno (a reply that is not
 * "OK"/a value is left to the caller). Reconnects once when the socket went away. Any thread;
 * never holds G.lock (takes req_lock). */
long wpas_request(const char *cmd, char *reply, size_t size);
/* The same on another interface's socket (a group interface's STATUS). */
long wpas_request_on(const char *ifname, const char *cmd, char *reply, size_t size);
/* The persistent P2P groups wpa_supplicant stores (LIST_NETWORKS: those flagged
 * [P2P-PERSISTENT] with a bssid), up to WPAS_MAX_NETWORKS into nets, and our own P2P device
 * address into own: their number, or -1 when wpa_supplicant does not answer. A group whose
 * bssid is ours is one we own; any other is owned by the peer at its bssid. */
#define WPAS_MAX_NETWORKS 64
long wpas_persistent_groups(wpas_network *nets, unsigned char own[6]);
/* The peers stored as clients of the group with that network id (GET_NETWORK <id>
 * p2p_client_list), up to WPAS_MAX_CLIENTS: their number (0 for none or FAIL), or -1 when
 * wpa_supplicant does not answer. */
#define WPAS_MAX_CLIENTS 16
long wpas_group_clients(long id, unsigned char clients[][6]);
/* The persistent group stored with that peer: 0 and its id and our role, W_NOT_FOUND, or
 * W_SERVICE_NOT_ACTIVE. */
DWORD wpas_find_network(const unsigned char *peer, long *net_id, int *we_go);
/* A line on stderr when $WIFIDIRECT_WPAS_TRACE is set (debugging the backend). */
void wpas_trace(const char *fmt, ...);
/* An address as "aa:bb:cc:dd:ee:ff" into out[18]. */
void wpas_format_mac(const unsigned char *mac, char *out);
/* Wake the event thread. */
void wpas_wake(void);
/* A link came up or went down (lock held). */
void wpas_link_changed(void);
/* Record whether a peer answered a discovery (lock held): Device.visible. */
void wpas_set_visible(const unsigned char *peer, int visible);
/* -1 unknown, else the last recorded visibility (lock held). */
int wpas_get_visible(const unsigned char *peer);
/* The session with that interface GUID (lock held), or NULL. */
wobj *wpas_session_by_guid(const unsigned char *guid);

#endif /* WPAS_INTERNAL_H */
