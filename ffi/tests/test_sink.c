/* A sink that stops early ends the scan with SCANGIT_ABORTED; a sink that fails ends it with
 * its own status; neither persists anything. */
#include <pthread.h>

#include "../../examples/c/memstore.h"
#include "common.h"

typedef struct ctx {
    pthread_mutex_t lock;
    int findings, summaries;
    int answer; /* what to return on the first finding */
} ctx;

static int on_event(void *ud, const scangit_event *e) {
    ctx *c = ud;
    int rc = SCANGIT_OK;
    pthread_mutex_lock(&c->lock);
    if (e->kind == SCANGIT_EVENT_FINDING) {
        if (c->findings++ == 0) rc = c->answer;
    } else if (e->kind == SCANGIT_EVENT_SUMMARY) {
        c->summaries++;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

static void run(scangit_engine *engine, const char *repo, int answer, int want) {
    scangit_store *store = NULL;
    memstore *state = NULL;
    CHECK_STATUS(memstore_new(&store, &state), SCANGIT_OK);
    ctx c = {PTHREAD_MUTEX_INITIALIZER, 0, 0, answer};
    scangit_options opts;
    scangit_options_init(&opts, sizeof opts);
    opts.threads = 1; /* one worker: the events after "stop" are few */
    opts.store = store;
    scangit_sink sink;
    scangit_sink_init(&sink, sizeof sink);
    sink.user_data = &c;
    sink.on_event = on_event;
    CHECK_STATUS(scangit_scan(engine, repo, &opts, &sink, NULL), want);
    CHECK(c.findings >= 1 && c.findings < 5, "answer %d: %d findings after stopping", answer, c.findings);
    CHECK(c.summaries == 0, "answer %d: a summary after stopping", answer);
    CHECK(state->commit_attempts == 0, "answer %d: the store received a commit", answer);
    scangit_store_free(store);
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: test_sink REPO\n"); return 2; }
    scangit_engine *engine = NULL;
    CHECK_STATUS(scangit_engine_new(NULL, &engine), SCANGIT_OK);
    run(engine, argv[1], SCANGIT_ABORTED, SCANGIT_ABORTED);          /* stop */
    run(engine, argv[1], SCANGIT_STORE, SCANGIT_STORE);              /* failure status */
    run(engine, argv[1], SCANGIT_RESOURCE_LIMIT, SCANGIT_RESOURCE_LIMIT);
    run(engine, argv[1], 4242, SCANGIT_INTERNAL);                    /* not a status */
    scangit_engine_free(engine);
    return finish("test_sink");
}
