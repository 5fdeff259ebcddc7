/* Overhead measurement (not run by `make test`): scan REPO with a C sink that only counts
 * events (an atomic add), and print events and wall time; compare with
 * `cargo run --release -p scangit-ffi --example rust_noop_sink -- REPO`. */
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "scangit.h"

static atomic_ullong events;

static int on_event(void *ud, const scangit_event *e) {
    (void)ud; (void)e;
    atomic_fetch_add_explicit(&events, 1, memory_order_relaxed);
    return SCANGIT_OK;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: bench_sink REPO\n"); return 2; }
    scangit_engine *engine = NULL;
    if (scangit_engine_new(NULL, &engine) != SCANGIT_OK) return 2;
    scangit_sink sink;
    scangit_sink_init(&sink, sizeof sink);
    sink.on_event = on_event;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    scangit_report *report = NULL;
    int rc = scangit_scan(engine, argv[1], NULL, &sink, &report);
    clock_gettime(CLOCK_MONOTONIC, &b);
    const scangit_summary *s = NULL;
    if (rc == SCANGIT_OK) scangit_report_summary(report, &s);
    printf("c sink: %llu events (%llu findings) in %.3f s\n", (unsigned long long)events,
           s ? (unsigned long long)s->findings : 0ULL,
           (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
    scangit_report_free(report);
    scangit_engine_free(engine);
    return rc == SCANGIT_OK ? 0 : 2;
}
