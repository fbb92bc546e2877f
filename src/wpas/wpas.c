/* wpas.c: the seven Wi-Fi Direct functions over wpa_supplicant's P2P control interface.
 *
 * The API's calls are quick: they check their arguments and handles, record what is wanted
 * and wake the event thread. The event thread does everything that talks to wpa_supplicant
 * for sessions: it ATTACHes to the P2P device's socket, forms one session at a time (look up
 * the persistent group with the peer, P2P_INVITE it, wait for the group), bounds each
 * formation with its own timer, turns cancellation, silence and failures into completions,
 * delivers every completion (the callback runs on this thread, as Windows runs it on a thread
 * of its pool), removes closed sessions' groups, and reports links that go down. It exists
 * while a client or a session does. docs/wpas.md has the mapping and its reasons.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2 */
#endif
#include "wpas_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

wpas_global G;

static plat_once_t init_once = PLAT_ONCE_INIT;
static PLAT_THREAD_LOCAL int tls_in_callback; /* this thread runs a completion callback */

static void fork_prepare(void);
static void fork_parent(void);
static void fork_child(void);

static void init(void)
{
    plat_mutex_init(&G.lock);
    plat_mutex_init(&G.req_lock);
    plat_cond_init(&G.cv);
    G.req.fd = -1;
    G.wake[0] = G.wake[1] = -1;
    G.formation_ms = 30000;
    G.reply_ms = 3000;
    G.visibility_ms = 5000;
    G.settle_ms = 1000;
    G.next_id = 1;
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void wpas_init(void) { plat_once(&init_once, init); }

void wpas_lock(void)
{
    wpas_init();
    plat_mutex_lock(&G.lock);
}

void wpas_unlock(void) { plat_mutex_unlock(&G.lock); }

/* fork(): the child has none of the parent's threads, and its sockets are the parent's. It
 * starts afresh: no objects (the parent's handles are invalid here), no event thread, the
 * configuration kept, the request socket reopened on first use. */
static void fork_prepare(void)
{
    plat_mutex_lock(&G.lock);
    plat_mutex_lock(&G.req_lock);
}

static void fork_parent(void)
{
    plat_mutex_unlock(&G.req_lock);
    plat_mutex_unlock(&G.lock);
}

static void fork_child(void)
{
    plat_mutex_init(&G.lock);
    plat_mutex_init(&G.req_lock);
    plat_cond_init(&G.cv);
    G.objs = NULL; /* the parent's: not freed here (the parent's threads may use them there) */
    G.forming = NULL;
    G.thread_running = G.stop = 0;
    if (G.wake[0] >= 0)
        close(G.wake[0]);
    if (G.wake[1] >= 0)
        close(G.wake[1]);
    G.wake[0] = G.wake[1] = -1;
    wpas_ctrl_close(&G.req);
}

void wpas_format_mac(const unsigned char *m, char *out)
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

void wpas_wake(void)
{
    char b = 1;
    if (G.wake[1] >= 0 && write(G.wake[1], &b, 1) < 0) {
        /* full pipe: a wake-up is already pending */
    }
}

void wpas_link_changed(void)
{
    G.link_seq++;
    plat_cond_broadcast(&G.cv);
}

/* ---- objects (lock held) ---------------------------------------------------------------- */

static wobj *lookup(HANDLE h, int kind)
{
    wobj *o;
    if (h == NULL)
        return NULL;
    for (o = G.objs; o != NULL; o = o->next)
        if (o->handle == h && o->kind == kind)
            return o;
    return NULL;
}

/* The session a handle names, unless it failed, was closed or is being removed: a handle the
 * API may still be called with (lock held). */
static wobj *live_session(HANDLE h)
{
    wobj *s = lookup(h, K_SESSION);
    if (s == NULL || s->state == S_DONE || s->state == S_CLOSING || s->state == S_REMOVING)
        return NULL;
    return s;
}

static wobj *new_obj(int kind)
{
    wobj *o = calloc(1, sizeof *o);
    if (o == NULL)
        return NULL;
    o->kind = kind;
    /* Never NULL, never INVALID_HANDLE_VALUE, never reused in the process. */
    o->handle = (HANDLE)(uintptr_t)(0x5750000000ull + (G.next_id++ << 4) + (unsigned)kind);
    o->next = G.objs;
    G.objs = o;
    return o;
}

static void unlink_obj(wobj *o)
{
    wobj **p;
    for (p = &G.objs; *p != NULL; p = &(*p)->next)
        if (*p == o) {
            *p = o->next;
            return;
        }
}

wobj *wpas_session_by_guid(const unsigned char *guid)
{
    wobj *o;
    for (o = G.objs; o != NULL; o = o->next)
        if (o->kind == K_SESSION && (o->state == S_OPEN || o->state == S_DELIVERING) &&
            o->ifname[0] != '\0' && memcmp(&o->guid, guid, sizeof o->guid) == 0)
            return o;
    return NULL;
}

/* A GUID from the group interface's name: two FNV-1a 64-bit hashes (of "wifidirect-wpas:" and
 * the name, with different bases), version 5 and RFC 4122 variant bits set. The same interface
 * name always gives the same GUID. */
static GUID guid_of(const char *ifname)
{
    static const char prefix[] = "wifidirect-wpas:";
    uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull;
    unsigned char bytes[16];
    const char *p;
    GUID g;
    int i;
    for (p = prefix; *p; p++) {
        a = (a ^ (unsigned char)*p) * 0x100000001b3ull;
        b = (b ^ (unsigned char)*p) * 0x100000001b3ull;
    }
    for (p = ifname; *p; p++) {
        a = (a ^ (unsigned char)*p) * 0x100000001b3ull;
        b = (b ^ (unsigned char)*p ^ 0x5a) * 0x100000001b3ull;
    }
    for (i = 0; i < 8; i++) {
        bytes[i] = (unsigned char)(a >> (8 * i));
        bytes[8 + i] = (unsigned char)(b >> (8 * i));
    }
    bytes[7] = (unsigned char)((bytes[7] & 0x0f) | 0x50); /* Data3's high nibble: version 5 */
    bytes[8] = (unsigned char)((bytes[8] & 0x3f) | 0x80); /* variant */
    memcpy(&g, bytes, sizeof g);
    return g;
}

/* ---- the seven functions ---------------------------------------------------------------- */

static int start_thread(void);

DWORD WINAPI WFDOpenHandle(DWORD version, PDWORD negotiated, PHANDLE client)
{
    wobj *c;
    char reply[64];
    long n;
    if (negotiated == NULL || client == NULL || version != WFD_API_VERSION)
        return W_INVALID_PARAMETER;
    wpas_init();
    if (!G.configured && wpas_configure(NULL) != 0)
        return W_SERVICE_NOT_ACTIVE;
    n = wpas_request("PING", reply, sizeof reply);
    if (n < 4 || memcmp(reply, "PONG", 4) != 0)
        return W_SERVICE_NOT_ACTIVE; /* no wpa_supplicant answers: as Windows without its service */
    wpas_lock();
    G.service_down = 0; /* it answers */
    c = new_obj(K_CLIENT);
    if (c == NULL || start_thread() != 0) {
        if (c != NULL) {
            unlink_obj(c);
            free(c);
        }
        wpas_unlock();
        return W_NOT_ENOUGH_MEMORY;
    }
    *negotiated = WFD_API_VERSION;
    *client = c->handle;
    wpas_unlock();
    return W_SUCCESS;
}

DWORD WINAPI WFDStartOpenSession(HANDLE hclient, PDOT11_MAC_ADDRESS address, PVOID ctx,
                                 WFD_OPEN_SESSION_COMPLETE_CALLBACK callback, PHANDLE session)
{
    wobj *c, *s;
    if (hclient == NULL || address == NULL || callback == NULL || session == NULL)
        return W_INVALID_PARAMETER;
    wpas_lock();
    c = lookup(hclient, K_CLIENT);
    if (c == NULL || c->closing) {
        wpas_unlock();
        return W_INVALID_HANDLE;
    }
    if (G.service_down) {
        char reply[16];
        long n;
        wpas_unlock();
        n = wpas_request("PING", reply, sizeof reply); /* back again? */
        if (n < 4 || memcmp(reply, "PONG", 4) != 0)
            return W_SERVICE_NOT_ACTIVE;
        wpas_lock();
        G.service_down = 0; /* the event thread attaches again */
        c = lookup(hclient, K_CLIENT);
        if (c == NULL || c->closing) {
            wpas_unlock();
            return W_INVALID_HANDLE;
        }
    }
    s = new_obj(K_SESSION);
    if (s == NULL) {
        wpas_unlock();
        return W_NOT_ENOUGH_MEMORY;
    }
    s->client = c;
    s->state = S_QUEUED;
    s->net_id = -1;
    memcpy(s->peer, *address, 6);
    s->ctx = ctx;
    s->callback = callback;
    s->deadline = plat_now_ns() + (uint64_t)G.formation_ms * 1000000u;
    c->pending++;
    *session = s->handle; /* before the event thread can see it: the callback gets the same */
    wpas_wake();
    wpas_unlock();
    return W_SUCCESS;
}

DWORD WINAPI WFDCancelOpenSession(HANDLE hsession)
{
    wobj *s;
    if (hsession == NULL)
        return W_INVALID_PARAMETER;
    wpas_lock();
    s = live_session(hsession);
    if (s == NULL) {
        wpas_unlock();
        return W_INVALID_HANDLE;
    }
    if (s->state == S_QUEUED || s->state == S_FORMING) {
        s->cancel = 1; /* the callback still comes, with ERROR_CANCELLED */
        wpas_wake();
    }
    wpas_unlock();
    return W_SUCCESS;
}

DWORD WINAPI WFDCloseSession(HANDLE hsession)
{
    wobj *s;
    if (hsession == NULL)
        return W_INVALID_PARAMETER;
    wpas_lock();
    s = live_session(hsession);
    if (s == NULL) {
        wpas_unlock();
        return W_INVALID_HANDLE;
    }
    if (s->state != S_OPEN && !(s->state == S_DELIVERING && s->error == 0)) {
        wpas_unlock(); /* pending: Windows leaves this undefined; here it does nothing */
        return W_INVALID_STATE;
    }
    s->state = S_CLOSING; /* the handle is invalid from now on; the group goes in background */
    if (s->link_up) {
        s->link_up = 0;
        wpas_link_changed();
    }
    wpas_wake();
    wpas_unlock();
    return W_SUCCESS;
}

/* Sessions of this client whose group is still to be removed (lock held). */
static int closing_sessions(const wobj *c)
{
    const wobj *o;
    for (o = G.objs; o != NULL; o = o->next)
        if (o->kind == K_SESSION && o->client == c &&
            (o->state == S_CLOSING || o->state == S_REMOVING))
            return 1;
    return 0;
}

DWORD WINAPI WFDCloseHandle(HANDLE hclient)
{
    wobj *c, *o;
    if (hclient == NULL)
        return W_INVALID_PARAMETER;
    wpas_lock();
    c = lookup(hclient, K_CLIENT);
    if (c == NULL || c->closing) {
        wpas_unlock();
        return W_INVALID_HANDLE;
    }
    if (tls_in_callback && c->pending > 0) {
        /* From a completion callback while the client has pending opens (the one being
         * delivered counts): waiting for them would wait for this very thread. */
        wpas_unlock();
        return W_POSSIBLE_DEADLOCK;
    }
    c->closing = 1;
    for (o = G.objs; o != NULL; o = o->next)
        if (o->kind == K_SESSION && o->client == c && (o->state == S_QUEUED || o->state == S_FORMING))
            o->cancel = 1; /* pending opens end: their callbacks come, then the handle goes */
    wpas_wake();
    while (c->pending > 0)
        plat_cond_wait(&G.cv, &G.lock);
    for (o = G.objs; o != NULL; o = o->next)
        if (o->kind == K_SESSION && o->client == c && o->state == S_OPEN) {
            o->state = S_CLOSING; /* its sessions close with it */
            if (o->link_up) {
                o->link_up = 0;
                wpas_link_changed();
            }
        }
    /* Its sessions' groups are removed before it returns (as Windows closes a client's
     * sessions with it): a process that exits next leaves nothing behind. The event thread
     * does it: bounded by the settle time and one request's reply timeout each. */
    wpas_wake();
    while (!tls_in_callback && closing_sessions(c)) /* (the event thread cannot wait for itself) */
        plat_cond_wait(&G.cv, &G.lock);
    unlink_obj(c);
    for (o = G.objs; o != NULL; o = o->next)
        if (o->kind == K_SESSION && o->client == c)
            o->client = NULL;
    free(c);
    wpas_wake(); /* ends the thread when nothing is left */
    wpas_unlock();
    return W_SUCCESS;
}

DWORD WINAPI WFDOpenLegacySession(HANDLE hclient, PDOT11_MAC_ADDRESS address, HANDLE *session,
                                  GUID *guid)
{
    wobj *c;
    if (hclient == NULL || address == NULL || session == NULL || guid == NULL)
        return W_INVALID_PARAMETER;
    wpas_lock();
    c = lookup(hclient, K_CLIENT);
    wpas_unlock();
    if (c == NULL)
        return W_INVALID_HANDLE;
    return W_NOT_SUPPORTED; /* legacy (WPS) devices are Windows' stored profiles: none here */
}

DWORD WINAPI WFDUpdateDeviceVisibility(PDOT11_MAC_ADDRESS address)
{
    long net_id;
    int we_go;
    char cmd[96], mac[18], buf[2048];
    wpas_ctrl events;
    wpas_event ev;
    DWORD rc;
    uint64_t deadline;
    int found = 0;
    if (address == NULL)
        return W_INVALID_PARAMETER;
    wpas_init();
    if (!G.configured && wpas_configure(NULL) != 0)
        return W_SERVICE_NOT_ACTIVE;
    rc = wpas_find_network(*address, &net_id, &we_go);
    if (rc != 0)
        return rc; /* W_NOT_FOUND: not paired, as Windows answers for an unknown device */
    /* A targeted discovery on an attached socket of its own, until the device answers. */
    snprintf(buf, sizeof buf, "%s/%s", G.dir, G.dev_if);
    if (wpas_ctrl_open(&events, buf) != 0)
        return W_SERVICE_NOT_ACTIVE;
    if (wpas_ctrl_request(&events, "ATTACH", buf, sizeof buf, (int)G.reply_ms) < 2) {
        wpas_ctrl_close(&events);
        return W_SERVICE_NOT_ACTIVE;
    }
    wpas_format_mac(*address, mac);
    snprintf(cmd, sizeof cmd, "P2P_FIND %u dev_id=%s", (G.visibility_ms + 999) / 1000, mac);
    (void)wpas_request(cmd, buf, sizeof buf);
    deadline = plat_now_ns() + (uint64_t)G.visibility_ms * 1000000u;
    while (!found) {
        uint64_t now = plat_now_ns();
        long n;
        if (now >= deadline)
            break;
        n = wpas_ctrl_recv(&events, buf, sizeof buf, (int)((deadline - now) / 1000000u) + 1);
        if (n == -ETIMEDOUT)
            break;
        if (n < 0) {
            wpas_ctrl_close(&events);
            return W_SERVICE_NOT_ACTIVE;
        }
        wpas_parse_event(buf, (size_t)n, &ev);
        found = ev.type == WPAS_EV_DEVICE_FOUND && ev.has_peer && memcmp(ev.peer, *address, 6) == 0;
    }
    (void)wpas_request("P2P_STOP_FIND", buf, sizeof buf);
    (void)wpas_ctrl_request(&events, "DETACH", buf, sizeof buf, (int)G.reply_ms);
    wpas_ctrl_close(&events);
    wpas_lock();
    wpas_set_visible(*address, found);
    wpas_unlock();
    return W_SUCCESS;
}

/* ---- the event thread ------------------------------------------------------------------- */

static void connection_lost(void);

/* Deliver a session's completion (lock held; released during the callback). */
static void deliver(wobj *s, DWORD error, DWORD reason)
{
    HANDLE h = s->handle;
    PVOID ctx = s->ctx;
    WFD_OPEN_SESSION_COMPLETE_CALLBACK cb = s->callback;
    GUID guid = s->guid;
    wobj *c = s->client;
    if (G.forming == s)
        G.forming = NULL;
    s->error = error;
    s->reason = reason;
    s->state = S_DELIVERING;
    if (error == 0) {
        s->link_up = 1;
        wpas_link_changed();
    } else {
        memset(&guid, 0, sizeof guid);
    }
    tls_in_callback = 1;
    wpas_unlock();
    cb(h, ctx, guid, error, reason);
    wpas_lock();
    tls_in_callback = 0;
    if (s->state == S_DELIVERING) /* not closed from inside its own callback */
        s->state = error == 0 ? S_OPEN : S_DONE;
    if (c != NULL && c->pending > 0)
        c->pending--;
    plat_cond_broadcast(&G.cv);
}

/* Remove a group (lock held; released during the request). */
static void remove_group(const char *ifname)
{
    char cmd[96], reply[64];
    snprintf(cmd, sizeof cmd, "P2P_GROUP_REMOVE %s", ifname);
    wpas_unlock();
    (void)wpas_request(cmd, reply, sizeof reply);
    wpas_lock();
}

/* Seconds during which a group that starts for a formation that already ended (cancelled,
 * timed out: wpa_supplicant may have been a step ahead of its P2P_CANCEL) is removed. */
#define LATE_GROUP_MS 15000u

/* End a formation that failed or was cancelled: stop what wpa_supplicant does for it (a failed
 * invite as group owner can leave a group interface behind), then deliver (lock held). */
static void fail(wobj *s, DWORD error, DWORD reason)
{
    char reply[64], ifname[64];
    int forming = s->state == S_FORMING && s->step >= F_FIND;
    memcpy(ifname, s->ifname, sizeof ifname);
    s->ifname[0] = '\0';
    if (forming && s->step >= F_RESULT) {
        memcpy(G.late_peer, s->peer, 6);
        G.late_until = plat_now_ns() + (uint64_t)LATE_GROUP_MS * 1000000u;
    }
    if (forming) {
        wpas_unlock();
        (void)wpas_request("P2P_CANCEL", reply, sizeof reply);
        wpas_lock();
    }
    if (ifname[0] != '\0')
        remove_group(ifname);
    deliver(s, error, reason);
}

static void succeed(wobj *s)
{
    s->guid = guid_of(s->ifname);
    if (s->we_go) /* the peer finishes its side just after we see it join */
        s->settled = plat_now_ns() + (uint64_t)G.settle_ms * 1000000u;
    deliver(s, 0, 0);
}

/* Start the formation of a queued session (lock held; released around requests). */
static void begin(wobj *s)
{
    long net_id = -1;
    int we_go = 0;
    DWORD rc;
    char cmd[128], mac[18], reply[256];
    long n;
    unsigned char peer[6];
    G.forming = s;
    s->state = S_FORMING;
    s->step = F_LOOKUP;
    memcpy(peer, s->peer, 6);
    wpas_unlock();
    rc = wpas_find_network(peer, &net_id, &we_go);
    wpas_lock();
    if (s->cancel) {
        fail(s, W_CANCELLED, s->client == NULL || s->client->closing ? R_CLIENT_CLOSED : R_CANCELLED);
        return;
    }
    if (rc != 0) {
        deliver(s, rc == W_NOT_FOUND ? W_NOT_AUTHENTICATED : rc,
                rc == W_NOT_FOUND ? R_NOT_PAIRED : R_SERVICE);
        return;
    }
    s->net_id = net_id;
    s->we_go = we_go;
    s->step = F_INVITE;
    wpas_format_mac(peer, mac);
    snprintf(cmd, sizeof cmd, "P2P_INVITE persistent=%ld peer=%s", net_id, mac);
    wpas_unlock();
    n = wpas_request(cmd, reply, sizeof reply);
    if (n >= 0 && wpas_reply_failed(reply, (size_t)n)) {
        /* The peer is not in wpa_supplicant's peer table (not seen for a minute): find it,
         * then invite again when it shows up. */
        n = wpas_request("P2P_FIND", reply, sizeof reply);
        wpas_lock();
        s->step = n >= 0 && !wpas_reply_failed(reply, (size_t)n) ? F_FIND : F_INVITE;
        if (s->step == F_INVITE) /* cannot even search: no answer will come */
            fail(s, W_TIMEOUT, R_NOT_VISIBLE);
        return;
    }
    wpas_lock();
    if (n < 0) {
        fail(s, W_SERVICE_NOT_ACTIVE, R_SERVICE);
        return;
    }
    s->step = F_RESULT;
}

/* The invite after the peer was found (lock held). */
static void invite_found(wobj *s)
{
    char cmd[128], mac[18], reply[64];
    long n;
    wpas_format_mac(s->peer, mac);
    snprintf(cmd, sizeof cmd, "P2P_INVITE persistent=%ld peer=%s", s->net_id, mac);
    s->step = F_RESULT;
    wpas_unlock();
    (void)wpas_request("P2P_STOP_FIND", reply, sizeof reply);
    n = wpas_request(cmd, reply, sizeof reply);
    wpas_lock();
    if (s != G.forming || s->state != S_FORMING)
        return;
    if (n < 0 || wpas_reply_failed(reply, (size_t)n))
        fail(s, n < 0 ? W_SERVICE_NOT_ACTIVE : W_TIMEOUT, n < 0 ? R_SERVICE : R_NOT_VISIBLE);
}

/* An event from wpa_supplicant (lock held). */
static void on_event(const wpas_event *ev)
{
    wobj *s = G.forming, *o;
    switch (ev->type) {
    case WPAS_EV_DEVICE_FOUND:
        if (ev->has_peer)
            wpas_set_visible(ev->peer, 1);
        if (s != NULL && s->step == F_FIND && ev->has_peer && memcmp(ev->peer, s->peer, 6) == 0)
            invite_found(s);
        break;
    case WPAS_EV_INVITATION_RESULT:
        if (s != NULL && s->step == F_RESULT) {
            if (ev->status == 0)
                s->step = F_GROUP;
            else
                fail(s, W_NOT_AUTHENTICATED, R_INVITATION + (DWORD)(ev->status < 0 ? 0 : ev->status));
        }
        break;
    case WPAS_EV_GROUP_STARTED:
        if (s != NULL && (s->step == F_GROUP || s->step == F_RESULT)) {
            snprintf(s->ifname, sizeof s->ifname, "%s", ev->ifname);
            if (!ev->go && ev->has_peer && memcmp(ev->peer, s->peer, 6) == 0)
                succeed(s); /* we joined the peer's group */
            else if (ev->go)
                s->step = F_STATION; /* our group is up: the peer still has to join it */
        } else if (s == NULL && plat_now_ns() < G.late_until &&
                   (ev->go || (ev->has_peer && memcmp(ev->peer, G.late_peer, 6) == 0))) {
            /* The group of a formation that ended: nobody owns it, nothing may be left. */
            char ifname[64];
            G.late_until = 0;
            snprintf(ifname, sizeof ifname, "%s", ev->ifname);
            wpas_trace("removing the late group %s", ifname);
            remove_group(ifname);
        }
        break;
    case WPAS_EV_STA_CONNECTED:
        if (s != NULL && s->step == F_STATION && ev->has_peer && memcmp(ev->peer, s->peer, 6) == 0) {
            if (ev->has_sta) {
                memcpy(s->sta, ev->sta, 6);
                s->sta_joined = 1;
            }
            succeed(s);
        }
        break;
    case WPAS_EV_STA_DISCONNECTED: /* as group owner: the peer left (the group may stay up) */
        for (o = G.objs; o != NULL; o = o->next)
            if (o->kind == K_SESSION && o->we_go && ev->has_peer &&
                memcmp(o->peer, ev->peer, 6) == 0) {
                o->sta_joined = 0;
                if (o->link_up) {
                    o->link_up = 0;
                    wpas_link_changed();
                }
            }
        break;
    case WPAS_EV_GROUP_REMOVED:
        if (s != NULL && s->ifname[0] != '\0' && strcmp(s->ifname, ev->ifname) == 0) {
            s->ifname[0] = '\0'; /* already gone */
            fail(s, W_TIMEOUT, R_GROUP_REMOVED);
            break;
        }
        for (o = G.objs; o != NULL; o = o->next)
            if (o->kind == K_SESSION && o->ifname[0] != '\0' && strcmp(o->ifname, ev->ifname) == 0) {
                if (o->link_up) {
                    o->link_up = 0;
                    wpas_link_changed();
                }
                o->ifname[0] = '\0'; /* the group is gone: nothing to remove on close */
            }
        break;
    case WPAS_EV_FORMATION_FAILURE:
        if (s != NULL && s->step >= F_RESULT)
            fail(s, W_TIMEOUT, R_FORMATION + (DWORD)(ev->status < 0 ? 0 : ev->status));
        break;
    case WPAS_EV_TERMINATING:
        connection_lost(); /* wpa_supplicant is exiting */
        break;
    default:
        break;
    }
}

/* The connection to wpa_supplicant broke (it exited, restarted, or stopped answering): what
 * it was doing for us is lost with it. Every pending open fails with ERROR_SERVICE_NOT_ACTIVE,
 * every link is down (a restarted wpa_supplicant has no groups). Lock held. The event thread
 * then attaches again; if that fails, the service counts as down (service_lost). */
static void connection_lost(void)
{
    wobj *o;
    int again = 1;
    wpas_trace("connection lost");
    for (o = G.objs; o != NULL; o = o->next)
        if (o->kind == K_SESSION && o->link_up) {
            o->link_up = 0;
            wpas_link_changed();
        }
    while (again) { /* deliver() releases the lock: rescan after each */
        again = 0;
        for (o = G.objs; o != NULL; o = o->next)
            if (o->kind == K_SESSION && (o->state == S_QUEUED || o->state == S_FORMING)) {
                o->ifname[0] = '\0';
                deliver(o, W_SERVICE_NOT_ACTIVE, R_SERVICE);
                again = 1;
                break;
            }
    }
}

/* wpa_supplicant is not there: as connection_lost, and new opens are refused until it
 * answers again (lock held). */
static void service_lost(void)
{
    wpas_trace("service lost");
    G.service_down = 1;
    connection_lost();
}

/* Milliseconds between telling the peer that a group we own ends and removing the group. */
#define FAREWELL_MS 200u

/* Tell the peer that our group ends, by a deauthentication addressed to it (reason 3,
 * "leaving"), before the group is removed (lock held; released during the request).
 * P2P_GROUP_REMOVE only broadcasts that deauthentication as the group goes down, and a
 * broadcast is neither acknowledged nor repeated: a peer that misses it stays in the old group
 * until it notices, about 10 s, and ignores our invitations meanwhile. Addressed to it, the
 * frame is acknowledged and repeated, and the peer ends its side at once (GO_ENDING_SESSION,
 * 15-60 ms on the real stack). wpa_supplicant reports no event when the frame is out: the
 * removal follows FAREWELL_MS later. */
static void farewell(wobj *o)
{
    char ifname[64], cmd[64], mac[18], reply[64];
    memcpy(ifname, o->ifname, sizeof ifname);
    wpas_format_mac(o->sta, mac);
    snprintf(cmd, sizeof cmd, "DEAUTHENTICATE %s reason=3", mac);
    o->farewell = 1;
    wpas_unlock();
    (void)wpas_request_on(ifname, cmd, reply, sizeof reply); /* best effort */
    wpas_lock();
    o->settled = plat_now_ns() + (uint64_t)FAREWELL_MS * 1000000u;
}

/* One pass over the sessions: cancels, closes, deadlines, the next formation, and freeing.
 * Returns the time until the next deadline in ms (-1: none). Lock held. */
static int work(void)
{
    wobj *o;
    int again = 1, wait = -1, settle_wait = -1;
    uint64_t now;
    while (again) {
        again = 0;
        settle_wait = -1;
        now = plat_now_ns();
        for (o = G.objs; o != NULL && !again; o = o->next) {
            if (o->kind != K_SESSION)
                continue;
            if ((o->state == S_QUEUED || o->state == S_FORMING) && o->cancel) {
                int closed = o->client == NULL || o->client->closing;
                fail(o, W_CANCELLED, closed ? R_CLIENT_CLOSED : R_CANCELLED);
                again = 1;
            } else if (o->state == S_FORMING && now >= o->deadline) {
                fail(o, W_TIMEOUT, R_NOT_VISIBLE);
                again = 1;
            } else if (o->state == S_CLOSING && now < o->settled) {
                int ms = (int)((o->settled - now) / 1000000u) + 1;
                if (settle_wait < 0 || ms < settle_wait)
                    settle_wait = ms; /* the peer may still be finishing its side */
            } else if (o->state == S_CLOSING && o->we_go && o->sta_joined && !o->farewell &&
                       o->ifname[0] != '\0') {
                farewell(o); /* then the removal below, once the peer is told */
                again = 1;

            } else if (o->state == S_CLOSING) {
                char ifname[64];
                memcpy(ifname, o->ifname, sizeof ifname);
                o->state = S_REMOVING;
                if (ifname[0] != '\0')
                    remove_group(ifname);
                o->state = S_DONE;
                plat_cond_broadcast(&G.cv); /* WFDCloseHandle may wait for it */
                again = 1;
            } else if (o->state == S_DONE) {
                unlink_obj(o);
                free(o);
                again = 1;
                break; /* o is gone: no o->next */
            }
        }
        if (!again && G.forming == NULL && !G.service_down && settle_wait < 0) {
            /* (not while a closed group settles: it is removed first, so that the next
             * invitation of the same persistent group finds it gone) */
            wobj *oldest = NULL;
            for (o = G.objs; o != NULL; o = o->next) /* the list is newest first */
                if (o->kind == K_SESSION && o->state == S_QUEUED)
                    oldest = o;
            if (oldest != NULL) {
                begin(oldest);
                again = 1;
            }
        }
        if (!again && G.service_down) {
            for (o = G.objs; o != NULL; o = o->next)
                if (o->kind == K_SESSION && (o->state == S_QUEUED || o->state == S_FORMING))
                    again = 1;
            if (again)
                service_lost();
        }
    }
    if (G.forming != NULL) {
        now = plat_now_ns();
        wait = G.forming->deadline > now ? (int)((G.forming->deadline - now) / 1000000u) + 1 : 0;
    }
    if (settle_wait >= 0 && (wait < 0 || settle_wait < wait))
        wait = settle_wait;
    return wait;
}

static int attach(wpas_ctrl *events)
{
    char path[512], reply[64];
    int err;
    long n;
    snprintf(path, sizeof path, "%s/%s", G.dir, G.dev_if);
    err = wpas_ctrl_open(events, path);
    if (err != 0) {
        wpas_trace("attach: cannot connect to %s: %s", path, strerror(err));
        return -1;
    }
    n = wpas_ctrl_request(events, "ATTACH", reply, sizeof reply, (int)G.reply_ms);
    if (n < 2 || memcmp(reply, "OK", 2) != 0) {
        wpas_trace("attach: ATTACH on %s -> %ld", path, n);
        wpas_ctrl_close(events);
        return -1;
    }
    return 0;
}

static int anything_left(void)
{
    return G.objs != NULL;
}

/* Liveness: while a session depends on wpa_supplicant, the event socket is PINGed after
 * twice the reply timeout without a datagram (6 s by default); a missing PONG within the reply
 * timeout means wpa_supplicant is gone (a datagram socket reports nothing when its server
 * goes away). */
#define PING_EVERY_MS (2 * (int)G.reply_ms)

static void event_thread(void *arg)
{
    wpas_ctrl events = {-1};
    char buf[4096];
    uint64_t last_heard = plat_now_ns(), ping_sent = 0;
    uint32_t gen = 0;
    (void)arg;
    plat_thread_name("wifidirect-wpas");
    wpas_lock();
    for (;;) {
        struct pollfd p[2];
        int wait, r, live;
        uint64_t now;
        if (events.fd >= 0 && gen != G.config_gen) {
            wpas_ctrl_close(&events); /* configured for another wpa_supplicant */
            G.service_down = 0;
        }
        if (events.fd < 0 && !G.service_down) {
            /* Attached before any formation starts: its events must not be missed. */
            gen = G.config_gen;
            wpas_unlock();
            r = attach(&events);
            wpas_lock();
            wpas_trace("attach to %s/%s (gen %u) -> %d", G.dir, G.dev_if, gen, r);
            last_heard = plat_now_ns();
            ping_sent = 0;
            if (r != 0 && gen != G.config_gen) {
                wpas_ctrl_close(&events);
                continue; /* configured for another wpa_supplicant meanwhile: attach to it */
            }
            if (r != 0)
                service_lost();
        }
        wait = work();
        if (!anything_left() || G.stop)
            break;
        live = G.forming != NULL;
        for (wobj *o = G.objs; o != NULL && !live; o = o->next)
            live = o->kind == K_SESSION && o->link_up;
        now = plat_now_ns();
        if (events.fd >= 0 && live) {
            uint64_t quiet = (now - last_heard) / 1000000u;
            if (ping_sent != 0 && (now - ping_sent) / 1000000u >= G.reply_ms) {
                wpas_ctrl_close(&events); /* no PONG: wpa_supplicant is gone or hung */
                connection_lost();
                continue; /* attach again, or find it down */
            }
            if (ping_sent == 0 && quiet >= (uint64_t)PING_EVERY_MS) {
                ping_sent = now;
                (void)wpas_ctrl_send(&events, "PING");
            }
            {
                int until = ping_sent != 0 ? (int)G.reply_ms : PING_EVERY_MS - (int)quiet;
                if (wait < 0 || until < wait)
                    wait = until < 0 ? 0 : until;
            }
        }
        p[0].fd = G.wake[0];
        p[0].events = POLLIN;
        p[1].fd = events.fd;
        p[1].events = POLLIN;
        p[0].revents = p[1].revents = 0;
        wpas_unlock();
        r = poll(p, events.fd >= 0 ? 2 : 1, wait);
        wpas_lock();
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0 && (p[0].revents & POLLIN)) {
            char drain[64];
            while (read(G.wake[0], drain, sizeof drain) > 0)
                ;
        }
        if (r > 0 && events.fd >= 0 && (p[1].revents & (POLLIN | POLLERR | POLLHUP))) {
            long n;
            wpas_unlock();
            n = wpas_ctrl_recv(&events, buf, sizeof buf, 0);
            wpas_lock();
            if (n >= 0) {
                wpas_event ev;
                last_heard = plat_now_ns();
                ping_sent = 0;
                wpas_parse_event(buf, (size_t)n, &ev);
                wpas_trace("event %.120s", buf);
                on_event(&ev);
            } else if (n != -ETIMEDOUT && n != -EAGAIN) {
                wpas_ctrl_close(&events);
                if (gen == G.config_gen) /* else: the socket of another wpa_supplicant */
                    connection_lost();
            }
        }
    }
    G.thread_running = 0;
    G.stop = 0;
    plat_cond_broadcast(&G.cv);
    wpas_unlock();
    if (events.fd >= 0) {
        (void)wpas_ctrl_request(&events, "DETACH", buf, sizeof buf, (int)G.reply_ms);
        wpas_ctrl_close(&events);
    }
}

/* Start the event thread unless it runs (lock held). 0 or -1. */
static int start_thread(void)
{
    if (G.thread_running)
        return 0;
    if (G.wake[0] < 0 && pipe2(G.wake, O_CLOEXEC | O_NONBLOCK) != 0)
        return -1;
    G.service_down = 0;
    G.thread_running = 1;
    if (plat_thread_start(event_thread, NULL) != 0) {
        G.thread_running = 0;
        return -1;
    }
    return 0;
}
