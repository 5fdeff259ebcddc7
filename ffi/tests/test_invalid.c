/* Every invalid argument gives SCANGIT_INVALID_ARGUMENT (never a crash) with a message; other
 * failures map to their status. */
#include "common.h"

static int noop_event(void *ud, const scangit_event *e) { (void)ud; (void)e; return SCANGIT_OK; }
static int noop_load(void *ud, const scangit_scope *s, scangit_watermark_emit e, void *c) {
    (void)ud; (void)s; (void)e; (void)c; return SCANGIT_OK;
}
static int noop_seen(void *ud, const scangit_scope *s, const uint8_t *i, size_t l, size_t n, uint8_t *o) {
    (void)ud; (void)s; (void)i; (void)l; (void)n; (void)o; return SCANGIT_OK;
}

#define INVALID(expr)                                                          \
    do {                                                                       \
        CHECK_STATUS(expr, SCANGIT_INVALID_ARGUMENT);                          \
        CHECK(scangit_last_error_message()[0] != 0, "%s: empty message", #expr); \
    } while (0)

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: test_invalid REPO TMPDIR\n"); return 2; }
    const char *repo = argv[1];
    static const char bad_utf8[] = {'/', 't', 'm', 'p', '/', (char)0xff, (char)0xfe, 0};
    scangit_engine *engine = NULL;
    CHECK_STATUS(scangit_engine_new(NULL, &engine), SCANGIT_OK);
    CHECK(scangit_last_error_message()[0] == 0, "message after success: %s", scangit_last_error_message());
    size_t rules = 0;
    CHECK_STATUS(scangit_engine_rule_count(engine, &rules), SCANGIT_OK);
    CHECK(rules > 0, "no built-in rules");

    /* Version. */
    CHECK(scangit_abi_version() == SCANGIT_ABI_VERSION, "abi %u", scangit_abi_version());
    CHECK(strlen(scangit_version()) > 0, "empty version");
    CHECK(!strcmp(scangit_status_name(SCANGIT_INVALID_ARGUMENT), "invalid_argument"), "name");
    CHECK(!strcmp(scangit_status_name(77), "unknown"), "name of 77");

    /* Engine. */
    INVALID(scangit_engine_new(NULL, NULL));
    INVALID(scangit_engine_new(bad_utf8, &(scangit_engine *){NULL}));
    INVALID(scangit_engine_rule_count(NULL, &rules));
    INVALID(scangit_engine_rule_count(engine, NULL));
    scangit_engine *e2 = NULL;
    CHECK_STATUS(scangit_engine_new("/nonexistent/rules.toml", &e2), SCANGIT_RULES_INVALID);
    char rules_path[4096];
    snprintf(rules_path, sizeof rules_path, "%s/bad-rules.toml", argv[2]);
    FILE *f = fopen(rules_path, "w");
    fputs("[[rules]]\nid = \"x\"\nregex = \"(unclosed\"\n", f);
    fclose(f);
    CHECK_STATUS(scangit_engine_new(rules_path, &e2), SCANGIT_RULES_INVALID);
    CHECK(e2 == NULL, "engine set on failure");

    /* Abort token, report, store. */
    INVALID(scangit_abort_new(NULL));
    INVALID(scangit_abort_trigger(NULL));
    INVALID(scangit_abort_is_triggered(NULL, &(int){0}));
    INVALID(scangit_report_summary(NULL, &(const scangit_summary *){NULL}));
    INVALID(scangit_store_open_sqlite(NULL, &(scangit_store *){NULL}));
    INVALID(scangit_store_open_sqlite(bad_utf8, &(scangit_store *){NULL}));
    INVALID(scangit_store_open_sqlite("/tmp/x.db", NULL));
    INVALID(scangit_store_new(NULL, NULL, &(scangit_store *){NULL}));
    scangit_store_methods m;
    INVALID(scangit_store_methods_init(NULL, sizeof m));
    INVALID(scangit_store_methods_init(&m, 3));
    CHECK_STATUS(scangit_store_methods_init(&m, sizeof m), SCANGIT_OK);
    INVALID(scangit_store_new(&m, NULL, &(scangit_store *){NULL})); /* callbacks missing */
    m.load_watermarks = noop_load;
    m.seen_blobs = noop_seen;
    INVALID(scangit_store_new(&m, NULL, &(scangit_store *){NULL})); /* commit missing */
    m.size = sizeof m + 8;
    INVALID(scangit_store_new(&m, NULL, &(scangit_store *){NULL}));
    scangit_watermark w;
    INVALID(scangit_watermark_op_decode(NULL, NULL, &w));
    scangit_scope scope = {{(const uint8_t *)"", 0}, {"", 0}, {0}};
    scangit_write_op op = {{(const uint8_t *)"xx", 2}, {(const uint8_t *)"", 0}};
    INVALID(scangit_watermark_op_decode(&scope, &op, &w));

    /* Scan. */
    scangit_options opts;
    INVALID(scangit_options_init(NULL, sizeof opts));
    INVALID(scangit_options_init(&opts, 0));
    CHECK_STATUS(scangit_options_init(&opts, sizeof opts), SCANGIT_OK);
    INVALID(scangit_scan(NULL, repo, NULL, NULL, NULL));
    INVALID(scangit_scan(engine, NULL, NULL, NULL, NULL));
    INVALID(scangit_scan(engine, bad_utf8, NULL, NULL, NULL));
    opts.size = 0;
    INVALID(scangit_scan(engine, repo, &opts, NULL, NULL));
    opts.size = sizeof opts - 8;
    INVALID(scangit_scan(engine, repo, &opts, NULL, NULL));
    opts.size = sizeof opts + 64;
    INVALID(scangit_scan(engine, repo, &opts, NULL, NULL));
    scangit_options_init(&opts, sizeof opts);
    opts.mode = 9;
    INVALID(scangit_scan(engine, repo, &opts, NULL, NULL));
    scangit_options_init(&opts, sizeof opts);
    opts.repo_id = bad_utf8;
    INVALID(scangit_scan(engine, repo, &opts, NULL, NULL));
    scangit_options_init(&opts, sizeof opts);
    opts.since = bad_utf8;
    INVALID(scangit_scan(engine, repo, &opts, NULL, NULL));
    scangit_sink sink;
    INVALID(scangit_sink_init(NULL, sizeof sink));
    INVALID(scangit_sink_init(&sink, sizeof sink - 1));
    CHECK_STATUS(scangit_sink_init(&sink, sizeof sink), SCANGIT_OK);
    INVALID(scangit_scan(engine, repo, NULL, &sink, NULL)); /* on_event NULL */
    sink.on_event = noop_event;
    sink.size = 1;
    INVALID(scangit_scan(engine, repo, NULL, &sink, NULL));

    /* Not invalid arguments: other statuses. */
    CHECK_STATUS(scangit_scan(engine, "/nonexistent/repo.git", NULL, NULL, NULL), SCANGIT_REPO_NOT_FOUND);
    CHECK_STATUS(scangit_scan(engine, argv[2], NULL, NULL, NULL), SCANGIT_REPO_NOT_FOUND);
    scangit_options_init(&opts, sizeof opts);
    opts.range = "nonexistent-rev..HEAD";
    int st = scangit_scan(engine, repo, &opts, NULL, NULL);
    CHECK(st != SCANGIT_OK && st != SCANGIT_INTERNAL, "bad range: %s", scangit_status_name(st));

    /* Free functions accept NULL. */
    scangit_engine_free(NULL);
    scangit_abort_free(NULL);
    scangit_report_free(NULL);
    scangit_store_free(NULL);

    /* A valid call still works after all that. */
    sink.size = sizeof sink;
    CHECK_STATUS(scangit_scan(engine, repo, NULL, &sink, NULL), SCANGIT_OK);
    scangit_engine_free(engine);
    return finish("test_invalid");
}
