/* handles.c: opaque handle values and the table of live handles.
 *
 * A handle is the image of a counter under an invertible mix: counter = seq << 1 | type, with a
 * per-type sequence that only grows, xored with a per-process key and passed through a
 * splitmix64-style finaliser (a 32-bit one where pointers are 32 bits). Inverting a handle
 * tells whether it was ever issued and as which type, so a lookup distinguishes LIVE (in the
 * table), STALE (issued, no longer live) and NEVER ISSUED. Images 0 and all-ones (NULL and
 * INVALID_HANDLE_VALUE) are skipped. Values are never reused within the process.
 * Called with the global lock held (except wfd_handles_init, called from the one-time init).
 */
#include "wfdsim_internal.h"

#include <stdlib.h>

#if UINTPTR_MAX > 0xffffffffu
typedef uint64_t hword;
#define HBITS 64
#define HM1 0xbf58476d1ce4e5b9ull
#define HM2 0x94d049bb133111ebull
#define HS1 30
#define HS2 27
#define HS3 31
#else
typedef uint32_t hword;
#define HBITS 32
#define HM1 0x7feb352du
#define HM2 0x846ca68bu
#define HS1 16
#define HS2 15
#define HS3 16
#endif

static hword g_key, g_inv1, g_inv2;

static hword mul_inverse(hword a) /* a odd: Newton's iteration doubles the correct bits */
{
    hword x = a;
    int i;
    for (i = 0; i < 6; i++)
        x *= (hword)2 - a * x;
    return x;
}

static hword unshift(hword y, unsigned s) /* inverse of x ^ (x >> s) */
{
    hword x = y;
    unsigned k;
    for (k = s; k < HBITS; k += s)
        x ^= y >> k;
    return x;
}

static hword mix(hword x)
{
    x ^= g_key;
    x ^= x >> HS1;
    x *= HM1;
    x ^= x >> HS2;
    x *= HM2;
    x ^= x >> HS3;
    return x;
}

static hword unmix(hword x)
{
    x = unshift(x, HS3);
    x *= g_inv2;
    x = unshift(x, HS2);
    x *= g_inv1;
    x = unshift(x, HS1);
    return x ^ g_key;
}

void wfd_handles_init(uint64_t seed)
{
    g_key = (hword)(seed ^ (seed >> 32));
    g_inv1 = mul_inverse((hword)HM1);
    g_inv2 = mul_inverse((hword)HM2);
}

int wfd_handle_new(int type, uint64_t next_seq[2], HANDLE *out)
{
    for (;;) {
        uint64_t seq = next_seq[type];
        hword img;
        if (seq >= ((uint64_t)(hword)-1 >> 1))
            return -1; /* only reachable with 32-bit handles */
        next_seq[type] = seq + 1;
        img = mix((hword)(seq << 1 | (uint64_t)type));
        if (img != 0 && img != (hword)-1) {
            *out = (HANDLE)(uintptr_t)img;
            return 0;
        }
    }
}

int wfd_handle_was_issued(HANDLE h, int type, const uint64_t next_seq[2])
{
    hword img = (hword)(uintptr_t)h;
    hword counter;
    if (img == 0 || img == (hword)-1)
        return 0;
    counter = unmix(img);
    return (int)(counter & 1u) == type && (uint64_t)(counter >> 1) < next_seq[type];
}

/* The handles are already uniformly mixed: the low bits are a good hash. */
static size_t bucket_of(const wfd_table *t, HANDLE h)
{
    uintptr_t v = (uintptr_t)h;
    return (size_t)(v ^ (v >> 16)) & (t->nbuckets - 1);
}

int wfd_table_reserve(wfd_table *t)
{
    size_t n, i;
    wfd_obj **nb;
    if (t->nbuckets != 0 && (t->count + 1) * 4 <= t->nbuckets * 3)
        return 0;
    n = t->nbuckets ? t->nbuckets * 2 : 64;
    nb = wfd_alloc(n * sizeof *nb);
    if (!nb)
        return -1;
    for (i = 0; i < n; i++)
        nb[i] = NULL;
    for (i = 0; i < t->nbuckets; i++) {
        wfd_obj *o = t->buckets[i];
        while (o) {
            wfd_obj *next = o->hnext;
            size_t b = (size_t)((uintptr_t)o->handle ^ ((uintptr_t)o->handle >> 16)) & (n - 1);
            o->hnext = nb[b];
            nb[b] = o;
            o = next;
        }
    }
    free(t->buckets);
    t->buckets = nb;
    t->nbuckets = n;
    return 0;
}

void wfd_table_insert(wfd_table *t, wfd_obj *o)
{
    size_t b = bucket_of(t, o->handle);
    o->hnext = t->buckets[b];
    t->buckets[b] = o;
    o->in_table = 1;
    t->count++;
}

wfd_obj *wfd_table_find(const wfd_table *t, HANDLE h)
{
    wfd_obj *o;
    if (t->nbuckets == 0)
        return NULL;
    for (o = t->buckets[bucket_of(t, h)]; o; o = o->hnext)
        if (o->handle == h)
            return o;
    return NULL;
}

void wfd_table_remove(wfd_table *t, wfd_obj *o)
{
    wfd_obj **pp = &t->buckets[bucket_of(t, o->handle)];
    while (*pp != o)
        pp = &(*pp)->hnext;
    *pp = o->hnext;
    o->hnext = NULL;
    o->in_table = 0;
    t->count--;
}

wfd_obj *wfd_table_drain(wfd_table *t)
{
    wfd_obj *all = NULL;
    size_t i;
    for (i = 0; i < t->nbuckets; i++) {
        while (t->buckets[i]) {
            wfd_obj *o = t->buckets[i];
            t->buckets[i] = o->hnext;
            o->hnext = all;
            o->in_table = 0;
            all = o;
        }
    }
    t->count = 0;
    return all;
}
