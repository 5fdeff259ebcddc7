/*
 * scan_jsonl: scan a repository and print each event as one JSON line (finding, commit,
 * summary), as `scangit scan --format jsonl` does.
 *
 *   scan_jsonl REPO [--threads N] [--rules FILE] [--strict-rules] [--store FILE.db] [--quiet]
 *
 * Rules warnings go to stderr; --strict-rules makes them errors (SCANGIT_RULES_STRICT).
 * --quiet counts events without printing (for measuring callback overhead).
 * Exit status: 0 no findings, 1 findings, 2 error.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scangit.h"

typedef struct out {
    pthread_mutex_t lock; /* the sink runs on worker threads concurrently */
    FILE *f;
    int quiet;
    unsigned long long events;
} out;

static void json_str(FILE *f, scangit_str s) {
    if (!s.ptr) { fputs("null", f); return; }
    fputc('"', f);
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static void field(FILE *f, const char *name, scangit_str s) {
    fprintf(f, ",\"%s\":", name);
    json_str(f, s);
}

static int on_event(void *user_data, const scangit_event *e) {
    out *o = user_data;
    pthread_mutex_lock(&o->lock);
    o->events++;
    FILE *f = o->f;
    if (o->quiet) {
        pthread_mutex_unlock(&o->lock);
        return SCANGIT_OK;
    }
    switch (e->kind) {
    case SCANGIT_EVENT_FINDING: {
        const scangit_finding *x = e->finding;
        fputs("{\"type\":\"finding\"", f);
        field(f, "rule_id", x->rule_id);
        field(f, "blob", x->blob);
        field(f, "commit", x->commit);
        field(f, "path", x->path);
        fprintf(f, ",\"line\":%llu,\"column\":%llu,\"start\":%llu,\"end\":%llu",
                (unsigned long long)x->line, (unsigned long long)x->column,
                (unsigned long long)x->start, (unsigned long long)x->end);
        field(f, "fingerprint", x->fingerprint);
        if (x->secret.ptr) field(f, "secret", x->secret);
        field(f, "snippet", x->snippet);
        fprintf(f, ",\"confidence\":%.2f}\n", x->confidence);
        break;
    }
    case SCANGIT_EVENT_COMMIT: {
        const scangit_commit *c = e->commit;
        fputs("{\"type\":\"commit\"", f);
        field(f, "commit", c->commit);
        field(f, "author_name", c->author_name);
        field(f, "author_email", c->author_email);
        fprintf(f, ",\"author_time\":%lld", (long long)c->author_time);
        field(f, "summary", c->summary);
        fputs("}\n", f);
        break;
    }
    case SCANGIT_EVENT_SUMMARY: {
        const scangit_summary *s = e->summary;
        fprintf(f,
                "{\"type\":\"summary\",\"outcome\":\"%s\",\"commits\":%llu,\"blobs_planned\":%llu,"
                "\"blobs_scanned\":%llu,\"bytes_scanned\":%llu,\"findings\":%llu,\"skipped\":[",
                s->outcome == SCANGIT_OUTCOME_COMPLETE ? "complete" : "partial",
                (unsigned long long)s->commits, (unsigned long long)s->blobs_planned,
                (unsigned long long)s->blobs_scanned, (unsigned long long)s->bytes_scanned,
                (unsigned long long)s->findings);
        for (size_t i = 0; i < s->skipped_count; i++) {
            fputs(i ? ",{\"reason\":" : "{\"reason\":", f);
            json_str(f, s->skipped[i].reason);
            fprintf(f, ",\"count\":%llu}", (unsigned long long)s->skipped[i].count);
        }
        fprintf(f, "],\"total_ms\":%.3f}\n", (double)s->total_ns / 1e6);
        break;
    }
    default: /* progress, and kinds added by newer libraries */
        break;
    }
    pthread_mutex_unlock(&o->lock);
    return SCANGIT_OK;
}

static int fail(const char *what, int status) {
    fprintf(stderr, "scan_jsonl: %s: %s (%s)\n", what, scangit_last_error_message(),
            scangit_status_name(status));
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s REPO [--threads N] [--rules FILE] [--strict-rules] [--store FILE.db] [--quiet]\n",
                argv[0]);
        return 2;
    }
    const char *rules = NULL, *store_path = NULL;
    uint32_t rules_flags = 0;
    out o = {PTHREAD_MUTEX_INITIALIZER, stdout, 0, 0};
    scangit_options opts;
    scangit_options_init(&opts, sizeof opts);
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) opts.threads = (uint32_t)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rules") && i + 1 < argc) rules = argv[++i];
        else if (!strcmp(argv[i], "--strict-rules")) rules_flags |= SCANGIT_RULES_STRICT;
        else if (!strcmp(argv[i], "--store") && i + 1 < argc) store_path = argv[++i];
        else if (!strcmp(argv[i], "--quiet")) o.quiet = 1;
        else { fprintf(stderr, "scan_jsonl: unknown argument %s\n", argv[i]); return 2; }
    }
    if (scangit_abi_version() != SCANGIT_ABI_VERSION) {
        fprintf(stderr, "scan_jsonl: libscangit ABI %u, header %d\n", scangit_abi_version(), SCANGIT_ABI_VERSION);
        return 2;
    }

    scangit_engine *engine = NULL;
    scangit_store *store = NULL;
    scangit_report *report = NULL;
    int rc = scangit_engine_open(rules, rules_flags, &engine);
    if (rc != SCANGIT_OK) return fail("rules", rc);
    size_t warnings = 0;
    scangit_engine_warning_count(engine, &warnings);
    for (size_t i = 0; i < warnings; i++) {
        const char *w = NULL;
        if (scangit_engine_warning(engine, i, &w) == SCANGIT_OK) fprintf(stderr, "scan_jsonl: warning: %s\n", w);
    }
    if (store_path) {
        rc = scangit_store_open_sqlite(store_path, &store);
        if (rc != SCANGIT_OK) { scangit_engine_free(engine); return fail("store", rc); }
        opts.store = store;
    }
    scangit_sink sink;
    scangit_sink_init(&sink, sizeof sink);
    sink.user_data = &o;
    sink.on_event = on_event;

    rc = scangit_scan(engine, argv[1], &opts, &sink, &report);
    int exit_code;
    if (rc != SCANGIT_OK) {
        exit_code = fail(argv[1], rc);
    } else {
        const scangit_summary *s = NULL;
        scangit_report_summary(report, &s);
        exit_code = s->findings ? 1 : 0;
        if (o.quiet) fprintf(stderr, "events: %llu\n", o.events);
    }
    scangit_report_free(report);
    scangit_store_free(store);
    scangit_engine_free(engine);
    return exit_code;
}
