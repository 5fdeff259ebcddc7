/* Persistence through the key/value vtable (scangit_kv_methods, scangit_store_open_kv) with the
 * in-memory ordered store of examples/c/kvstore.h, on a real repository:
 * - NULL pointers, a wrong size and missing callbacks are SCANGIT_INVALID_ARGUMENT;
 * - a scan stores its findings, seen blobs and watermarks; the next scans nothing new;
 * - a callback failing at each call in turn fails the scan with SCANGIT_STORE, its message,
 *   and leaves the store exactly as it was (no half-written batch);
 * - wrong answers (a wrong number of values, a key outside the prefix, a misused reply) are
 *   SCANGIT_STORE with a clear message;
 * - newer never loses: a scan that began earlier and commits after a newer one leaves the
 *   newer watermarks in place. */
#include <pthread.h>

#include "../../examples/c/kvstore.h"
#include "common.h"

typedef struct scan_result {
    int status;
    unsigned long long planned, scanned, findings, commits;
} scan_result;

static scan_result scan(scangit_engine *engine, const char *repo, scangit_store *store,
                        const char *repo_id, const scangit_sink *sink) {
    scangit_options opts;
    scangit_options_init(&opts, sizeof opts);
    opts.store = store;
    opts.repo_id = repo_id;
    scangit_report *report = NULL;
    scan_result r = {0, 0, 0, 0, 0};
    r.status = scangit_scan(engine, repo, &opts, sink, &report);
    const scangit_summary *s = NULL;
    if (report && scangit_report_summary(report, &s) == SCANGIT_OK) {
        r.scanned = s->blobs_scanned;
        r.findings = s->findings;
        r.planned = s->blobs_planned;
        r.commits = s->commits;
    }
    scangit_report_free(report);
    return r;
}

/* Keys of namespace ns ("fn", "sb", "rw", "bc") in the store. */
static size_t count_ns(const kvstore *s, const char *ns) {
    size_t n = 0;
    for (size_t i = 0; i < s->len; i++)
        if (s->v[i].key_len > 3 && memcmp(s->v[i].key + 1, ns, 2) == 0) n++;
    return n;
}

/* A deep copy of the store's entries, to compare with later. */
typedef struct snapshot {
    kvstore_entry *v;
    size_t len;
} snapshot;

static snapshot take_snapshot(const kvstore *s) {
    snapshot snap = {calloc(s->len ? s->len : 1, sizeof *snap.v), s->len};
    for (size_t i = 0; i < s->len; i++) {
        snap.v[i].key = kv_dup(s->v[i].key, s->v[i].key_len);
        snap.v[i].key_len = s->v[i].key_len;
        snap.v[i].value = kv_dup(s->v[i].value, s->v[i].value_len);
        snap.v[i].value_len = s->v[i].value_len;
    }
    return snap;
}

static int same_as(const kvstore *s, const snapshot *snap) {
    if (s->len != snap->len) return 0;
    for (size_t i = 0; i < s->len; i++)
        if (kv_cmp(s->v[i].key, s->v[i].key_len, snap->v[i].key, snap->v[i].key_len) ||
            kv_cmp(s->v[i].value, s->v[i].value_len, snap->v[i].value, snap->v[i].value_len))
            return 0;
    return 1;
}

static void free_snapshot(snapshot *snap) {
    for (size_t i = 0; i < snap->len; i++) { free(snap->v[i].key); free(snap->v[i].value); }
    free(snap->v);
}

/* ------------------------------------------------------------------ wrong answers */

enum wrong { EXTRA_VALUE, NULL_VALUE, PAIR_IN_GET_MANY, FOREIGN_KEY };
static enum wrong wrong_kind;
static int reply_status; /* what the misused reply function returned */

