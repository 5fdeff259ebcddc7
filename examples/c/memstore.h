/*
 * memstore.h: a persistence store kept in memory, written against scangit_store_methods.
 *
 * It treats keys and values as opaque byte strings, as the key layout allows:
 * - data ops are kept by key (a set: re-committing a key replaces its value);
 * - "which blobs were seen" is answered by looking up each blob's seen-blob key
 *   (0x01 's' 'b' 0x00 scope u8(id_len) id);
 * - watermark ops are kept by key, and a newer one (scan_seq >= stored) replaces an older one;
 *   scangit_watermark_op_decode reads their ref name, tip and sequence.
 * A batch is applied all or nothing: the store fails before touching anything.
 *
 * Lookups are linear: this is an example, not a database. The library serializes calls into
 * one store, so no locking is needed here.
 */
#ifndef MEMSTORE_H
#define MEMSTORE_H

#include <stdlib.h>
#include <string.h>

#include "scangit.h"

typedef struct memstore_kv {
    uint8_t *key;
    size_t key_len;
    uint8_t *value;
    size_t value_len;
    uint64_t seq; /* watermarks only */
} memstore_kv;

typedef struct memstore {
    memstore_kv *data, *marks;
    size_t data_len, data_cap, marks_len, marks_cap;
    uint64_t next_seq;
    int fail_commit;     /* test hook: commit fails with SCANGIT_STORE */
    int commits;         /* successful commits */
    int commit_attempts; /* calls of commit */
} memstore;

static uint8_t *ms_dup(const uint8_t *p, size_t n) {
    uint8_t *d = malloc(n ? n : 1);
    if (d && n) memcpy(d, p, n);
    return d;
}

static memstore_kv *ms_find(memstore_kv *v, size_t n, const uint8_t *key, size_t key_len) {
    for (size_t i = 0; i < n; i++)
        if (v[i].key_len == key_len && memcmp(v[i].key, key, key_len) == 0) return &v[i];
    return NULL;
}

/* Insert or replace; returns 0 or -1 when out of memory. */
static int ms_put(memstore_kv **v, size_t *n, size_t *cap, const scangit_write_op *op, uint64_t seq) {
    memstore_kv *e = ms_find(*v, *n, op->key.ptr, op->key.len);
    uint8_t *value = ms_dup(op->value.ptr, op->value.len);
    if (!value) return -1;
    if (e) {
        free(e->value);
    } else {
        if (*n == *cap) {
            size_t c = *cap ? *cap * 2 : 64;
            memstore_kv *nv = realloc(*v, c * sizeof **v);
            if (!nv) { free(value); return -1; }
            *v = nv;
            *cap = c;
        }
        e = &(*v)[(*n)++];
        e->key = ms_dup(op->key.ptr, op->key.len);
        e->key_len = op->key.len;
    }
    e->value = value;
    e->value_len = op->value.len;
    e->seq = seq;
    return 0;
}

static int ms_begin_scan(void *ud, const scangit_scope *scope, uint64_t *scan_seq) {
    (void)scope;
    *scan_seq = ++((memstore *)ud)->next_seq;
    return SCANGIT_OK;
}

static int ms_load_watermarks(void *ud, const scangit_scope *scope, scangit_watermark_emit emit,
                              void *emit_ctx) {
    memstore *s = ud;
    for (size_t i = 0; i < s->marks_len; i++) {
        scangit_write_op op = {{s->marks[i].key, s->marks[i].key_len},
                               {s->marks[i].value, s->marks[i].value_len}};
        scangit_watermark w;
        if (scangit_watermark_op_decode(scope, &op, &w) != SCANGIT_OK) continue; /* other scope */
        if (w.deleted) continue;
        int rc = emit(emit_ctx, w.name.ptr, w.name.len, w.tip.ptr, w.tip.len, w.scan_seq);
        if (rc != SCANGIT_OK) return rc;
    }
    return SCANGIT_OK;
}

static int ms_seen_blobs(void *ud, const scangit_scope *scope, const uint8_t *ids, size_t id_len,
                         size_t count, uint8_t *seen) {
    memstore *s = ud;
    size_t key_len = 4 + scope->encoded.len + 1 + id_len;
    uint8_t *key = malloc(key_len);
    if (!key) return SCANGIT_STORE;
    memcpy(key, "\x01sb\x00", 4);
    memcpy(key + 4, scope->encoded.ptr, scope->encoded.len);
    key[4 + scope->encoded.len] = (uint8_t)id_len;
    for (size_t i = 0; i < count; i++) {
        memcpy(key + key_len - id_len, ids + i * id_len, id_len);
        seen[i] = ms_find(s->data, s->data_len, key, key_len) != NULL;
    }
    free(key);
    return SCANGIT_OK;
}

static int ms_commit(void *ud, const scangit_scope *scope, const scangit_batch *batch) {
    memstore *s = ud;
    s->commit_attempts++;
    if (s->fail_commit) return SCANGIT_STORE;
    /* Reserve first, so that applying cannot fail half way. */
    size_t need = s->data_len + batch->data_op_count;
    if (need > s->data_cap) {
        memstore_kv *nv = realloc(s->data, need * sizeof *nv);
        if (!nv) return SCANGIT_STORE;
        s->data = nv;
        s->data_cap = need;
    }
    for (size_t i = 0; i < batch->data_op_count; i++)
        if (ms_put(&s->data, &s->data_len, &s->data_cap, &batch->data_ops[i], 0)) return SCANGIT_STORE;
    for (size_t i = 0; i < batch->watermark_op_count; i++) {
        const scangit_write_op *op = &batch->watermark_ops[i];
        scangit_watermark w;
        if (scangit_watermark_op_decode(scope, op, &w) != SCANGIT_OK) return SCANGIT_STORE;
        memstore_kv *old = ms_find(s->marks, s->marks_len, op->key.ptr, op->key.len);
        if (old && old->seq > w.scan_seq) continue; /* newer never loses */
        if (ms_put(&s->marks, &s->marks_len, &s->marks_cap, op, w.scan_seq)) return SCANGIT_STORE;
    }
    s->commits++;
    return SCANGIT_OK;
}

static void memstore_free(memstore *s) {
    for (size_t i = 0; i < s->data_len; i++) { free(s->data[i].key); free(s->data[i].value); }
    for (size_t i = 0; i < s->marks_len; i++) { free(s->marks[i].key); free(s->marks[i].value); }
    free(s->data);
    free(s->marks);
    free(s);
}

static void ms_destroy(void *ud) { memstore_free(ud); }

/* A new store handle over a fresh memstore; *state (optional) receives the memstore, owned by
 * the handle (freed by its destroy callback when the handle is freed). */
static int memstore_new(scangit_store **out, memstore **state) {
    memstore *s = calloc(1, sizeof *s);
    if (!s) return SCANGIT_INTERNAL;
    scangit_store_methods m;
    scangit_store_methods_init(&m, sizeof m);
    m.begin_scan = ms_begin_scan;
    m.load_watermarks = ms_load_watermarks;
    m.seen_blobs = ms_seen_blobs;
    m.commit = ms_commit;
    m.destroy = ms_destroy;
    int rc = scangit_store_new(&m, s, out);
    if (rc != SCANGIT_OK) { memstore_free(s); return rc; }
    if (state) *state = s;
    return SCANGIT_OK;
}

#endif
