/* relay.c: runs in the tools/hwsim-test guest. It carries wpa_supplicant's control-socket
 * datagrams over one virtio-serial port (a byte stream), so that host programs can talk to the
 * guest's wpa_supplicants through ordinary UNIX sockets (tools/hwsim/proxy.py makes those).
 *
 * A frame, both ways: u32 payload length (big-endian), u16 client number, u8 name length, the
 * interface name, the payload. Each (client, interface) pair gets a datagram socket of its own
 * here, bound to /tmp/relay-<client>-<ifname> and connected to <ctrl dir>/<ifname>: replies and
 * events (after an ATTACH) come back on it and go to the host tagged with the same pair.
 *
 *   relay /dev/vportNpM [ctrl_dir]      (ctrl_dir: /run/wpa_supplicant)
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_LINKS 128
#define MAX_FRAME 70000

static struct {
    int fd;
    unsigned client;
    char name[64];
} links[MAX_LINKS];
static int nlinks, port;
static const char *ctrl_dir = "/run/wpa_supplicant";

static void write_all(const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(port, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            perror("relay: write");
            exit(1);
        }
        p += w;
        n -= (size_t)w;
    }
}

static void send_frame(unsigned client, const char *name, const char *payload, size_t n)
{
    unsigned char head[7];
    size_t len = strlen(name);
    head[0] = (unsigned char)(n >> 24);
    head[1] = (unsigned char)(n >> 16);
    head[2] = (unsigned char)(n >> 8);
    head[3] = (unsigned char)n;
    head[4] = (unsigned char)(client >> 8);
    head[5] = (unsigned char)client;
    head[6] = (unsigned char)len;
    write_all(head, sizeof head);
    write_all(name, len);
    write_all(payload, n);
}

static int link_for(unsigned client, const char *name)
{
    struct sockaddr_un local, remote;
    int i, fd;
    for (i = 0; i < nlinks; i++)
        if (links[i].client == client && strcmp(links[i].name, name) == 0)
            return i;
    if (nlinks == MAX_LINKS || strchr(name, '/') != NULL || strlen(name) > 40)
        return -1; /* interface names are short: IFNAMSIZ is 16 */
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    memset(&local, 0, sizeof local);
    memset(&remote, 0, sizeof remote);
    local.sun_family = remote.sun_family = AF_UNIX;
    snprintf(local.sun_path, sizeof local.sun_path, "/tmp/relay-%u-%.40s", client, name);
    snprintf(remote.sun_path, sizeof remote.sun_path, "%.60s/%.40s", ctrl_dir, name);
    unlink(local.sun_path);
    if (bind(fd, (struct sockaddr *)&local, sizeof local) != 0 ||
        connect(fd, (struct sockaddr *)&remote, sizeof remote) != 0) {
        close(fd);
        return -1;
    }
    links[nlinks].fd = fd;
    links[nlinks].client = client;
    snprintf(links[nlinks].name, sizeof links[nlinks].name, "%.40s", name);
    return nlinks++;
}

int main(int argc, char **argv)
{
    static unsigned char in[MAX_FRAME * 2];
    static char buf[MAX_FRAME];
    size_t have = 0;
    if (argc < 2)
        return 2;
    if (argc > 2)
        ctrl_dir = argv[2];
    port = open(argv[1], O_RDWR);
    if (port < 0) {
        perror(argv[1]);
        return 1;
    }
    for (;;) {
        struct pollfd p[MAX_LINKS + 1];
        int i, n = nlinks;
        p[0].fd = port;
        p[0].events = POLLIN;
        for (i = 0; i < n; i++) {
            p[i + 1].fd = links[i].fd;
            p[i + 1].events = POLLIN;
        }
        if (poll(p, (nfds_t)n + 1, -1) < 0)
            continue;
        if (p[0].revents & POLLIN) {
            ssize_t r = read(port, in + have, sizeof in - have);
            if (r <= 0) { /* the host side is not connected yet */
                usleep(100000);
            } else {
                have += (size_t)r;
                for (;;) { /* every complete frame */
                    size_t len, nlen;
                    unsigned client;
                    char name[256];
                    int k;
                    if (have < 7)
                        break;
                    len = (size_t)in[0] << 24 | (size_t)in[1] << 16 | (size_t)in[2] << 8 | in[3];
                    client = (unsigned)in[4] << 8 | in[5];
                    nlen = in[6];
                    if (len > MAX_FRAME) { /* out of step: start over */
                        have = 0;
                        break;
                    }
                    if (have < 7 + nlen + len)
                        break;
                    memcpy(name, in + 7, nlen);
                    name[nlen] = '\0';
                    k = link_for(client, name);
                    if (k >= 0)
                        (void)send(links[k].fd, in + 7 + nlen, len, 0);
                    else
                        send_frame(client, name, "FAIL\n", 5);
                    memmove(in, in + 7 + nlen + len, have - 7 - nlen - len);
                    have -= 7 + nlen + len;
                }
            }
        }
        for (i = 0; i < n; i++)
            if (p[i + 1].revents & POLLIN) {
                ssize_t r = recv(links[i].fd, buf, sizeof buf, 0);
                if (r >= 0)
                    send_frame(links[i].client, links[i].name, buf, (size_t)r);
            }
    }
}
