/* control.c: include/wpas.h (finding wpa_supplicant, discovery, pairing) and the request
 * helpers the other files use. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* d_type, strcasecmp */
#endif
#include "wpas_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- tracing ---------------------------------------------------------------------------- */

void wpas_trace(const char *fmt, ...)
{
    static _Atomic int enabled = -1; /* every thread computes the same value */
    va_list ap;
    int on = atomic_load_explicit(&enabled, memory_order_relaxed);
    if (on < 0) {
        on = getenv("WIFIDIRECT_WPAS_TRACE") != NULL;
        atomic_store_explicit(&enabled, on, memory_order_relaxed);
    }
    if (!on)
        return;
    va_start(ap, fmt);
    fprintf(stderr, "[wpas %.3f] ", (double)(plat_now_ns() % 1000000000000ull) / 1e9);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- requests ------------------------------------------------------------------------- */

static long request_path(wpas_ctrl *c, const char *path, const char *cmd, char *reply,
                         size_t size, int *reopened)
{
    long n;
    if (c->fd < 0) {
        int err = wpas_ctrl_open(c, path);
        if (err != 0)
            return -err;
        *reopened = 1;
    }
    n = wpas_ctrl_request(c, cmd, reply, size, (int)G.reply_ms);
    if (n < 0)
        wpas_ctrl_close(c); /* a late reply must not be read as the next request's */
    return n;
}

long wpas_request(const char *cmd, char *reply, size_t size)
{
    char path[512];
    long n;
    int reopened = 0;
    wpas_init();
    if (size > 0)
        reply[0] = '\0';
    plat_mutex_lock(&G.req_lock);
    snprintf(path, sizeof path, "%s/%s", G.dir, G.dev_if);
    n = request_path(&G.req, path, cmd, reply, size, &reopened);
    if (n < 0 && !reopened && n != -ETIMEDOUT) /* wpa_supplicant restarted: a new socket */
        n = request_path(&G.req, path, cmd, reply, size, &reopened);
    wpas_trace("%s: %s -> %ld", path, cmd, n);
    plat_mutex_unlock(&G.req_lock);
    return n;
}

long wpas_request_on(const char *ifname, const char *cmd, char *reply, size_t size)
{
    char path[512];
    wpas_ctrl c = {-1};
    int reopened = 0;
    long n;
    if (size > 0)
        reply[0] = '\0';
    snprintf(path, sizeof path, "%s/%s", G.dir, ifname);
    n = request_path(&c, path, cmd, reply, size, &reopened);
    wpas_ctrl_close(&c);
    return n;
}

/* ---- finding wpa_supplicant ---------------------------------------------------------- */

/* src into dst[size], cut to fit, always terminated. */
static void copy_str(char *dst, size_t size, const char *src)
{
    size_t len = strlen(src);
    if (len > size - 1)
        len = size - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static void set_why(const char *fmt, const char *a, const char *b)
{
    snprintf(G.why, sizeof G.why, fmt, a, b);
}

/* Whether the socket at dir/name belongs to a P2P-capable interface: its STATUS has
 * p2p_device_address. 0 yes; else an errno value, EPROTONOSUPPORT for "no P2P". */
static int probe(const char *dir, const char *name, unsigned char *own)
{
    char path[512], reply[2048], value[32];
    wpas_ctrl c;
    long n;
    int err;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    err = wpas_ctrl_open(&c, path);
    if (err != 0)
        return err;
    n = wpas_ctrl_request(&c, "STATUS", reply, sizeof reply, (int)G.reply_ms);
    wpas_ctrl_close(&c);
    if (n < 0)
        return (int)-n;
    if (wpas_value(reply, (size_t)n, "p2p_device_address", value, sizeof value) != 17 ||
        !wpas_parse_mac(value, 17, own))
        return EPROTONOSUPPORT;
    return 0;
}

DWORD wpas_configure(const char *ctrl_dir)
{
    static const char *const defaults[] = {"/var/run/wpa_supplicant", "/run/wpa_supplicant"};
    const char *dirs[2];
    size_t ndirs = 0, d;
    DWORD rc = W_SERVICE_NOT_ACTIVE;
    char found[64] = "", denied[256] = "", nop2p[256] = "";
    unsigned char own[6];
    wpas_init();
    if (ctrl_dir == NULL || ctrl_dir[0] == '\0')
        ctrl_dir = getenv("WIFIDIRECT_WPAS_CTRL");
    if (ctrl_dir != NULL && ctrl_dir[0] != '\0') {
        dirs[ndirs++] = ctrl_dir;
    } else {
        dirs[ndirs++] = defaults[0];
        dirs[ndirs++] = defaults[1];
    }
    wpas_lock();
    G.configured = 0;
    for (d = 0; d < ndirs && found[0] == '\0'; d++) {
        DIR *dir = opendir(dirs[d]);
        struct dirent *e;
        int pass;
        if (dir == NULL) {
            if (errno == EACCES && denied[0] == '\0')
                copy_str(denied, sizeof denied, dirs[d]);
            continue;
        }
        /* Two passes: the P2P device interfaces (p2p-dev-*) first, where P2P events arrive
         * when the driver has a P2P device; then any interface with P2P. */
        for (pass = 0; pass < 2 && found[0] == '\0'; pass++) {
            rewinddir(dir);
            while ((e = readdir(dir)) != NULL) {
                char path[512];
                struct stat st;
                int err;
                int dev = strncmp(e->d_name, "p2p-dev-", 8) == 0;
                if (e->d_name[0] == '.' || dev != (pass == 0) ||
                    strlen(e->d_name) >= sizeof found)
                    continue;
                snprintf(path, sizeof path, "%s/%s", dirs[d], e->d_name);
                if (stat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
                    continue;
                if (pass == 1 && strncmp(e->d_name, "p2p-", 4) == 0)
                    continue; /* a group interface, not a device's */
                wpas_unlock();
                err = probe(dirs[d], e->d_name, own);
                wpas_lock();
                if (err == 0) {
                    copy_str(found, sizeof found, e->d_name);
                    copy_str(G.dir, sizeof G.dir, dirs[d]);
                    break;
                }
                if (err == EACCES && denied[0] == '\0')
                    copy_str(denied, sizeof denied, path);
                if (err == EPROTONOSUPPORT && nop2p[0] == '\0')
                    copy_str(nop2p, sizeof nop2p, path);
            }
        }
        closedir(dir);
    }
    G.config_gen++;
    wpas_wake(); /* the event thread attaches to the new socket */
    if (found[0] != '\0') {
        char mac[18];
        copy_str(G.dev_if, sizeof G.dev_if, found);
        memcpy(G.own, own, 6);
        G.configured = 1;
        wpas_format_mac(own, mac);
        snprintf(G.why, sizeof G.why, "wpa_supplicant at %s/%s, P2P device %s", G.dir, G.dev_if,
                 mac);
        rc = W_SUCCESS;
    } else if (denied[0] != '\0') {
        set_why("no permission to use %s: run as root, or as a member of the group that "
                "wpa_supplicant's ctrl_interface names (e.g. ctrl_interface=DIR=%s GROUP=netdev)",
                denied, dirs[0]);
        rc = W_ACCESS_DENIED;
    } else if (nop2p[0] != '\0') {
        set_why("the wpa_supplicant at %s has no P2P (p2p_disabled=1, or built without "
                "CONFIG_P2P)%s",
                nop2p, "");
        rc = W_NOT_SUPPORTED;
    } else if (ndirs == 1) {
        set_why("no wpa_supplicant control socket with P2P in %s ($WIFIDIRECT_WPAS_CTRL)%s",
                dirs[0], "");
    } else {
        set_why("no wpa_supplicant control socket with P2P in %s or %s (is wpa_supplicant "
                "running with ctrl_interface set? $WIFIDIRECT_WPAS_CTRL names another "
                "directory)",
                dirs[0], dirs[1]);
    }
    wpas_unlock();
    plat_mutex_lock(&G.req_lock); /* the request socket may be connected to another one */
    wpas_ctrl_close(&G.req);
    plat_mutex_unlock(&G.req_lock);
    if (rc == W_SUCCESS) {
        char reply[32];
        long n = wpas_request("GET update_config", reply, sizeof reply);
        wpas_lock();
        G.save_config = n > 0 && reply[0] == '1';
        wpas_unlock();
    }
    return rc;
}

uint32_t wpas_why(char *out, uint32_t size)
{
    size_t len;
    if (out == NULL || size == 0)
        return 0;
    wpas_lock();
    len = strlen(G.why);
    if (len > size - 1)
        len = size - 1;
    memcpy(out, G.why, len);
    out[len] = '\0';
    wpas_unlock();
    return (uint32_t)len;
}

DWORD wpas_own_address(unsigned char *out)
{
    DWORD rc = W_SERVICE_NOT_ACTIVE;
    if (out == NULL)
        return W_INVALID_PARAMETER;
    wpas_lock();
    if (G.configured) {
        memcpy(out, G.own, 6);
        rc = W_SUCCESS;
    }
    wpas_unlock();
    return rc;
}

void wpas_set_timeouts(uint32_t formation_ms, uint32_t reply_ms, uint32_t visibility_ms)
{
    wpas_lock();
    if (formation_ms)
        G.formation_ms = formation_ms;
    if (reply_ms)
        G.reply_ms = reply_ms;
    if (visibility_ms)
        G.visibility_ms = visibility_ms;
    wpas_unlock();
}

void wpas_set_settle(uint32_t settle_ms)
{
    wpas_lock();
    G.settle_ms = settle_ms;
    wpas_unlock();
}

int32_t wpas_saves_config(void)
{
    int32_t saves;
    wpas_lock();
    saves = G.configured ? G.save_config : -1;
    wpas_unlock();
    return saves;
}

/* ---- the persistent groups ("paired") --------------------------------------------------- */

long wpas_persistent_groups(wpas_network *nets, unsigned char own[6])
{
    char reply[8192];
    size_t count, i, kept = 0;
    long n;
    wpas_lock();
    memcpy(own, G.own, 6);
    wpas_unlock();
    n = wpas_request("LIST_NETWORKS", reply, sizeof reply);
    if (n < 0)
        return -1;
    count = wpas_parse_networks(reply, (size_t)n, nets, WPAS_MAX_NETWORKS);
    if (count > WPAS_MAX_NETWORKS)
        count = WPAS_MAX_NETWORKS;
    for (i = 0; i < count; i++)
        if (nets[i].persistent && nets[i].has_bssid)
            nets[kept++] = nets[i];
    return (long)kept;
}

long wpas_group_clients(long id, unsigned char clients[][6])
{
    char cmd[64], list[2048];
    size_t count;
    long n;
    snprintf(cmd, sizeof cmd, "GET_NETWORK %ld p2p_client_list", id);
    n = wpas_request(cmd, list, sizeof list);
    if (n < 0)
        return -1;
    if (wpas_reply_failed(list, (size_t)n))
        return 0;
    count = wpas_parse_mac_list(list, (size_t)n, clients, WPAS_MAX_CLIENTS);
    return (long)(count > WPAS_MAX_CLIENTS ? WPAS_MAX_CLIENTS : count);
}

DWORD wpas_find_network(const unsigned char *peer, long *net_id, int *we_go)
{
    wpas_network nets[WPAS_MAX_NETWORKS];
    unsigned char clients[WPAS_MAX_CLIENTS][6], own[6];
    long count, i, k, nclients;
    count = wpas_persistent_groups(nets, own);
    if (count < 0)
        return W_SERVICE_NOT_ACTIVE;
    for (i = 0; i < count; i++) { /* we were the client: the group owner is the peer */
        if (memcmp(nets[i].bssid, peer, 6) == 0) {
            *net_id = nets[i].id;
            *we_go = 0;
            return W_SUCCESS;
        }
    }
    for (i = 0; i < count; i++) { /* we were the group owner: the peer is in the client list */
        if (memcmp(nets[i].bssid, own, 6) != 0)
            continue;
        nclients = wpas_group_clients(nets[i].id, clients);
        if (nclients < 0)
            return W_SERVICE_NOT_ACTIVE;
        for (k = 0; k < nclients; k++)
            if (memcmp(clients[k], peer, 6) == 0) {
                *net_id = nets[i].id;
                *we_go = 1;
                return W_SUCCESS;
            }
    }
    return W_NOT_FOUND;
}

/* ---- discovery ---------------------------------------------------------------------------- */

static DWORD simple(const char *cmd)
{
    char reply[64];
    long n = wpas_request(cmd, reply, sizeof reply);
    if (n < 0)
        return W_SERVICE_NOT_ACTIVE;
    return wpas_reply_failed(reply, (size_t)n) ? W_INVALID_STATE : W_SUCCESS;
}

DWORD wpas_find_start(uint32_t timeout_s)
{
    char cmd[32];
    if (timeout_s > 0)
        snprintf(cmd, sizeof cmd, "P2P_FIND %u", timeout_s);
    else
        snprintf(cmd, sizeof cmd, "P2P_FIND");
    return simple(cmd);
}

DWORD wpas_find_stop(void) { return simple("P2P_STOP_FIND"); }

/* The peers discovery has found: wpa_supplicant lists them one at a time (P2P_PEER FIRST, then
 * P2P_PEER NEXT-<address> until FAIL; each reply is the address on its first line, then the
 * peer's fields). Bounded, and a list that repeats itself ends: a hostile reply cannot loop. */
#define MAX_PEER_WALK 1024

DWORD wpas_find_peers(wpas_peer *out, uint32_t capacity, uint32_t *count)
{
    char info[4096], cmd[64];
    long m;
    uint32_t found = 0, steps;
    unsigned char mac[6], last[6];
    int have_last = 0;
    if (count == NULL || (out == NULL && capacity > 0))
        return W_INVALID_PARAMETER;
    snprintf(cmd, sizeof cmd, "P2P_PEER FIRST");
    for (steps = 0; steps < MAX_PEER_WALK; steps++) {
        size_t end = 0;
        char mac_text[18];
        m = wpas_request(cmd, info, sizeof info);
        if (m < 0)
            return W_SERVICE_NOT_ACTIVE;
        if (wpas_reply_failed(info, (size_t)m))
            break; /* the end of the list */
        while (end < (size_t)m && info[end] != '\n')
            end++;
        if (end != 17 || !wpas_parse_mac(info, 17, mac))
            break; /* not a peer entry: stop rather than guess */
        if (have_last && memcmp(mac, last, 6) == 0)
            break;
        memcpy(last, mac, 6);
        have_last = 1;
        if (found < capacity) {
            wpas_peer *p = &out[found];
            long id;
            int go;
            memset(p, 0, sizeof *p);
            memcpy(p->address, mac, 6);
            (void)wpas_value(info, (size_t)m, "device_name", p->name, sizeof p->name);
            p->paired = wpas_find_network(mac, &id, &go) == W_SUCCESS;
        }
        found++;
        wpas_format_mac(mac, mac_text);
        snprintf(cmd, sizeof cmd, "P2P_PEER NEXT-%s", mac_text);
    }
    *count = found;
    return W_SUCCESS;
}

/* ---- pairing ------------------------------------------------------------------------------ */

static DWORD save(void)
{
    int saves;
    wpas_lock();
    saves = G.save_config;
    wpas_unlock();
    return saves ? simple("SAVE_CONFIG") : W_SUCCESS;
}

/* Wait on an attached socket until the pairing's group is complete: we joined the peer's group,
 * or the peer joined ours (AP-STA-CONNECTED). Only then has wpa_supplicant stored the
 * persistent group with the peer (removing the group earlier makes the peer's provisioning
 * fail, and nothing is stored). The group's interface goes into ifname. */
static DWORD await_group(wpas_ctrl *events, const unsigned char *peer, uint64_t deadline,
                         char *ifname, size_t size, int *go)
{
    char buf[4096];
    wpas_event ev;
    ifname[0] = '\0';
    *go = 0;
    for (;;) {
        uint64_t now = plat_now_ns();
        long n;
        if (now >= deadline)
            return W_TIMEOUT;
        n = wpas_ctrl_recv(events, buf, sizeof buf, (int)((deadline - now) / 1000000u) + 1);
        if (n == -ETIMEDOUT)
            return W_TIMEOUT;
        if (n < 0)
            return W_SERVICE_NOT_ACTIVE;
        wpas_parse_event(buf, (size_t)n, &ev);
        wpas_trace("pairing: %.120s", buf);
        if (ev.type == WPAS_EV_GROUP_STARTED) {
            snprintf(ifname, size, "%s", ev.ifname);
            *go = ev.go;
            if (!ev.go && ev.has_peer && memcmp(ev.peer, peer, 6) == 0)
                return W_SUCCESS; /* we joined the peer's group: provisioned */
        } else if (ev.type == WPAS_EV_STA_CONNECTED && ifname[0] != '\0' && ev.has_peer &&
                   memcmp(ev.peer, peer, 6) == 0) {
            return W_SUCCESS; /* the peer joined ours */
        } else if (ev.type == WPAS_EV_FORMATION_FAILURE ||
                   (ev.type == WPAS_EV_GROUP_REMOVED && ifname[0] != '\0' &&
                    strcmp(ev.ifname, ifname) == 0)) {
            if (ev.type == WPAS_EV_GROUP_REMOVED)
                ifname[0] = '\0';
            return W_NOT_AUTHENTICATED;
        }
    }
}

/* Wait until discovery finds the peer (P2P_CONNECT needs it in the peer table). */
static int await_found(wpas_ctrl *events, const unsigned char *peer, uint64_t deadline)
{
    char buf[4096];
    wpas_event ev;
    for (;;) {
        uint64_t now = plat_now_ns();
        long n;
        if (now >= deadline)
            return 0;
        n = wpas_ctrl_recv(events, buf, sizeof buf, (int)((deadline - now) / 1000000u) + 1);
        if (n < 0)
            return 0;
        wpas_parse_event(buf, (size_t)n, &ev);
        if (ev.type == WPAS_EV_DEVICE_FOUND && ev.has_peer && memcmp(ev.peer, peer, 6) == 0)
            return 1;
    }
}

DWORD wpas_pair(const unsigned char *address, const char *pin, uint32_t timeout_ms)
{
    char path[512], cmd[160], mac[18], reply[256], ifname[64] = "";
    wpas_ctrl events;
    uint64_t deadline;
    DWORD rc;
    long n;
    size_t i;
    int go = 0;
    uint32_t settle_ms;
    if (address == NULL || timeout_ms == 0)
        return W_INVALID_PARAMETER;
    if (pin != NULL) { /* digits only: it goes into a command line */
        if (pin[0] == '\0' || strlen(pin) > 8)
            return W_INVALID_PARAMETER;
        for (i = 0; pin[i]; i++)
            if (pin[i] < '0' || pin[i] > '9')
                return W_INVALID_PARAMETER;
    }
    wpas_init();
    if (!G.configured && wpas_configure(NULL) != 0)
        return W_SERVICE_NOT_ACTIVE;
    snprintf(path, sizeof path, "%s/%s", G.dir, G.dev_if);
    if (wpas_ctrl_open(&events, path) != 0)
        return W_SERVICE_NOT_ACTIVE;
    if (wpas_ctrl_request(&events, "ATTACH", reply, sizeof reply, (int)G.reply_ms) < 2) {
        wpas_ctrl_close(&events);
        return W_SERVICE_NOT_ACTIVE;
    }
    deadline = plat_now_ns() + (uint64_t)timeout_ms * 1000000u;
    wpas_format_mac(address, mac);
    if (pin == NULL)
        snprintf(cmd, sizeof cmd, "P2P_CONNECT %s pbc persistent", mac);
    else
        snprintf(cmd, sizeof cmd, "P2P_CONNECT %s %s keypad persistent", mac, pin);
    n = wpas_request(cmd, reply, sizeof reply);
    if (n >= 0 && wpas_reply_failed(reply, (size_t)n)) {
        /* not in the peer table: discover it first */
        (void)wpas_request("P2P_FIND", reply, sizeof reply);
        if (!await_found(&events, address, deadline)) {
            (void)wpas_request("P2P_STOP_FIND", reply, sizeof reply);
            wpas_ctrl_close(&events);
            return W_NOT_FOUND;
        }
        (void)wpas_request("P2P_STOP_FIND", reply, sizeof reply);
        n = wpas_request(cmd, reply, sizeof reply);
    }
    if (n < 0 || wpas_reply_failed(reply, (size_t)n)) {
        wpas_ctrl_close(&events);
        return n < 0 ? W_SERVICE_NOT_ACTIVE : W_NOT_FOUND;
    }
    rc = await_group(&events, address, deadline, ifname, sizeof ifname, &go);
    if (rc != W_SUCCESS) {
        (void)wpas_request("P2P_CANCEL", reply, sizeof reply);
        if (ifname[0] != '\0') { /* a group that formed half-way */
            snprintf(cmd, sizeof cmd, "P2P_GROUP_REMOVE %s", ifname);
            (void)wpas_request(cmd, reply, sizeof reply);
        }
    }
    (void)wpas_ctrl_request(&events, "DETACH", reply, sizeof reply, (int)G.reply_ms);
    wpas_ctrl_close(&events);
    if (rc != W_SUCCESS)
        return rc;
    /* Paired: the persistent group is stored. Its session is not wanted now; as its owner,
     * give the peer its moment to finish (see wpas_set_settle). */
    wpas_lock();
    settle_ms = G.settle_ms;
    wpas_unlock();
    if (go && settle_ms > 0) {
        struct timespec pause = {(time_t)(settle_ms / 1000), (long)(settle_ms % 1000) * 1000000L};
        while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {
        }
    }
    snprintf(cmd, sizeof cmd, "P2P_GROUP_REMOVE %s", ifname);
    (void)wpas_request(cmd, reply, sizeof reply);
    return save();
}

DWORD wpas_unpair(const unsigned char *address)
{
    long id;
    int go, removed = 0;
    char cmd[64], reply[64];
    if (address == NULL)
        return W_INVALID_PARAMETER;
    wpas_init();
    if (!G.configured && wpas_configure(NULL) != 0)
        return W_SERVICE_NOT_ACTIVE;
    /* One entry per role may exist: remove until none is left (bounded). */
    while (removed < 8) {
        DWORD rc = wpas_find_network(address, &id, &go);
        if (rc == W_NOT_FOUND)
            break;
        if (rc != W_SUCCESS)
            return rc;
        snprintf(cmd, sizeof cmd, "REMOVE_NETWORK %ld", id);
        if (simple(cmd) != W_SUCCESS)
            return W_INVALID_STATE;
        removed++;
    }
    if (removed == 0)
        return W_NOT_FOUND;
    (void)reply;
    return save();
}
