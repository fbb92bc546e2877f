/* ctrl.c: wpa_supplicant control-interface client (see ctrl.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* SOCK_CLOEXEC, MSG_NOSIGNAL */
#endif
#include "ctrl.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

void wpas_trace(const char *fmt, ...);
static void wpas_ctrl_traced(const char *what, int fd, const char *path)
{
    wpas_trace("ctrl %s fd %d %s", what, fd, path);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int wpas_ctrl_open(wpas_ctrl *c, const char *path)
{
    struct sockaddr_un remote, local;
    int fd, err;
    c->fd = -1;
    if (path == NULL || strlen(path) >= sizeof remote.sun_path)
        return ENAMETOOLONG;
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    /* autobind: an address in the abstract namespace, chosen by the kernel (only the family is
     * given; the rest is zeroed for tools that read the whole structure) */
    memset(&local, 0, sizeof local);
    local.sun_family = AF_UNIX;
    if (bind(fd, (struct sockaddr *)&local, sizeof(sa_family_t)) != 0) {
        err = errno;
        close(fd);
        return err;
    }
    memset(&remote, 0, sizeof remote);
    remote.sun_family = AF_UNIX;
    memcpy(remote.sun_path, path, strlen(path) + 1);
    if (connect(fd, (struct sockaddr *)&remote, sizeof remote) != 0) {
        err = errno;
        close(fd);
        return err;
    }
    c->fd = fd;
    wpas_ctrl_traced("open", fd, path);
    return 0;
}

void wpas_ctrl_close(wpas_ctrl *c)
{
    if (c->fd >= 0) {
        wpas_ctrl_traced("close", c->fd, "");
        close(c->fd);
    }
    c->fd = -1;
}

int wpas_ctrl_send(wpas_ctrl *c, const char *cmd)
{
    if (c->fd < 0)
        return ENOTCONN;
    if (send(c->fd, cmd, strlen(cmd), MSG_NOSIGNAL) < 0)
        return errno;
    return 0;
}

long wpas_ctrl_recv(wpas_ctrl *c, char *buf, size_t size, int timeout_ms)
{
    struct pollfd p;
    ssize_t n;
    int64_t deadline = timeout_ms < 0 ? 0 : now_ms() + timeout_ms;
    if (c->fd < 0 || size == 0)
        return -ENOTCONN;
    for (;;) {
        int wait = -1, r;
        if (timeout_ms >= 0) {
            int64_t left = deadline - now_ms();
            wait = left > 0 ? (int)left : 0;
        }
        p.fd = c->fd;
        p.events = POLLIN;
        p.revents = 0;
        r = poll(&p, 1, wait);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            return -ETIMEDOUT;
        n = recv(c->fd, buf, size - 1, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -errno;
        }
        buf[n] = '\0';
        return (long)n;
    }
}

long wpas_ctrl_request(wpas_ctrl *c, const char *cmd, char *reply, size_t size, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    int err = wpas_ctrl_send(c, cmd);
    if (err != 0)
        return -err;
    for (;;) {
        int64_t left = deadline - now_ms();
        long n = wpas_ctrl_recv(c, reply, size, left > 0 ? (int)left : 0);
        if (n < 0)
            return n;
        if (n > 0 && reply[0] == '<')
            continue; /* an unsolicited event on an attached socket */
        return n;
    }
}
