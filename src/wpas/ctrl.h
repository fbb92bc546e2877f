/* ctrl.h: a client of wpa_supplicant's control interface: one UNIX datagram socket connected to
 * <ctrl_dir>/<ifname>, bound to an abstract autobind address (no file to clean up; the server
 * replies to the sender's address). Requests are text commands answered by one datagram. */
#ifndef WPAS_CTRL_H
#define WPAS_CTRL_H

#include <stddef.h>

typedef struct {
    int fd; /* -1 when closed */
} wpas_ctrl;

/* Connect to the socket at `path`: 0, or an errno value (ENOENT, ECONNREFUSED, EACCES, ...). */
int wpas_ctrl_open(wpas_ctrl *c, const char *path);
void wpas_ctrl_close(wpas_ctrl *c);

/* Send `cmd` and wait up to timeout_ms for its reply, skipping unsolicited events ("<N>...",
 * on an attached socket): the reply's length (truncated to size-1, NUL-terminated; a reply
 * longer than the buffer is cut), or -errno (-ETIMEDOUT when none came). */
long wpas_ctrl_request(wpas_ctrl *c, const char *cmd, char *reply, size_t size, int timeout_ms);

/* Send without waiting: 0 or an errno value. */
int wpas_ctrl_send(wpas_ctrl *c, const char *cmd);

/* Receive one datagram within timeout_ms (-1: no limit): its length (NUL-terminated, cut to
 * size-1), or -errno (-ETIMEDOUT). */
long wpas_ctrl_recv(wpas_ctrl *c, char *buf, size_t size, int timeout_ms);

#endif /* WPAS_CTRL_H */
