/* parse.c: parsers of wpa_supplicant's control-interface text (see parse.h). Bounded by the
 * given lengths everywhere; no allocation, no state. */
#include "parse.h"

#include <string.h>

static int hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int wpas_parse_mac(const char *s, size_t n, unsigned char out[6])
{
    unsigned char mac[6];
    size_t i;
    if (s == NULL || n < 17)
        return 0;
    for (i = 0; i < 6; i++) {
        int hi = hex((unsigned char)s[3 * i]), lo = hex((unsigned char)s[3 * i + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
            return 0;
        mac[i] = (unsigned char)(hi * 16 + lo);
    }
    if (n > 17 && hex((unsigned char)s[17]) >= 0)
        return 0; /* longer than an address */
    memcpy(out, mac, 6);
    return 1;
}

/* Copy [s, s+len) into out[size] as a string, truncated. */
static void copy_text(char *out, size_t size, const char *s, size_t len)
{
    if (size == 0)
        return;
    if (len > size - 1)
        len = size - 1;
    memcpy(out, s, len);
    out[len] = '\0';
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

long wpas_value(const char *text, size_t n, const char *key, char *out, size_t size)
{
    size_t klen, i;
    int lines;
    if (out != NULL && size > 0)
        out[0] = '\0';
    if (text == NULL || key == NULL || (klen = strlen(key)) == 0)
        return -1;
    lines = memchr(text, '\n', n) != NULL; /* a reply of key=value lines, not an event */
    for (i = 0; i + klen < n; i++) {
        int line_start = i == 0 || text[i - 1] == '\n';
        size_t start, end;
        if (!(line_start || text[i - 1] == ' ' || text[i - 1] == '\t'))
            continue;
        if (text[i + klen] != '=' || memcmp(text + i, key, klen) != 0)
            continue;
        start = i + klen + 1;
        if (lines && line_start) { /* a reply's line: the value is the rest of the line */
            for (end = start; end < n && text[end] != '\n'; end++)
                ;
        } else if (start < n && (text[start] == '\'' || text[start] == '"')) {
            char quote = text[start++];
            for (end = start; end < n && text[end] != quote; end++)
                ;
        } else {
            for (end = start; end < n && !is_space(text[end]); end++)
                ;
        }
        if (out != NULL)
            copy_text(out, size, text + start, end - start);
        return (long)(end - start);
    }
    return -1;
}

static const struct {
    const char *name;
    int type;
} events[] = {
    {"P2P-GROUP-STARTED", WPAS_EV_GROUP_STARTED},
    {"P2P-GROUP-REMOVED", WPAS_EV_GROUP_REMOVED},
    {"P2P-INVITATION-RESULT", WPAS_EV_INVITATION_RESULT},
    {"P2P-DEVICE-FOUND", WPAS_EV_DEVICE_FOUND},
    {"P2P-DEVICE-LOST", WPAS_EV_DEVICE_LOST},
    {"AP-STA-CONNECTED", WPAS_EV_STA_CONNECTED},
    {"AP-STA-DISCONNECTED", WPAS_EV_STA_DISCONNECTED},
    {"P2P-GROUP-FORMATION-FAILURE", WPAS_EV_FORMATION_FAILURE},
    {"P2P-GO-NEG-FAILURE", WPAS_EV_FORMATION_FAILURE},
    {"P2P-FIND-STOPPED", WPAS_EV_FIND_STOPPED},
    {"CTRL-EVENT-TERMINATING", WPAS_EV_TERMINATING},
    {"PONG", WPAS_EV_PONG},
};

/* The next space-separated word of [*pos, n): its start and length; 0 when none. */
static int next_word(const char *s, size_t n, size_t *pos, size_t *start, size_t *len)
{
    size_t i = *pos;
    while (i < n && is_space(s[i]))
        i++;
    if (i >= n)
        return 0;
    *start = i;
    while (i < n && !is_space(s[i]))
        i++;
    *len = i - *start;
    *pos = i;
    return 1;
}

static long parse_long(const char *s, size_t n)
{
    long v = 0;
    size_t i = 0;
    int neg = 0;
    if (n > 0 && s[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i >= n)
        return -1;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > 100000000L)
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return neg ? -v : v;
}

void wpas_parse_event(const char *msg, size_t n, wpas_event *ev)
{
    size_t pos = 0, ws, wl, i;
    char value[64];
    long len;
    memset(ev, 0, sizeof *ev);
    ev->level = -1;
    ev->status = -1;
    if (msg == NULL)
        return;
    if (n > 0 && msg[0] == '<') { /* "<3>" */
        size_t close = 1;
        while (close < n && close < 4 && msg[close] != '>')
            close++;
        if (close < n && msg[close] == '>') {
            ev->level = (int)parse_long(msg + 1, close - 1);
            pos = close + 1;
        }
    }
    if (!next_word(msg, n, &pos, &ws, &wl))
        return;
    for (i = 0; i < sizeof events / sizeof events[0]; i++)
        if (strlen(events[i].name) == wl && memcmp(msg + ws, events[i].name, wl) == 0)
            ev->type = events[i].type;
    if (ev->type == WPAS_EV_OTHER)
        return;
    msg += pos; /* the arguments */
    n -= pos;
    pos = 0;
    switch (ev->type) {
    case WPAS_EV_GROUP_STARTED:
    case WPAS_EV_GROUP_REMOVED:
        if (next_word(msg, n, &pos, &ws, &wl))
            copy_text(ev->ifname, sizeof ev->ifname, msg + ws, wl);
        if (next_word(msg, n, &pos, &ws, &wl))
            ev->go = wl == 2 && memcmp(msg + ws, "GO", 2) == 0;
        if (ev->type == WPAS_EV_GROUP_STARTED) {
            len = wpas_value(msg, n, "go_dev_addr", value, sizeof value);
            ev->has_peer = len == 17 && wpas_parse_mac(value, 17, ev->peer);
            for (i = 0; i + 12 <= n; i++)
                if (memcmp(msg + i, "[PERSISTENT]", 12) == 0)
                    ev->persistent = 1;
        } else {
            (void)wpas_value(msg, n, "reason", ev->reason, sizeof ev->reason);
        }
        break;
    case WPAS_EV_DEVICE_FOUND:
    case WPAS_EV_DEVICE_LOST:
    case WPAS_EV_STA_CONNECTED:
    case WPAS_EV_STA_DISCONNECTED:
        if ((ev->type == WPAS_EV_STA_CONNECTED || ev->type == WPAS_EV_STA_DISCONNECTED) &&
            next_word(msg, n, &pos, &ws, &wl) && wl == 17)
            ev->has_sta = wpas_parse_mac(msg + ws, 17, ev->sta);
        len = wpas_value(msg, n, "p2p_dev_addr", value, sizeof value);
        ev->has_peer = len == 17 && wpas_parse_mac(value, 17, ev->peer);
        if (ev->type == WPAS_EV_DEVICE_FOUND)
            (void)wpas_value(msg, n, "name", ev->name, sizeof ev->name);
        break;
    case WPAS_EV_INVITATION_RESULT:
    case WPAS_EV_FORMATION_FAILURE:
        len = wpas_value(msg, n, "status", value, sizeof value);
        if (len > 0 && (size_t)len < sizeof value)
            ev->status = parse_long(value, (size_t)len);
        break;
    default:
        break;
    }
}

size_t wpas_parse_networks(const char *reply, size_t n, wpas_network *out, size_t capacity)
{
    size_t pos = 0, count = 0;
    int header = 1;
    if (reply == NULL)
        return 0;
    while (pos < n) {
        size_t end = pos, f, field = 0, fstart = pos;
        wpas_network net;
        while (end < n && reply[end] != '\n')
            end++;
        if (header) { /* "network id / ssid / bssid / flags" */
            header = 0;
            pos = end + 1;
            continue;
        }
        memset(&net, 0, sizeof net);
        net.id = -1;
        for (f = pos; f <= end; f++) {
            if (f < end && reply[f] != '\t')
                continue;
            switch (field) {
            case 0:
                net.id = parse_long(reply + fstart, f - fstart);
                break;
            case 1:
                copy_text(net.ssid, sizeof net.ssid, reply + fstart, f - fstart);
                break;
            case 2:
                net.has_bssid = wpas_parse_mac(reply + fstart, f - fstart, net.bssid);
                break;
            default: {
                size_t i;
                for (i = fstart; i + 16 <= f; i++)
                    if (memcmp(reply + i, "[P2P-PERSISTENT]", 16) == 0)
                        net.persistent = 1;
            }
            }
            field++;
            fstart = f + 1;
        }
        if (net.id >= 0) {
            if (count < capacity)
                out[count] = net;
            count++;
        }
        pos = end + 1;
    }
    return count;
}

size_t wpas_parse_mac_list(const char *text, size_t n, unsigned char (*out)[6], size_t capacity)
{
    size_t pos = 0, ws, wl, count = 0;
    unsigned char mac[6];
    if (text == NULL)
        return 0;
    while (next_word(text, n, &pos, &ws, &wl)) {
        if (wl == 17 && wpas_parse_mac(text + ws, wl, mac)) {
            if (count < capacity)
                memcpy(out[count], mac, 6);
            count++;
        }
    }
    return count;
}

int wpas_reply_failed(const char *reply, size_t n)
{
    return reply == NULL || n == 0 || (n >= 4 && memcmp(reply, "FAIL", 4) == 0);
}
