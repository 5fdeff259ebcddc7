/* Persistence through the C vtable and the built-in SQLite store:
 * - a store whose commit fails: the scan returns that status, no watermark is written, and the
 *   next scan (commit working) scans everything again;
 * - incremental: after a committed scan, the next scan scans nothing;
 * - watermark emit rejects bad arguments;
 * - SQLite by path: the second scan scans nothing. */
#include "../../examples/c/memstore.h"
#include "common.h"

static unsigned long long scanned(scangit_engine *engine, const char *repo, scangit_store *store,
                                  int want) {
    scangit_options opts;
    scangit_options_init(&opts, sizeof opts);
    opts.store = store;
    scangit_report *report = NULL;
    CHECK_STATUS(scangit_scan(engine, repo, &opts, NULL, &report), want);
    const scangit_summary *s = NULL;
    unsigned long long n = 0;
    if (report && scangit_report_summary(report, &s) == SCANGIT_OK) n = s->blobs_scanned;
    scangit_report_free(report);
    return n;
}

static int emit_status;
static int bad_emit_load(void *ud, const scangit_scope *scope, scangit_watermark_emit emit, void *ctx) {
    (void)ud; (void)scope;
    static const uint8_t tip[20] = {1};
    emit_status = emit(ctx, "refs/heads/x", 12, tip, 7, 1); /* tip_len 7: invalid */
    return SCANGIT_OK;
}
static int ok_seen(void *ud, const scangit_scope *s, const uint8_t *ids, size_t l, size_t n, uint8_t *seen) {
    (void)ud; (void)s; (void)ids; (void)l; (void)n; (void)seen;
    return SCANGIT_OK;
}
static int ok_commit(void *ud, const scangit_scope *s, const scangit_batch *b) {
    (void)ud; (void)s; (void)b;
    return SCANGIT_OK;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: test_store REPO TMPDIR\n"); return 2; }
    const char *repo = argv[1];
    scangit_engine *engine = NULL;
    CHECK_STATUS(scangit_engine_new(NULL, &engine), SCANGIT_OK);

    scangit_store *store = NULL;
    memstore *state = NULL;
    CHECK_STATUS(memstore_new(&store, &state), SCANGIT_OK);
    state->fail_commit = 1;
    scanned(engine, repo, store, SCANGIT_STORE);
    CHECK(strstr(scangit_last_error_message(), "commit") != NULL, "message: %s", scangit_last_error_message());
    CHECK(state->commit_attempts == 1, "%d commit attempts", state->commit_attempts);
    CHECK(state->marks_len == 0 && state->data_len == 0, "failed commit left %zu watermarks, %zu data keys",
          state->marks_len, state->data_len);

    state->fail_commit = 0;
    unsigned long long first = scanned(engine, repo, store, SCANGIT_OK);
    CHECK(first > 0, "the scan after a failed commit scanned %llu blobs", first);
    CHECK(state->marks_len > 0, "no watermark after a complete scan");
    unsigned long long second = scanned(engine, repo, store, SCANGIT_OK);
    CHECK(second == 0, "incremental scan scanned %llu blobs", second);
    scangit_store_free(store);

    /* A store whose emit call is wrong gets SCANGIT_INVALID_ARGUMENT, and the scan fails. */
    scangit_store_methods m;
    scangit_store_methods_init(&m, sizeof m);
    m.load_watermarks = bad_emit_load;
    m.seen_blobs = ok_seen;
    m.commit = ok_commit;
    CHECK_STATUS(scangit_store_new(&m, NULL, &store), SCANGIT_OK);
    scanned(engine, repo, store, SCANGIT_STORE);
    CHECK(emit_status == SCANGIT_INVALID_ARGUMENT, "emit returned %d", emit_status);
    scangit_store_free(store);

    /* The built-in SQLite store by path. */
    char path[4096];
    snprintf(path, sizeof path, "%s/c-test.db", argv[2]);
    remove(path);
    CHECK_STATUS(scangit_store_open_sqlite(path, &store), SCANGIT_OK);
    first = scanned(engine, repo, store, SCANGIT_OK);
    second = scanned(engine, repo, store, SCANGIT_OK);
    CHECK(first > 0 && second == 0, "sqlite: first %llu, second %llu blobs", first, second);
    scangit_store_free(store);

    scangit_engine_free(engine);
    return finish("test_store");
}
