/* wpas_fuzz.c: the parsers of wpa_supplicant's replies and events (src/wpas/parse.c) on
 * hostile input.
 *
 * One target, LLVMFuzzerTestOneInput: the input is handed to every parser, as an event, a
 * reply of key=value lines, a LIST_NETWORKS reply and an address list; results are checked
 * for internal consistency (strings terminated within their buffers, counts bounded).
 *
 *  - with libFuzzer (tools/sanitize; `clang -fsanitize=fuzzer,address,undefined`):
 *      wpas_fuzz -max_total_time=30 CORPUS_DIR
 *  - without it (`-DWPAS_FUZZ_MAIN`), a bounded deterministic drive: every datagram of the
 *    recorded transcripts given on the command line (the .jsonl files of tests/data/wpas/),
 *    every truncation of each, and N rounds of seeded random mutations (bit flips, byte
 *    insertions and deletions, splices with another datagram):
 *      wpas_fuzz_drive ROUNDS TRANSCRIPT.jsonl...
 *
 *   clang -std=c11 -g -O1 -fsanitize=address,undefined -DWPAS_FUZZ_MAIN -Isrc/wpas \
 *       src/wpas/parse.c tests/c/wpas_fuzz.c -o wpas_fuzz_drive
 */
#define _POSIX_C_SOURCE 200809L
#include "parse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);       \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

static void terminated(const char *s, size_t size)
{
    CHECK(memchr(s, '\0', size) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly `size` bytes on the heap: ASan sees any read past it. */
    char *buf = malloc(size ? size : 1);
    wpas_event ev;
    wpas_network nets[4];
    unsigned char macs[4][6], mac[6];
    char value[16];
    size_t n;
    long len;
    if (buf == NULL)
        return 0;
    if (size)
        memcpy(buf, data, size);
    wpas_parse_event(buf, size, &ev);
    CHECK(ev.type >= WPAS_EV_OTHER && ev.type <= WPAS_EV_PONG);
    terminated(ev.ifname, sizeof ev.ifname);
    terminated(ev.reason, sizeof ev.reason);
    terminated(ev.name, sizeof ev.name);
    CHECK(ev.has_peer == 0 || ev.has_peer == 1);
    len = wpas_value(buf, size, "p2p_device_address", value, sizeof value);
    CHECK(len >= -1 && len <= (long)size);
    terminated(value, sizeof value);
    len = wpas_value(buf, size, "status", NULL, 0);
    CHECK(len >= -1 && len <= (long)size);
    n = wpas_parse_networks(buf, size, nets, 4);
    CHECK(n <= size); /* at most one per line */
    for (size_t i = 0; i < n && i < 4; i++)
        terminated(nets[i].ssid, sizeof nets[i].ssid);
    n = wpas_parse_mac_list(buf, size, macs, 4);
    CHECK(n <= size / 17);
    (void)wpas_parse_mac(buf, size, mac);
    (void)wpas_reply_failed(buf, size);
    free(buf);
    return 0;
}

#ifdef WPAS_FUZZ_MAIN

/* The "data" strings of a JSON-lines transcript, unescaped (\n, \t, \", \\, \uXXXX as one
 * byte when < 0x100). Enough JSON for our own recordings. */
static size_t load(const char *path, char ***out, size_t count)
{
    FILE *f = fopen(path, "r");
    char line[70000];
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    while (fgets(line, sizeof line, f) != NULL) {
        char *p = strstr(line, "\"data\": \""), *d;
        if (p == NULL)
            continue;
        p += 9;
        d = malloc(strlen(p) + 1);
        CHECK(d != NULL);
        size_t k = 0;
        for (; *p && *p != '"'; p++) {
            if (*p != '\\') {
                d[k++] = *p;
                continue;
            }
            p++;
            switch (*p) {
            case 'n': d[k++] = '\n'; break;
            case 't': d[k++] = '\t'; break;
            case 'u': {
                unsigned v = 0;
                if (sscanf(p + 1, "%4x", &v) == 1)
                    d[k++] = (char)(v & 0xff);
                p += 4;
                break;
            }
            case '\0': p--; break;
            default: d[k++] = *p;
            }
        }
        d[k] = '\0';
        *out = realloc(*out, (count + 1) * sizeof **out);
        CHECK(*out != NULL);
        (*out)[count++] = d;
    }
    fclose(f);
    return count;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(int argc, char **argv)
{
    char **seeds = NULL;
    size_t nseeds = 0, runs = 0;
    long rounds = argc > 1 ? atol(argv[1]) : 1000;
    static uint8_t buf[9000];
    for (int i = 2; i < argc; i++)
        nseeds = load(argv[i], &seeds, nseeds);
    CHECK(nseeds > 0);
    for (size_t s = 0; s < nseeds; s++) {
        size_t len = strlen(seeds[s]);
        for (size_t cut = 0; cut <= len; cut++, runs++) /* every truncation */
            LLVMFuzzerTestOneInput((const uint8_t *)seeds[s], cut);
    }
    for (long r = 0; r < rounds; r++) {
        const char *a = seeds[next() % nseeds], *b = seeds[next() % nseeds];
        size_t len = strlen(a), k, edits = 1 + next() % 8;
        if (len > sizeof buf / 2)
            len = sizeof buf / 2;
        memcpy(buf, a, len);
        for (k = 0; k < edits; k++) {
            size_t at = len ? next() % len : 0;
            switch (next() % 5) {
            case 0: /* flip a bit */
                if (len)
                    buf[at] ^= (uint8_t)(1u << (next() % 8));
                break;
            case 1: /* insert a byte */
                if (len + 1 < sizeof buf) {
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = (uint8_t)next();
                    len++;
                }
                break;
            case 2: /* delete a byte */
                if (len) {
                    memmove(buf + at, buf + at + 1, len - at - 1);
                    len--;
                }
                break;
            case 3: { /* splice in part of another datagram */
                size_t blen = strlen(b), take = blen ? next() % blen : 0;
                if (len + take < sizeof buf) {
                    memmove(buf + at + take, buf + at, len - at);
                    memcpy(buf + at, b, take);
                    len += take;
                }
                break;
            }
            default: /* a separator where it hurts */
                if (len)
                    buf[at] = "\n\t ='\"<>"[next() % 8];
            }
        }
        LLVMFuzzerTestOneInput(buf, len);
        runs++;
    }
    printf("%zu inputs from %zu recorded datagrams, 0 findings\n", runs, nseeds);
    for (size_t s = 0; s < nseeds; s++)
        free(seeds[s]);
    free(seeds);
    return 0;
}
#endif
