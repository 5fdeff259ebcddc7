/* Findings of a C scan of a generated corpus match its manifest (converted to TSV by the
 * Makefile: "expect blob line kind" per row): every planted secret is reported at its blob and
 * line, no decoy is, and every finding shares a fingerprint with a finding at a planted row. */
#include <pthread.h>

#include "common.h"

typedef struct hit {
    char blob[65];
    unsigned long long line;
    char fp[65];
} hit;

typedef struct hits {
    pthread_mutex_t lock;
    hit *v;
    size_t n, cap;
    int summaries;
    int bad_location; /* a finding whose location is unknown, or a message with a path */
} hits;

static int str_is(scangit_str s, const char *want) {
    return s.ptr && s.len == strlen(want) && !memcmp(s.ptr, want, s.len);
}

static void copy_str(char *dst, size_t cap, scangit_str s) {
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    memcpy(dst, s.ptr, n);
    dst[n] = 0;
}

static int on_event(void *ud, const scangit_event *e) {
    hits *h = ud;
    pthread_mutex_lock(&h->lock);
    if (e->kind == SCANGIT_EVENT_FINDING) {
        if (h->n == h->cap) {
            h->cap = h->cap ? h->cap * 2 : 64;
            h->v = realloc(h->v, h->cap * sizeof *h->v);
        }
        hit *x = &h->v[h->n++];
        copy_str(x->blob, sizeof x->blob, e->finding->blob);
        copy_str(x->fp, sizeof x->fp, e->finding->fingerprint);
        x->line = e->finding->line;
        const scangit_finding *f = e->finding;
        int message = str_is(f->location, "commit-message") || str_is(f->location, "tag-message");
        if (!(str_is(f->location, "blob") || (message && !f->path.ptr))) h->bad_location++;
    } else if (e->kind == SCANGIT_EVENT_SUMMARY) {
        h->summaries++;
    }
    pthread_mutex_unlock(&h->lock);
    return SCANGIT_OK;
}

static int at(const hits *h, const char *blob, unsigned long long line) {
    for (size_t i = 0; i < h->n; i++)
        if (h->v[i].line == line && !strcmp(h->v[i].blob, blob)) return (int)i;
    return -1;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: test_corpus REPO MANIFEST.tsv\n"); return 2; }
    scangit_engine *engine = NULL;
    CHECK_STATUS(scangit_engine_new(NULL, &engine), SCANGIT_OK);
    hits h = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, 0, 0};
    scangit_sink sink;
    scangit_sink_init(&sink, sizeof sink);
    sink.user_data = &h;
    sink.on_event = on_event;
    scangit_report *report = NULL;
    CHECK_STATUS(scangit_scan(engine, argv[1], NULL, &sink, &report), SCANGIT_OK);
    const scangit_summary *s = NULL;
    CHECK_STATUS(scangit_report_summary(report, &s), SCANGIT_OK);
    CHECK(s && s->findings == h.n, "summary findings %llu, events %zu",
          s ? (unsigned long long)s->findings : 0ULL, h.n);
    CHECK(h.summaries == 1, "%d summary events", h.summaries);
    CHECK(h.bad_location == 0, "%d findings with a bad location", h.bad_location);

    FILE *m = fopen(argv[2], "r");
    CHECK(m != NULL, "cannot open %s", argv[2]);
    char *good = calloc(h.n + 1, 1); /* findings explained by a planted row */
    int planted = 0, decoys = 0;
    int expect;
    char blob[65], kind[128];
    unsigned long long line;
    while (m && fscanf(m, "%d %64s %llu %127s", &expect, blob, &line, kind) == 4) {
        int i = at(&h, blob, line);
        if (expect) {
            planted++;
            CHECK(i >= 0, "MISSED %s at %s:%llu", kind, blob, line);
            /* The two halves of an AWS key pair sit on consecutive lines of one row. */
            for (unsigned long long l = line; l <= line + (strcmp(kind, "aws-credentials") == 0); l++)
                for (size_t k = 0; k < h.n; k++)
                    if (h.v[k].line == l && !strcmp(h.v[k].blob, blob))
                        for (size_t j = 0; j < h.n; j++)
                            if (!strcmp(h.v[j].fp, h.v[k].fp)) good[j] = 1;
        } else {
            decoys++;
            CHECK(i < 0, "DECOY reported at %s:%llu", blob, line);
        }
    }
    if (m) fclose(m);
    CHECK(planted > 0 && decoys > 0, "manifest has %d planted rows, %d decoys", planted, decoys);
    for (size_t j = 0; j < h.n; j++)
        CHECK(good[j], "STRAY finding at %s:%llu", h.v[j].blob, h.v[j].line);
    printf("test_corpus: %zu findings, %d planted, %d decoys\n", h.n, planted, decoys);
    free(good);
    free(h.v);
    scangit_report_free(report);
    scangit_engine_free(engine);
    return finish("test_corpus");
}
