/* wpas_stress.c: the wpas backend's seven functions and its event thread under concurrency,
 * against a small wpa_supplicant stand-in in this process (a thread answering on a UNIX
 * datagram socket with the replies and events real wpa_supplicant 2.10 gives; randomly it
 * accepts, refuses or stays silent). For ThreadSanitizer and ASan (tools/sanitize).
 *
 * Client threads open handles, start opens, cancel some, close sessions (some from inside
 * their own callback), close handles with opens pending, while the stand-in answers. Checks:
 * every started open gets exactly one callback, no call fails unexpectedly, nothing is left.
 *
 *   gcc -std=c11 -Wall -Wextra -Werror -pthread -Iinclude -Isrc/common -Isrc/wpas
 *       src/wpas/[a-z]*.c src/common/platform.c tests/c/wpas_stress.c -o wpas_stress
 *   ./wpas_stress ROUNDS
 */
#define _GNU_SOURCE
#include "wpas_internal.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int failures;
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
#define FAIL(...)                                                                          \
    do {                                                                                   \
        pthread_mutex_lock(&fail_lock);                                                    \
        failures++;                                                                        \
        fprintf(stderr, "line %d: ", __LINE__);                                            \
        fprintf(stderr, __VA_ARGS__);                                                      \
        fputc('\n', stderr);                                                               \
        pthread_mutex_unlock(&fail_lock);                                                  \
    } while (0)

/* ---- the stand-in ------------------------------------------------------------------------ */

static int server = -1;
static volatile uint32_t server_stop; /* plat_atomic_* */
static struct sockaddr_un attached[64];
static socklen_t attached_len[64];
static int nattached;
static unsigned groups, seed = 12345;

static unsigned rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

static void event(const char *text)
{
    for (int i = 0; i < nattached; i++)
        (void)sendto(server, text, strlen(text), MSG_DONTWAIT, (struct sockaddr *)&attached[i],
                     attached_len[i]);
}

static void *serve(void *arg)
{
    char buf[4096], out[512], ev[512];
    (void)arg;
    while (!plat_atomic_load(&server_stop)) {
        struct sockaddr_un from;
        socklen_t flen = sizeof from;
        struct pollfd p = {server, POLLIN, 0};
        ssize_t n;
        const char *reply = "FAIL\n";
        if (poll(&p, 1, 50) <= 0)
            continue;
        n = recvfrom(server, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &flen);
        if (n < 0)
            continue;
        buf[n] = '\0';
        if (strcmp(buf, "ATTACH") == 0 && nattached < 64) {
            attached[nattached] = from;
            attached_len[nattached++] = flen;
            reply = "OK\n";
        } else if (strcmp(buf, "DETACH") == 0) {
            for (int i = 0; i < nattached; i++)
                if (attached_len[i] == flen && memcmp(&attached[i], &from, flen) == 0) {
                    attached[i] = attached[--nattached];
                    attached_len[i] = attached_len[nattached];
                    break;
                }
            reply = "OK\n";
        } else if (strcmp(buf, "PING") == 0) {
            reply = "PONG\n";
        } else if (strcmp(buf, "STATUS") == 0) {
            reply = "wpa_state=DISCONNECTED\np2p_device_address=42:00:00:00:00:00\n"
                    "address=42:00:00:00:00:00\n";
        } else if (strcmp(buf, "GET update_config") == 0) {
            reply = "0";
        } else if (strcmp(buf, "LIST_NETWORKS") == 0) {
            reply = "network id / ssid / bssid / flags\n"
                    "0\tDIRECT-zk\t42:00:00:00:00:00\t[DISABLED][P2P-PERSISTENT]\n";
        } else if (strcmp(buf, "GET_NETWORK 0 p2p_client_list") == 0) {
            reply = "42:00:00:00:01:00";
        } else if (strncmp(buf, "P2P_INVITE persistent=0 peer=42:00:00:00:01:00", 46) == 0) {
            unsigned what = rnd(&seed) % 4;
            reply = "OK\n";
            if (what == 0) { /* refused */
                event("<3>P2P-INVITATION-RESULT status=1 ");
            } else if (what < 3) { /* accepted */
                unsigned g = groups++;
                event("<3>P2P-INVITATION-RESULT status=0 ");
                snprintf(ev, sizeof ev,
                         "<3>P2P-GROUP-STARTED p2p-wlan0-%u GO ssid=\"DIRECT-zk\" freq=2412 "
                         "passphrase=\"ppA3NpnV\" go_dev_addr=42:00:00:00:00:00 [PERSISTENT]",
                         g);
                event(ev);
                event("<3>AP-STA-CONNECTED 46:00:00:00:01:00 p2p_dev_addr=42:00:00:00:01:00");
            } /* else silent: the formation timer ends it */
        } else if (strncmp(buf, "P2P_GROUP_REMOVE ", 17) == 0) {
            snprintf(ev, sizeof ev, "<3>P2P-GROUP-REMOVED %.64s GO reason=REQUESTED", buf + 17);
            event(ev);
            reply = "OK\n";
        } else if (strcmp(buf, "P2P_CANCEL") == 0 || strncmp(buf, "P2P_FIND", 8) == 0 ||
                   strcmp(buf, "P2P_STOP_FIND") == 0) {
            reply = "OK\n";
        }
        snprintf(out, sizeof out, "%s", reply);
        (void)sendto(server, out, strlen(out), MSG_DONTWAIT, (struct sockaddr *)&from, flen);
    }
    return NULL;
}

