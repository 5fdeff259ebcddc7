/*
 * incremental_kv: incremental.c with a store written as three key/value callbacks
 * (kvstore.h, over scangit_kv_methods and scangit_store_open_kv): the library lays out the
 * keys, keeps findings and seen blobs, and lets a watermark move only forward, so the store is
 * an ordered map and nothing more. The first scan scans everything and commits; the second
 * walks only commits after the stored ref watermarks and skips blobs already seen.
 *
 *   incremental_kv REPO
 *
 * Exit status 0 when the second scan scanned no blob, 1 otherwise, 2 on error.
 */
#include <stdio.h>

#include "kvstore.h"

static int scan_once(scangit_engine *engine, const char *repo, scangit_store *store, int n) {
    scangit_options opts;
    scangit_options_init(&opts, sizeof opts);
    opts.store = store;
    opts.repo_id = "example-repo";
    scangit_report *report = NULL;
    int rc = scangit_scan(engine, repo, &opts, NULL, &report);
    if (rc != SCANGIT_OK) {
        fprintf(stderr, "incremental_kv: scan %d: %s (%s)\n", n, scangit_last_error_message(),
                scangit_status_name(rc));
        return -1;
    }
    const scangit_summary *s;
    scangit_report_summary(report, &s);
    printf("scan %d: %llu blobs planned, %llu already seen, %llu scanned, %llu findings\n", n,
           (unsigned long long)s->blobs_planned, (unsigned long long)s->blobs_already_seen,
           (unsigned long long)s->blobs_scanned, (unsigned long long)s->findings);
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
    kvstore *state = NULL;
    if (scangit_engine_new(NULL, &engine) != SCANGIT_OK || kvstore_new(&store, &state) != SCANGIT_OK) {
        fprintf(stderr, "incremental_kv: setup: %s\n", scangit_last_error_message());
        scangit_engine_free(engine);
        return 2;
    }
    int first = scan_once(engine, argv[1], store, 1);
    printf("store: %zu keys after %u write batches\n", state->len, state->writes);
    int second = first < 0 ? -1 : scan_once(engine, argv[1], store, 2);
    scangit_store_free(store); /* runs kv_destroy: frees the kvstore */
    scangit_engine_free(engine);
    if (first < 0 || second < 0) return 2;
    return second == 0 ? 0 : 1;
}
