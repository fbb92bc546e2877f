/* system.c: include/backend.h for the wpa_supplicant backend: the paired devices (the peers of
 * the stored persistent groups), a session's interface (the group interface, read from this
 * machine's network stack, or from wpa_supplicant when it runs elsewhere), link changes, the
 * service's state. docs/wpas.md describes each choice. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* getifaddrs, if_nametoindex */
#endif
#include "wpas_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- visibility: what the last discoveries found ---------------------------------------- */

#define MAX_SEEN 64
static struct {
    unsigned char peer[6];
    int visible;
} seen[MAX_SEEN];
static size_t nseen;

void wpas_set_visible(const unsigned char *peer, int visible)
{
    size_t i;
    for (i = 0; i < nseen; i++)
        if (memcmp(seen[i].peer, peer, 6) == 0) {
            seen[i].visible = visible;
            return;
        }
    if (nseen == MAX_SEEN) { /* forget the oldest */
        memmove(&seen[0], &seen[1], (MAX_SEEN - 1) * sizeof seen[0]);
        nseen--;
    }
    memcpy(seen[nseen].peer, peer, 6);
    seen[nseen].visible = visible;
    nseen++;
}

int wpas_get_visible(const unsigned char *peer)
{
    size_t i;
    for (i = 0; i < nseen; i++)
        if (memcmp(seen[i].peer, peer, 6) == 0)
            return seen[i].visible;
    return -1;
}

/* ---- devices ------------------------------------------------------------------------------ */

static void fill_device(wfdx_device *d, const unsigned char *peer, long net_id)
{
    char cmd[64], mac[18], info[4096], value[32];
    long n;
    int visible;
    wobj *o;
    memset(d, 0, sizeof *d);
    memcpy(d->address, peer, 6);
    snprintf(d->id, sizeof d->id, "wpas:%s/%s#%ld", G.dir, G.dev_if, net_id);
    wpas_format_mac(peer, mac);
    snprintf(cmd, sizeof cmd, "P2P_PEER %s", mac);
    n = wpas_request(cmd, info, sizeof info);
    if (n > 0 && !wpas_reply_failed(info, (size_t)n)) {
        (void)wpas_value(info, (size_t)n, "device_name", d->name, sizeof d->name);
        if (wpas_value(info, (size_t)n, "interface_addr", value, sizeof value) == 17)
            (void)wpas_parse_mac(value, 17, d->interface_address);
        d->visible = 1; /* in wpa_supplicant's peer table: seen within the last minute */
    }
    wpas_lock();
    visible = wpas_get_visible(peer);
    if (visible >= 0)
        d->visible = visible; /* WFDUpdateDeviceVisibility's answer is the latest */
    for (o = G.objs; o != NULL; o = o->next)
        if (o->kind == K_SESSION && o->link_up && memcmp(o->peer, peer, 6) == 0)
            d->connected = 1;
    wpas_unlock();
}

DWORD wfdx_list_devices(wfdx_device *out, uint32_t capacity, uint32_t *count)
{
    wpas_network nets[WPAS_MAX_NETWORKS];
    unsigned char peers[WPAS_MAX_NETWORKS][6], clients[WPAS_MAX_CLIENTS][6], own[6];
    long ids[WPAS_MAX_NETWORKS], n_nets, i, k, nc;
    size_t m, npeers = 0;
    uint32_t filled = 0;
    if (count == NULL || (out == NULL && capacity > 0))
        return W_INVALID_PARAMETER;
    wpas_init();
    if (!G.configured && wpas_configure(NULL) != 0)
        return W_SERVICE_NOT_ACTIVE;
    n_nets = wpas_persistent_groups(nets, own);
    if (n_nets < 0)
        return W_SERVICE_NOT_ACTIVE;
    for (i = 0; i < n_nets; i++) {
        if (memcmp(nets[i].bssid, own, 6) != 0) { /* the peer owns the group */
            memcpy(clients[0], nets[i].bssid, 6);
            nc = 1;
        } else { /* we own it: its clients are the peers (none known if it does not answer) */
            nc = wpas_group_clients(nets[i].id, clients);
        }
        for (k = 0; k < nc; k++) { /* each peer once, in the order of the networks */
            for (m = 0; m < npeers && memcmp(peers[m], clients[k], 6) != 0; m++)
                ;
            if (m == npeers && npeers < WPAS_MAX_NETWORKS) {
                memcpy(peers[npeers], clients[k], 6);
                ids[npeers] = nets[i].id;
                npeers++;
            }
        }
    }
    for (m = 0; m < npeers; m++) {
        if (filled < capacity)
            fill_device(&out[filled], peers[m], ids[m]);
        filled++;
    }
    *count = filled;
    return W_SUCCESS;
}