/* ---- the clients ------------------------------------------------------------------------ */

#define OPENS 4

typedef struct {
    pthread_mutex_t m;
    int calls;
    int close_in_cb;
    DWORD error;
} slot;

static void WINAPI on_complete(HANDLE session, PVOID ctx, GUID guid, DWORD error, DWORD reason)
{
    slot *s = ctx;
    (void)guid;
    (void)reason;
    pthread_mutex_lock(&s->m);
    s->calls++;
    s->error = error;
    pthread_mutex_unlock(&s->m);
    if (error == 0 && s->close_in_cb && WFDCloseSession(session) != 0)
        FAIL("WFDCloseSession from its own callback failed");
}

static void *client_thread(void *arg)
{
    unsigned s = (unsigned)(uintptr_t)arg;
    long rounds = (long)(uintptr_t)arg >> 8;
    DOT11_MAC_ADDRESS peer = {0x42, 0, 0, 0, 1, 0};
    for (long r = 0; r < rounds; r++) {
        HANDLE hc = NULL, hs[OPENS];
        slot slots[OPENS];
        int started[OPENS];
        DWORD v, rc = WFDOpenHandle(WFD_API_VERSION, &v, &hc);
        if (rc != 0) {
            FAIL("WFDOpenHandle -> %u", (unsigned)rc);
            continue;
        }
        for (int i = 0; i < OPENS; i++) {
            memset(&slots[i], 0, sizeof slots[i]);
            pthread_mutex_init(&slots[i].m, NULL);
            slots[i].close_in_cb = (int)(rnd(&s) % 3 == 0);
            hs[i] = NULL;
            rc = WFDStartOpenSession(hc, &peer, &slots[i], on_complete, &hs[i]);
            started[i] = rc == 0;
            if (rc != 0)
                FAIL("WFDStartOpenSession -> %u", (unsigned)rc);
            if (started[i] && rnd(&s) % 3 == 0)
                (void)WFDCancelOpenSession(hs[i]); /* may already be over: any answer */
        }
        if (rnd(&s) % 2) { /* wait for the outcomes, close what opened */
            for (int i = 0; i < OPENS; i++) {
                for (int k = 0; k < 2000 && started[i]; k++) {
                    int done;
                    pthread_mutex_lock(&slots[i].m);
                    done = slots[i].calls > 0;
                    pthread_mutex_unlock(&slots[i].m);
                    if (done)
                        break;
                    usleep(1000);
                }
                if (started[i] && slots[i].error == 0 && !slots[i].close_in_cb)
                    (void)WFDCloseSession(hs[i]);
            }
        }
        rc = WFDCloseHandle(hc); /* waits for the pending ones */
        if (rc != 0)
            FAIL("WFDCloseHandle -> %u", (unsigned)rc);
        for (int i = 0; i < OPENS; i++) {
            if (started[i] && slots[i].calls != 1)
                FAIL("open %d: %d callbacks", i, slots[i].calls);
            pthread_mutex_destroy(&slots[i].m);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 50;
    char dir[] = "/tmp/wpas-stress-XXXXXX", path[64];
    struct sockaddr_un addr;
    pthread_t srv, th[4];
    if (mkdtemp(dir) == NULL)
        return 2;
    snprintf(path, sizeof path, "%s/p2p-dev-wlan0", dir);
    server = socket(AF_UNIX, SOCK_DGRAM, 0);
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path, strlen(path) + 1);
    if (bind(server, (struct sockaddr *)&addr, sizeof addr) != 0) {
        perror("bind");
        return 2;
    }
    pthread_create(&srv, NULL, serve, NULL);
    wpas_set_timeouts(100, 1000, 100); /* silent invitations end after 0.1 s */
    if (wpas_configure(dir) != 0) {
        fprintf(stderr, "wpas_configure failed\n");
        return 2;
    }
    for (int t = 0; t < 4; t++)
        pthread_create(&th[t], NULL, client_thread, (void *)(uintptr_t)((rounds << 8) | (unsigned)(t + 1)));
    for (int t = 0; t < 4; t++)
        pthread_join(th[t], NULL);
    for (int k = 0; k < 2000; k++) { /* the event thread ends once nothing is left */
        int left;
        wpas_lock();
        left = G.objs != NULL || G.thread_running;
        wpas_unlock();
        if (!left)
            break;
        usleep(1000);
    }
    wpas_lock();
    if (G.objs != NULL || G.thread_running)
        FAIL("objects or the event thread left after every client closed");
    wpas_unlock();
    plat_atomic_store(&server_stop, 1);
    pthread_join(srv, NULL);
    close(server);
    unlink(path);
    rmdir(dir);
    printf("4 threads x %ld rounds x %d opens: %u groups formed, %d failures\n", rounds, OPENS,
           groups, failures);
    return failures != 0;
}
