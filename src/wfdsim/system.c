/* system.c: the simulated system around the API (include/backend.h): the paired devices (the
 * paired peers), the sessions' network interfaces, link changes and the service's state.
 * docs/simulator.md, "The system around the API", describes what is simulated and how. */
#if !defined(_WIN32)
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#endif

#include "wfdsim_internal.h"

#include "backend.h"

#include <stdio.h>
#include <string.h>

#define WFDSIM_ERROR_TIMEOUT_CODE 1460u

typedef struct {
    const unsigned char *address;
    int connected;
} peer_query;

static void peer_connected(wfd_session *s, void *arg)
{
    peer_query *q = arg;
    if (s->link_up && memcmp(s->addr, q->address, 6) == 0)
        q->connected = 1;
}

/* A peer's interface address: its device address with bit 7 of the fifth byte flipped, as
 * many P2P drivers derive the group interface's address (docs/simulator.md). */
static void interface_address(const unsigned char *device, unsigned char *out)
{
    memcpy(out, device, 6);
    out[4] ^= 0x80;
}

DWORD wfdx_list_devices(wfdx_device *out, uint32_t capacity, uint32_t *count)
{
    uint32_t i, n = 0;
    if (count == NULL || (out == NULL && capacity > 0))
        return WFDSIM_ERROR_INVALID_PARAMETER;
    wfd_lock();
    for (i = 0; i < wfd_peer_count(); i++) {
        const wfdsim_peer *p = wfd_peer_at(i);
        if (!p->paired)
            continue; /* the paired devices only: Windows lists the ones paired in Settings */
        if (n < capacity) {
            wfdx_device *d = &out[n];
            peer_query q = {p->address, 0};
            wfd_each_session(peer_connected, &q);
            memset(d, 0, sizeof *d);
            memcpy(d->address, p->address, 6);
            interface_address(p->address, d->interface_address);
            d->connected = q.connected;
            d->visible = p->node_visible;
            d->legacy = p->legacy;
            memcpy(d->name, p->name, sizeof p->name);
            snprintf(d->id, sizeof d->id, "WFDSIM\\%02X%02X%02X%02X%02X%02X", p->address[0],
                     p->address[1], p->address[2], p->address[3], p->address[4], p->address[5]);
        }
        n++;
    }
    wfd_unlock();
    *count = n;
    return 0;
}

typedef struct {
    const unsigned char *guid;
    wfd_session *found;
} iface_query;

static void session_by_guid(wfd_session *s, void *arg)
{
    iface_query *q = arg;
    if (s->iface_no != 0 && memcmp(&s->guid, q->guid, sizeof s->guid) == 0)
        q->found = s;
}

/* fe80::/64 with the interface identifier made from a MAC address (modified EUI-64). */
static void link_local(wfdx_ip *ip, const unsigned char *mac, uint32_t scope)
{
    memset(ip, 0, sizeof *ip);
    ip->family = 6;
    ip->bytes[0] = 0xfe;
    ip->bytes[1] = 0x80;
    ip->bytes[8] = (unsigned char)(mac[0] ^ 0x02);
    ip->bytes[9] = mac[1];
    ip->bytes[10] = mac[2];
    ip->bytes[11] = 0xff;
    ip->bytes[12] = 0xfe;
    ip->bytes[13] = mac[3];
    ip->bytes[14] = mac[4];
    ip->bytes[15] = mac[5];
    ip->scope_id = scope;
}

static void ipv4(wfdx_ip *ip, unsigned a, unsigned b, unsigned c, unsigned d)
{
    memset(ip, 0, sizeof *ip);
    ip->family = 4;
    ip->bytes[0] = (unsigned char)a;
    ip->bytes[1] = (unsigned char)b;
    ip->bytes[2] = (unsigned char)c;
    ip->bytes[3] = (unsigned char)d;
}

DWORD wfdx_get_interface(const unsigned char *guid, wfdx_iface *out)
{
    iface_query q = {guid, NULL};
    if (guid == NULL || out == NULL)
        return WFDSIM_ERROR_INVALID_PARAMETER;
    wfd_lock();
    wfd_each_session(session_by_guid, &q);
    if (q.found != NULL) {
        wfd_session *s = q.found;
        uint32_t no = s->iface_no, index = 1000 + no;
        /* Our side's own address: 02:00:00 and the interface's number; the peer's: its
         * interface address. 192.168.137.0/24 is the subnet Windows gives Wi-Fi Direct groups. */
        unsigned char ours[6] = {0x02, 0x00, 0x00, (unsigned char)(no >> 16),
                                 (unsigned char)(no >> 8), (unsigned char)no};
        unsigned char theirs[6];
        interface_address(s->addr, theirs);
        memset(out, 0, sizeof *out);
        snprintf(out->name, sizeof out->name, "Wi-Fi Direct (simulated) %u", (unsigned)no);
        out->index = index;
        out->up = s->link_up;
        out->address_count = 2;
        ipv4(&out->addresses[0], 192, 168, 137, 2 + no % 250);
        link_local(&out->addresses[1], ours, index);
        out->neighbor_count = 2;
        ipv4(&out->neighbors[0], 192, 168, 137, 1);
        link_local(&out->neighbors[1], theirs, index);
    }
    wfd_unlock();
    return q.found != NULL ? 0 : WFDSIM_ERROR_NOT_FOUND;
}

DWORD wfdx_wait_link_change(uint64_t *seen, uint32_t timeout_ms)
{
    uint64_t now;
    if (seen == NULL)
        return WFDSIM_ERROR_INVALID_PARAMETER;
    wfd_lock();
    now = wfd_wait_link_change(*seen, timeout_ms);
    wfd_unlock();
    if (now == *seen)
        return WFDSIM_ERROR_TIMEOUT_CODE;
    *seen = now;
    return 0;
}

void wfdx_link_poke(void)
{
    wfd_lock();
    wfd_link_poke();
    wfd_unlock();
}

uint32_t wfdx_format_message(DWORD code, char *out, uint32_t size)
{
    (void)code;
    if (out != NULL && size > 0)
        out[0] = '\0';
    return 0; /* the simulator has no system message table */
}

int32_t wfdx_service_running(void)
{
    int running;
    wfd_lock();
    running = wfd_service_running();
    wfd_unlock();
    return running;
}

uint32_t wfdx_module_path(char *out, uint32_t size)
{
    if (out != NULL && size > 0)
        out[0] = '\0';
    return 0; /* compiled into the module that calls it */
}