/* ---- interfaces --------------------------------------------------------------------------- */

static void put_ip(wfdx_ip *ip, int family, const void *bytes, uint32_t scope)
{
    memset(ip, 0, sizeof *ip);
    ip->family = family == AF_INET ? 4 : 6;
    memcpy(ip->bytes, bytes, family == AF_INET ? 4 : 16);
    ip->scope_id = scope;
}

/* The IPv4 and IPv6 neighbours of an interface (RTM_GETNEIGH), resolved ones only. */
static void neighbours(uint32_t index, wfdx_iface *out)
{
    struct {
        struct nlmsghdr h;
        struct ndmsg m;
    } req;
    char buf[16384];
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    int done = 0;
    if (fd < 0)
        return;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg));
    req.h.nlmsg_type = RTM_GETNEIGH;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.h.nlmsg_seq = 1;
    req.m.ndm_family = AF_UNSPEC;
    if (send(fd, &req, req.h.nlmsg_len, 0) < 0) {
        close(fd);
        return;
    }
    while (!done) {
        ssize_t len = recv(fd, buf, sizeof buf, 0);
        struct nlmsghdr *h;
        if (len <= 0)
            break;
        for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
            struct ndmsg *m;
            struct rtattr *a;
            int alen;
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
                done = 1;
                break;
            }
            if (h->nlmsg_type != RTM_NEWNEIGH)
                continue;
            m = NLMSG_DATA(h);
            if ((uint32_t)m->ndm_ifindex != index ||
                (m->ndm_state & (NUD_INCOMPLETE | NUD_FAILED | NUD_NOARP)) != 0)
                continue;
            alen = (int)RTM_PAYLOAD(h);
            for (a = RTM_RTA(m); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
                if (a->rta_type != NDA_DST || out->neighbor_count >= 8)
                    continue;
                if (m->ndm_family == AF_INET && RTA_PAYLOAD(a) == 4) {
                    const unsigned char *b = RTA_DATA(a);
                    if (b[0] < 224 && b[3] != 255)
                        put_ip(&out->neighbors[out->neighbor_count++], AF_INET, b, 0);
                } else if (m->ndm_family == AF_INET6 && RTA_PAYLOAD(a) == 16) {
                    const unsigned char *b = RTA_DATA(a);
                    if (b[0] != 0xff)
                        put_ip(&out->neighbors[out->neighbor_count++], AF_INET6, b, index);
                }
            }
        }
    }
    close(fd);
}

/* The interface as this machine's network stack has it: 0, or -1 when it has none by that
 * name (wpa_supplicant runs in another network namespace or machine). */
