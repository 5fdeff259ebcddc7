/* Abort from another thread: the sink blocks on its first event until a second thread has
 * triggered the token, so the scan is certainly mid-flight; it returns SCANGIT_ABORTED and the
 * store receives no commit. Also: a token triggered before the scan, and is_triggered. */
#include <pthread.h>

#include "../../examples/c/memstore.h"
#include "common.h"

typedef struct ctx {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int started, triggered;
    scangit_abort *abort;
} ctx;

static int on_event(void *ud, const scangit_event *e) {
    (void)e;
    ctx *c = ud;
    pthread_mutex_lock(&c->lock);
    c->started = 1;
    pthread_cond_broadcast(&c->cond);
    while (!c->triggered) pthread_cond_wait(&c->cond, &c->lock);
    pthread_mutex_unlock(&c->lock);
    return SCANGIT_OK;
}

static void *aborter(void *ud) {
    ctx *c = ud;
    pthread_mutex_lock(&c->lock);
    while (!c->started) pthread_cond_wait(&c->cond, &c->lock);
    pthread_mutex_unlock(&c->lock);
    scangit_abort_trigger(c->abort);
    pthread_mutex_lock(&c->lock);
    c->triggered = 1;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: test_abort REPO\n"); return 2; }
    scangit_engine *engine = NULL;
    scangit_store *store = NULL;
    memstore *state = NULL;
    CHECK_STATUS(scangit_engine_new(NULL, &engine), SCANGIT_OK);
    CHECK_STATUS(memstore_new(&store, &state), SCANGIT_OK);
    ctx c = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, NULL};
    CHECK_STATUS(scangit_abort_new(&c.abort), SCANGIT_OK);
    int trig = -1;
    CHECK_STATUS(scangit_abort_is_triggered(c.abort, &trig), SCANGIT_OK);
    CHECK(trig == 0, "fresh token is triggered");

    scangit_options opts;
    scangit_options_init(&opts, sizeof opts);
    opts.abort = c.abort;
    opts.store = store;
    scangit_sink sink;
    scangit_sink_init(&sink, sizeof sink);
    sink.user_data = &c;
    sink.on_event = on_event;
    pthread_t t;
    pthread_create(&t, NULL, aborter, &c);
    scangit_report *report = (scangit_report *)&c; /* must be reset to NULL on failure */
    CHECK_STATUS(scangit_scan(engine, argv[1], &opts, &sink, &report), SCANGIT_ABORTED);
    pthread_join(t, NULL);
    CHECK(report == NULL, "report not NULL after a failed scan");
    CHECK(strstr(scangit_last_error_message(), "abort") != NULL, "message: %s", scangit_last_error_message());
    CHECK(state->commit_attempts == 0, "aborted scan reached the store's commit");
    CHECK_STATUS(scangit_abort_is_triggered(c.abort, &trig), SCANGIT_OK);
    CHECK(trig == 1, "token not triggered");

    /* Triggered before the scan starts: aborted at once, still nothing persisted. */
    CHECK_STATUS(scangit_scan(engine, argv[1], &opts, NULL, NULL), SCANGIT_ABORTED);
    CHECK(state->commit_attempts == 0, "aborted scan reached the store's commit");

    scangit_abort_free(c.abort);
    scangit_store_free(store);
    scangit_engine_free(engine);
    return finish("test_abort");
}
