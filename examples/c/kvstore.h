/*
 * kvstore.h: a persistence store kept in memory, written against scangit_kv_methods: an
 * ordered key/value map (a sorted array with binary search) and nothing else.
 *
 * The library (scangit_store_open_kv) does the rest: the key layout, checking batches, keeping
 * the first write of each data key and applying a watermark only when it is not older than the
 * stored one ("newer never loses"). The store only gets, lists and puts byte strings:
 * - get_many answers each key in order with scangit_kv_reply_value or scangit_kv_reply_missing;
 * - scan_prefix answers every pair under a prefix with scangit_kv_reply_pair;
 * - write_batch stores a batch all or nothing: it allocates everything first, so applying
 *   cannot fail half way.
 * The library copies what the reply functions get, and the batch it passes is borrowed for
 * the call: nothing is freed across the boundary. Calls are serialized by the library, so no
 * locking is needed here.
 */
#ifndef KVSTORE_H
#define KVSTORE_H

#include <stdlib.h>
#include <string.h>

#include "scangit.h"

typedef struct kvstore_entry {
    uint8_t *key;
    size_t key_len;
    uint8_t *value;
    size_t value_len;
} kvstore_entry;

typedef struct kvstore {
    kvstore_entry *v; /* sorted by key (bytewise, shorter first on a tie) */
    size_t len, cap;
    /* Test hooks: callback calls so far; when fail_at is the number of the call (1-based), that
     * call fails with SCANGIT_STORE before touching anything. */
    unsigned calls, fail_at;
    unsigned writes; /* successful write_batch calls */
} kvstore;

static int kv_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c) return c;
    return al < bl ? -1 : al > bl;
}

/* The index of the first entry whose key is >= key; *found when equal. */
static size_t kv_lower_bound(const kvstore *s, const uint8_t *key, size_t key_len, int *found) {
    size_t lo = 0, hi = s->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (kv_cmp(s->v[mid].key, s->v[mid].key_len, key, key_len) < 0) lo = mid + 1;
        else hi = mid;
    }
    if (found) *found = lo < s->len && kv_cmp(s->v[lo].key, s->v[lo].key_len, key, key_len) == 0;
    return lo;
}

static uint8_t *kv_dup(const uint8_t *p, size_t n) {
    uint8_t *d = malloc(n ? n : 1);
    if (d && n) memcpy(d, p, n);
    return d;
}

/* The test hook: count the call and fail it when it is the chosen one. */
static int kv_injected_failure(kvstore *s, scangit_kv_reply *reply) {
    if (++s->calls != s->fail_at) return 0;
    scangit_kv_reply_error(reply, "injected failure");
    return 1;
}

static int kv_get_many(void *ctx, const scangit_bytes *keys, size_t count, scangit_kv_reply *reply) {
    kvstore *s = ctx;
    if (kv_injected_failure(s, reply)) return SCANGIT_STORE;
    for (size_t i = 0; i < count; i++) {
        int found;
        size_t at = kv_lower_bound(s, keys[i].ptr, keys[i].len, &found);
        int rc = found ? scangit_kv_reply_value(reply, s->v[at].value, s->v[at].value_len)
                       : scangit_kv_reply_missing(reply);
        if (rc != SCANGIT_OK) return rc;
    }
    return SCANGIT_OK;
}

static int kv_scan_prefix(void *ctx, const uint8_t *prefix, size_t prefix_len, scangit_kv_reply *reply) {
    kvstore *s = ctx;
    if (kv_injected_failure(s, reply)) return SCANGIT_STORE;
    for (size_t i = kv_lower_bound(s, prefix, prefix_len, NULL); i < s->len; i++) {
        const kvstore_entry *e = &s->v[i];
        if (e->key_len < prefix_len || memcmp(e->key, prefix, prefix_len) != 0) break;
        int rc = scangit_kv_reply_pair(reply, e->key, e->key_len, e->value, e->value_len);
        if (rc != SCANGIT_OK) return rc;
    }
    return SCANGIT_OK;
}

static int kv_write_batch(void *ctx, const scangit_write_op *puts, size_t count, scangit_kv_reply *reply) {
    kvstore *s = ctx;
    if (kv_injected_failure(s, reply)) return SCANGIT_STORE;
    /* Allocate everything first: copies of the pairs and room for all of them. */
    kvstore_entry *copies = calloc(count ? count : 1, sizeof *copies);
    int ok = copies != NULL;
    for (size_t i = 0; ok && i < count; i++) {
        copies[i].key = kv_dup(puts[i].key.ptr, puts[i].key.len);
        copies[i].key_len = puts[i].key.len;
        copies[i].value = kv_dup(puts[i].value.ptr, puts[i].value.len);
        copies[i].value_len = puts[i].value.len;
        ok = copies[i].key && copies[i].value;
    }
    if (ok && s->len + count > s->cap) {
        size_t cap = s->cap ? s->cap : 64;
        while (cap < s->len + count) cap *= 2;
        kvstore_entry *v = realloc(s->v, cap * sizeof *v);
        if (v) { s->v = v; s->cap = cap; } else ok = 0;
    }
    if (!ok) {
        for (size_t i = 0; copies && i < count; i++) { free(copies[i].key); free(copies[i].value); }
        free(copies);
        scangit_kv_reply_error(reply, "out of memory");
        return SCANGIT_STORE;
    }
    /* Apply: nothing below can fail. */
    for (size_t i = 0; i < count; i++) {
        int found;
        size_t at = kv_lower_bound(s, copies[i].key, copies[i].key_len, &found);
        if (found) {
            free(s->v[at].value);
            free(copies[i].key);
            s->v[at].value = copies[i].value;
            s->v[at].value_len = copies[i].value_len;
        } else {
            memmove(&s->v[at + 1], &s->v[at], (s->len - at) * sizeof *s->v);
            s->v[at] = copies[i];
            s->len++;
        }
    }
    free(copies);
    s->writes++;
    return SCANGIT_OK;
}

static void kvstore_free(kvstore *s) {
    if (!s) return;
    for (size_t i = 0; i < s->len; i++) { free(s->v[i].key); free(s->v[i].value); }
    free(s->v);
    free(s);
}

static void kv_destroy(void *ctx) { kvstore_free(ctx); }

/* The methods of the kvstore `s` (destroy included: the store handle then owns `s`). */
static void kvstore_methods(kvstore *s, scangit_kv_methods *m) {
    scangit_kv_methods_init(m, sizeof *m);
    m->ctx = s;
    m->get_many = kv_get_many;
    m->scan_prefix = kv_scan_prefix;
    m->write_batch = kv_write_batch;
    m->destroy = kv_destroy;
}

/* A new store handle over a fresh kvstore; *state (optional) receives the kvstore, owned by the
 * handle (freed by its destroy callback when the handle is freed). */
static int kvstore_new(scangit_store **out, kvstore **state) {
    kvstore *s = calloc(1, sizeof *s);
    if (!s) return SCANGIT_INTERNAL;
    scangit_kv_methods m;
    kvstore_methods(s, &m);
    int rc = scangit_store_open_kv(&m, out);
    if (rc != SCANGIT_OK) { kvstore_free(s); return rc; }
    if (state) *state = s;
    return SCANGIT_OK;
}

#endif