static int local_interface(const char *ifname, wfdx_iface *out)
{
    struct ifaddrs *all, *a;
    unsigned index = if_nametoindex(ifname);
    if (index == 0)
        return -1;
    out->index = index;
    if (getifaddrs(&all) != 0)
        return 0;
    for (a = all; a != NULL; a = a->ifa_next) {
        if (a->ifa_name == NULL || strcmp(a->ifa_name, ifname) != 0)
            continue;
        if (a->ifa_flags & IFF_RUNNING)
            out->up = out->up || (a->ifa_flags & IFF_UP) != 0;
        if (a->ifa_addr == NULL || out->address_count >= 16)
            continue;
        if (a->ifa_addr->sa_family == AF_INET) {
            struct sockaddr_in *s = (struct sockaddr_in *)a->ifa_addr;
            put_ip(&out->addresses[out->address_count++], AF_INET, &s->sin_addr, 0);
        } else if (a->ifa_addr->sa_family == AF_INET6) {
            struct sockaddr_in6 *s = (struct sockaddr_in6 *)a->ifa_addr;
            put_ip(&out->addresses[out->address_count++], AF_INET6, &s->sin6_addr,
                   s->sin6_scope_id);
        }
    }
    freeifaddrs(all);
    neighbours(index, out);
    return 0;
}

DWORD wfdx_get_interface(const unsigned char *guid, wfdx_iface *out)
{
    char ifname[64], reply[2048], value[64];
    int link_up;
    wobj *s;
    long n;
    if (guid == NULL || out == NULL)
        return W_INVALID_PARAMETER;
    wpas_lock();
    s = wpas_session_by_guid(guid);
    if (s == NULL) {
        wpas_unlock();
        return W_NOT_FOUND;
    }
    memcpy(ifname, s->ifname, sizeof ifname);
    link_up = s->link_up;
    wpas_unlock();
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", ifname);
    if (local_interface(ifname, out) == 0) {
        out->up = out->up && link_up;
        return W_SUCCESS;
    }
    /* Elsewhere: what wpa_supplicant says of the group interface (no index; an IPv4 address
     * once DHCP gave one). */
    out->up = link_up;
    n = wpas_request_on(ifname, "STATUS", reply, sizeof reply);
    if (n > 0 && wpas_value(reply, (size_t)n, "ip_address", value, sizeof value) > 0) {
        struct in_addr a;
        if (inet_pton(AF_INET, value, &a) == 1)
            put_ip(&out->addresses[out->address_count++], AF_INET, &a, 0);
    }
    return W_SUCCESS;
}

/* ---- links, the service ----------------------------------------------------------------- */

DWORD wfdx_wait_link_change(uint64_t *seen_changes, uint32_t timeout_ms)
{
    uint64_t deadline;
    DWORD rc = W_TIMEOUT;
    if (seen_changes == NULL)
        return W_INVALID_PARAMETER;
    wpas_lock();
    deadline = plat_now_ns() + (uint64_t)timeout_ms * 1000000u;
    if (G.link_seq == 0)
        G.link_seq = 1; /* a first wait (seen 0) returns at once */
    while (G.link_seq == *seen_changes && plat_now_ns() < deadline)
        (void)plat_cond_timedwait(&G.cv, &G.lock, deadline);
    if (G.link_seq != *seen_changes) {
        *seen_changes = G.link_seq;
        rc = W_SUCCESS;
    }
    wpas_unlock();
    return rc;
}

void wfdx_link_poke(void)
{
    wpas_lock();
    wpas_link_changed();
    wpas_unlock();
}

uint32_t wfdx_format_message(DWORD code, char *out, uint32_t size)
{
    (void)code;
    if (out != NULL && size > 0)
        out[0] = '\0';
    return 0; /* Win32 codes have no text here */
}

int32_t wfdx_service_running(void)
{
    char reply[16];
    long n;
    wpas_init();
    if (!G.configured && wpas_configure(NULL) != 0)
        return 0;
    n = wpas_request("PING", reply, sizeof reply);
    return n >= 4 && memcmp(reply, "PONG", 4) == 0;
}

uint32_t wfdx_module_path(char *out, uint32_t size)
{
    int len;
    if (out == NULL || size == 0)
        return 0;
    wpas_lock();
    len = G.configured ? snprintf(out, size, "%s/%s", G.dir, G.dev_if) : 0;
    wpas_unlock();
    if (len <= 0) {
        out[0] = '\0';
        return 0;
    }
    return (uint32_t)((size_t)len < size ? (size_t)len : size - 1);
}