static int wrong_get_many(void *ctx, const scangit_bytes *keys, size_t count, scangit_kv_reply *reply) {
    int rc = kv_get_many(ctx, keys, count, reply);
    if (wrong_kind == EXTRA_VALUE) scangit_kv_reply_missing(reply);
    if (wrong_kind == NULL_VALUE) reply_status = scangit_kv_reply_value(reply, NULL, 3);
    if (wrong_kind == PAIR_IN_GET_MANY) reply_status = scangit_kv_reply_pair(reply, NULL, 0, NULL, 0);
    return rc;
}

static int wrong_scan_prefix(void *ctx, const uint8_t *prefix, size_t len, scangit_kv_reply *reply) {
    int rc = kv_scan_prefix(ctx, prefix, len, reply);
    if (wrong_kind == FOREIGN_KEY) scangit_kv_reply_pair(reply, (const uint8_t *)"zz", 2, NULL, 0);
    return rc;
}

static void wrong_answers(scangit_engine *engine, const char *repo) {
    static const struct { enum wrong kind; const char *what; } cases[] = {
        {EXTRA_VALUE, "answered"},
        {NULL_VALUE, "value.ptr is NULL"},
        {PAIR_IN_GET_MANY, "scangit_kv_reply_pair called in a get_many reply"},
        {FOREIGN_KEY, "prefix"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kvstore *s = calloc(1, sizeof *s);
        scangit_kv_methods m;
        kvstore_methods(s, &m);
        m.get_many = wrong_get_many;
        m.scan_prefix = wrong_scan_prefix;
        scangit_store *store = NULL;
        CHECK_STATUS(scangit_store_open_kv(&m, &store), SCANGIT_OK);
        wrong_kind = cases[i].kind;
        reply_status = SCANGIT_OK;
        scan_result r = scan(engine, repo, store, "wrong", NULL);
        CHECK(r.status == SCANGIT_STORE, "wrong answer %zu: %s", i, scangit_status_name(r.status));
        CHECK(strstr(scangit_last_error_message(), "C key-value store") != NULL &&
                  strstr(scangit_last_error_message(), cases[i].what) != NULL,
              "wrong answer %zu: message lacks \"%s\"", i, cases[i].what);
        if (cases[i].kind == NULL_VALUE || cases[i].kind == PAIR_IN_GET_MANY)
            CHECK(reply_status == SCANGIT_INVALID_ARGUMENT, "misused reply returned %d", reply_status);
        CHECK(s->len == 0, "wrong answer %zu: %zu keys stored", i, s->len);
        scangit_store_free(store);
    }
}

/* ------------------------------------------------------------------ invalid arguments */

static void invalid_arguments(void) {
    scangit_kv_methods m;
    CHECK_STATUS(scangit_kv_methods_init(NULL, sizeof m), SCANGIT_INVALID_ARGUMENT);
    CHECK_STATUS(scangit_kv_methods_init(&m, 3), SCANGIT_INVALID_ARGUMENT);
    CHECK_STATUS(scangit_kv_methods_init(&m, sizeof m), SCANGIT_OK);
    CHECK(m.size == sizeof m && m.ctx == NULL && m.get_many == NULL && m.destroy == NULL, "init");

    scangit_store *store = (scangit_store *)&m; /* must stay untouched on failure */
    CHECK_STATUS(scangit_store_open_kv(NULL, &store), SCANGIT_INVALID_ARGUMENT);
    CHECK(strstr(scangit_last_error_message(), "scangit_kv_methods") != NULL, "NULL methods message");
    CHECK_STATUS(scangit_store_open_kv(&m, &store), SCANGIT_INVALID_ARGUMENT);
    CHECK(strstr(scangit_last_error_message(), "get_many") != NULL, "missing callback message");
    CHECK(store == (scangit_store *)&m, "out written on failure");

    kvstore *s = calloc(1, sizeof *s);
    kvstore_methods(s, &m);
    CHECK_STATUS(scangit_store_open_kv(&m, NULL), SCANGIT_INVALID_ARGUMENT);
    CHECK(strstr(scangit_last_error_message(), "out") != NULL, "NULL out message");
    m.write_batch = NULL;
    CHECK_STATUS(scangit_store_open_kv(&m, &store), SCANGIT_INVALID_ARGUMENT);
    CHECK(strstr(scangit_last_error_message(), "write_batch") != NULL, "missing write_batch");
    m.write_batch = kv_write_batch;
    m.size = sizeof m + 8;
    CHECK_STATUS(scangit_store_open_kv(&m, &store), SCANGIT_INVALID_ARGUMENT);
    CHECK(strstr(scangit_last_error_message(), "size") != NULL, "wrong size message");
    kvstore_free(s); /* destroy is not called on failure */

    CHECK_STATUS(scangit_kv_reply_value(NULL, (const uint8_t *)"x", 1), SCANGIT_INVALID_ARGUMENT);
    CHECK_STATUS(scangit_kv_reply_missing(NULL), SCANGIT_INVALID_ARGUMENT);
    CHECK_STATUS(scangit_kv_reply_pair(NULL, NULL, 0, NULL, 0), SCANGIT_INVALID_ARGUMENT);
    CHECK_STATUS(scangit_kv_reply_error(NULL, "x"), SCANGIT_INVALID_ARGUMENT);
    CHECK(strstr(scangit_last_error_message(), "reply is NULL") != NULL, "NULL reply message");
}

/* ------------------------------------------------------------------ newer never loses */

/* Scan A's sink blocks on its first commit event (after A took its sequence number and loaded
 * the watermarks) until the main thread, having run scan B to completion, releases it. */
typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int blocked, released;
} gate;

