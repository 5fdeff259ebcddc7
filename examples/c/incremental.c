/*
 * incremental: scan a repository twice with a caller-implemented in-memory store
 * (memstore.h): the first scan scans everything and commits a batch; the second walks only
 * commits after the stored ref watermarks and skips blobs already seen, so it scans nothing.
 *
 *   incremental REPO
 *
 * Exit status 0 when the second scan scanned no blob, 1 otherwise, 2 on error.
 */
#include <stdio.h>

#include "memstore.h"

static int scan_once(scangit_engine *engine, const char *repo, scangit_store *store, int n) {
    scangit_options opts;
    scangit_options_init(&opts, sizeof opts);
    opts.store = store;
    opts.repo_id = "example-repo";
    scangit_report *report = NULL;
    int rc = scangit_scan(engine, repo, &opts, NULL, &report);
    if (rc != SCANGIT_OK) {
        fprintf(stderr, "incremental: scan %d: %s (%s)\n", n, scangit_last_error_message(),
                scangit_status_name(rc));
        return -1;
    }
    const scangit_summary *s;
    scangit_report_summary(report, &s);
    printf("scan %d: %s, %llu commits, %llu blobs planned, %llu already seen, %llu scanned, "
           "%llu findings\n",
           n, s->outcome == SCANGIT_OUTCOME_COMPLETE ? "complete" : "partial",
           (unsigned long long)s->commits, (unsigned long long)s->blobs_planned,
           (unsigned long long)s->blobs_already_seen, (unsigned long long)s->blobs_scanned,
           (unsigned long long)s->findings);
    int scanned = (int)s->blobs_scanned;
    scangit_report_free(report);
    return scanned;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s REPO\n", argv[0]);
        return 2;
    }
    scangit_engine *engine = NULL;
    scangit_store *store = NULL;
    memstore *state = NULL;
    if (scangit_engine_new(NULL, &engine) != SCANGIT_OK || memstore_new(&store, &state) != SCANGIT_OK) {
        fprintf(stderr, "incremental: setup: %s\n", scangit_last_error_message());
        scangit_engine_free(engine);
        return 2;
    }
    int first = scan_once(engine, argv[1], store, 1);
    printf("store: %zu data keys, %zu watermarks\n", state->data_len, state->marks_len);
    int second = first < 0 ? -1 : scan_once(engine, argv[1], store, 2);
    scangit_store_free(store); /* runs ms_destroy: frees the memstore */
    scangit_engine_free(engine);
    if (first < 0 || second < 0) return 2;
    return second == 0 ? 0 : 1;
}
