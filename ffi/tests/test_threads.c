/* One engine serves scans on several threads at once; each gets the same findings count. */
#include <pthread.h>

#include "common.h"

#define THREADS 4

typedef struct job {
    const scangit_engine *engine;
    const char *repo;
    int status;
    unsigned long long findings;
} job;

static void *run(void *ud) {
    job *j = ud;
    scangit_options opts;
    scangit_options_init(&opts, sizeof opts);
    opts.threads = 2;
    scangit_report *report = NULL;
    j->status = scangit_scan(j->engine, j->repo, &opts, NULL, &report);
    const scangit_summary *s = NULL;
    if (j->status == SCANGIT_OK && scangit_report_summary(report, &s) == SCANGIT_OK) j->findings = s->findings;
    scangit_report_free(report);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: test_threads REPO\n"); return 2; }
    scangit_engine *engine = NULL;
    CHECK_STATUS(scangit_engine_new(NULL, &engine), SCANGIT_OK);
    pthread_t t[THREADS];
    job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (job){engine, argv[1], -1, 0};
        pthread_create(&t[i], NULL, run, &jobs[i]);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++) {
        CHECK(jobs[i].status == SCANGIT_OK, "thread %d: %s", i, scangit_status_name(jobs[i].status));
        CHECK(jobs[i].findings > 0 && jobs[i].findings == jobs[0].findings, "thread %d: %llu findings vs %llu",
              i, jobs[i].findings, jobs[0].findings);
    }
    scangit_engine_free(engine);
    return finish("test_threads");
}
