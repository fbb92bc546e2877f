/* parse.h: parsers of wpa_supplicant's control-interface text (replies and events).
 *
 * This is the code that reads outside input: every function takes a buffer and its length (not
 * a NUL-terminated string), never reads past it, never writes past its output's size, and
 * accepts any bytes (truncated, oversized, binary, unknown). tests/c/wpas_fuzz.c fuzzes each of
 * them under ASan and UBSan. No state, no allocation.
 */
#ifndef WPAS_PARSE_H
#define WPAS_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* The events the backend acts on; everything else is WPAS_EV_OTHER. */
enum {
    WPAS_EV_OTHER = 0,
    WPAS_EV_GROUP_STARTED,      /* P2P-GROUP-STARTED <ifname> <GO|client> ... go_dev_addr=X */
    WPAS_EV_GROUP_REMOVED,      /* P2P-GROUP-REMOVED <ifname> <GO|client> reason=R */
    WPAS_EV_INVITATION_RESULT,  /* P2P-INVITATION-RESULT status=N */
    WPAS_EV_DEVICE_FOUND,       /* P2P-DEVICE-FOUND <addr> p2p_dev_addr=X ... name='N' */
    WPAS_EV_DEVICE_LOST,        /* P2P-DEVICE-LOST p2p_dev_addr=X */
    WPAS_EV_STA_CONNECTED,      /* AP-STA-CONNECTED <addr> p2p_dev_addr=X */
    WPAS_EV_STA_DISCONNECTED,   /* AP-STA-DISCONNECTED <addr> p2p_dev_addr=X */
    WPAS_EV_FORMATION_FAILURE,  /* P2P-GROUP-FORMATION-FAILURE, P2P-GO-NEG-FAILURE status=N */
    WPAS_EV_FIND_STOPPED,       /* P2P-FIND-STOPPED */
    WPAS_EV_TERMINATING,        /* CTRL-EVENT-TERMINATING: wpa_supplicant is exiting */
    WPAS_EV_PONG                /* PONG: the reply to a PING sent on the event socket */
};

typedef struct {
    int type;                 /* WPAS_EV_* */
    int level;                /* the <N> priority, -1 if none */
    char ifname[64];          /* GROUP_STARTED, GROUP_REMOVED */
    int go;                   /* GROUP_*: 1 = we are the group owner, 0 = client */
    int persistent;           /* GROUP_STARTED: [PERSISTENT] */
    unsigned char peer[6];    /* p2p_dev_addr= (DEVICE_*, STA_*), go_dev_addr= (GROUP_STARTED) */
    int has_peer;
    unsigned char sta[6];     /* STA_*: the station's (interface) address, the first word */
    int has_sta;
    long status;              /* INVITATION_RESULT, FORMATION_FAILURE status=, -1 if none */
    char reason[32];          /* GROUP_REMOVED reason= */
    char name[64];            /* DEVICE_FOUND name='...' */
} wpas_event;

/* "aa:bb:cc:dd:ee:ff" at s (exactly 17 characters of n or more): 1 and the 6 bytes, else 0. */
int wpas_parse_mac(const char *s, size_t n, unsigned char out[6]);

/* One event datagram ("<3>P2P-GROUP-STARTED ..."), or a reply that is not an event: fills *ev
 * (type WPAS_EV_OTHER when unknown). */
void wpas_parse_event(const char *msg, size_t n, wpas_event *ev);

/* The value of `key` in text of `n` bytes: lines "key=value" (replies such as STATUS), or words
 * key=value / key='quoted value' / key="quoted value" (events). Copies at most size-1 bytes and
 * a NUL into out; returns the value's full length, or -1 when the key is absent. */
long wpas_value(const char *text, size_t n, const char *key, char *out, size_t size);

/* One line of a LIST_NETWORKS reply ("id\tssid\tbssid\tflags"). */
typedef struct {
    long id;
    char ssid[64];
    unsigned char bssid[6];
    int has_bssid;
    int persistent;           /* flags contain [P2P-PERSISTENT] */
} wpas_network;

/* The networks of a LIST_NETWORKS reply, its header line skipped: up to `capacity` into out;
 * returns how many lines there were (call again with more room when larger than capacity). */
size_t wpas_parse_networks(const char *reply, size_t n, wpas_network *out, size_t capacity);

/* The addresses of a space-separated list (GET_NETWORK <id> p2p_client_list): up to `capacity`;
 * returns how many valid ones there were. */
size_t wpas_parse_mac_list(const char *text, size_t n, unsigned char (*out)[6], size_t capacity);

/* A reply that says "FAIL" (FAIL, FAIL-BUSY, ...) or is empty. */
int wpas_reply_failed(const char *reply, size_t n);

#endif /* WPAS_PARSE_H */