static int gate_on_event(void *ud, const scangit_event *e) {
    gate *g = ud;
    if (e->kind != SCANGIT_EVENT_COMMIT) return SCANGIT_OK;
    pthread_mutex_lock(&g->mu);
    g->blocked = 1;
    pthread_cond_broadcast(&g->cv);
    while (!g->released) pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    return SCANGIT_OK;
}

typedef struct scan_a {
    scangit_engine *engine;
    const char *repo;
    scangit_store *store;
    gate *g;
    scan_result r;
} scan_a;

static void *run_scan_a(void *p) {
    scan_a *a = p;
    scangit_sink sink;
    scangit_sink_init(&sink, sizeof sink);
    sink.user_data = a->g;
    sink.on_event = gate_on_event;
    a->r = scan(a->engine, a->repo, a->store, "nnl", &sink);
    return NULL;
}

static void newer_never_loses(scangit_engine *engine, const char *repo) {
    scangit_store *store = NULL;
    kvstore *s = NULL;
    CHECK_STATUS(kvstore_new(&store, &s), SCANGIT_OK);
    if (!store) return;
    gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    scan_a a = {engine, repo, store, &g, {0, 0, 0, 0, 0}};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, run_scan_a, &a) == 0, "pthread_create");
    pthread_mutex_lock(&g.mu);
    while (!g.blocked) pthread_cond_wait(&g.cv, &g.mu);
    pthread_mutex_unlock(&g.mu);

    /* B begins after A (a larger sequence) and commits first. */
    scan_result b = scan(engine, repo, store, "nnl", NULL);
    CHECK(b.status == SCANGIT_OK && b.scanned > 0, "scan B: %s, %llu scanned",
          scangit_status_name(b.status), b.scanned);
    CHECK(count_ns(s, "rw") > 0, "no watermark after scan B");
    snapshot after_b = take_snapshot(s);
    unsigned writes = s->writes;

    pthread_mutex_lock(&g.mu);
    g.released = 1;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    pthread_join(t, NULL);
    CHECK(a.r.status == SCANGIT_OK, "scan A: %s", scangit_status_name(a.r.status));
    /* A's watermarks carry an older sequence: they lose; its data keys were all written. */
    CHECK(same_as(s, &after_b), "the older scan A changed the store committed by B");
    CHECK(s->writes == writes, "scan A wrote %u batches", s->writes - writes);
    free_snapshot(&after_b);

    /* A later scan (newer again) moves the watermarks' sequence forward. */
    scan_result c = scan(engine, repo, store, "nnl", NULL);
    CHECK(c.status == SCANGIT_OK && c.scanned == 0, "scan C: %llu scanned", c.scanned);
    scangit_store_free(store);
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: test_kv_store REPO\n"); return 2; }
    const char *repo = argv[1];
    scangit_engine *engine = NULL;
    CHECK_STATUS(scangit_engine_new(NULL, &engine), SCANGIT_OK);
    if (!engine) return finish("test_kv_store");

    invalid_arguments();

    /* Findings, seen blobs and watermarks land in the store; the next scan finds nothing new. */
    scangit_store *store = NULL;
    kvstore *s = NULL;
    CHECK_STATUS(kvstore_new(&store, &s), SCANGIT_OK);
    scan_result first = scan(engine, repo, store, "kv-test", NULL);
    CHECK(first.status == SCANGIT_OK, "first scan: %s", scangit_status_name(first.status));
    CHECK(first.scanned > 0 && first.findings > 0, "first scan: %llu blobs, %llu findings",
          first.scanned, first.findings);
    CHECK(count_ns(s, "fn") == first.findings, "%zu finding keys for %llu findings",
          count_ns(s, "fn"), first.findings);
    /* Every planned blob is marked seen (scanned, or left out such as empty blobs), and so is
     * every commit and annotated tag whose message was scanned. */
    CHECK(count_ns(s, "sb") >= first.planned + first.commits,
          "%zu seen keys for %llu planned blobs and %llu commits", count_ns(s, "sb"),
          first.planned, first.commits);
    CHECK(count_ns(s, "rw") > 0, "no watermark after a complete scan");
    size_t data_keys = s->len - count_ns(s, "rw");
    scan_result second = scan(engine, repo, store, "kv-test", NULL);
    CHECK(second.status == SCANGIT_OK && second.scanned == 0 && second.findings == 0,
          "second scan: %s, %llu blobs, %llu findings", scangit_status_name(second.status),
          second.scanned, second.findings);
    CHECK(s->len - count_ns(s, "rw") == data_keys, "the second scan added data keys");

    /* Fail each callback call of a scan of a new scope in turn: the store keeps exactly what it
     * held. Call k fails in round k; the round where no call fails is the one that commits. */
    snapshot before = take_snapshot(s);
    unsigned failed_rounds = 0;
    int failed_methods = 0; /* get_many 1, scan_prefix 2, write_batch 4 */
    for (unsigned k = 1; k <= 50; k++) {
        s->fail_at = s->calls + k;
        scan_result r = scan(engine, repo, store, "kv-failing", NULL);
        if (r.status == SCANGIT_OK) break;
        failed_rounds++;
        const char *msg = scangit_last_error_message();
        CHECK(r.status == SCANGIT_STORE, "round %u: %s", k, scangit_status_name(r.status));
        CHECK(strstr(msg, "injected failure") != NULL && strstr(msg, "returned status 6") != NULL,
              "round %u: message %s", k, msg);
        if (strstr(msg, "get_many")) failed_methods |= 1;
        if (strstr(msg, "scan_prefix")) failed_methods |= 2;
        if (strstr(msg, "write_batch")) failed_methods |= 4;
        CHECK(same_as(s, &before), "round %u: a failed scan changed the store", k);
    }
    s->fail_at = 0;
    CHECK(failed_rounds >= 3 && failed_methods == 7, "%u failing rounds, methods %d",
          failed_rounds, failed_methods);
    printf("test_kv_store: %u scans each failed at one callback call; store unchanged each time\n",
           failed_rounds);
    CHECK(!same_as(s, &before), "the scan without failures committed nothing");
    free_snapshot(&before);
    scan_result again = scan(engine, repo, store, "kv-failing", NULL);
    CHECK(again.status == SCANGIT_OK && again.scanned == 0, "after the failures: %llu scanned",
          again.scanned);
    scangit_store_free(store); /* destroy frees the kvstore */

    wrong_answers(engine, repo);
    newer_never_loses(engine, repo);

    scangit_engine_free(engine);
    return finish("test_kv_store");
}
