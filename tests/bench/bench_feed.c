/*
 * bench_feed.c -- the change feed's reads and delivery, by hand (never run
 * by ctest).
 *
 *   bench_feed [--dir DIR] [--events N] [--live M]
 *
 * 1. fills a fresh store in DIR (default /tmp) with about N hændelser
 *    (default 200000): daginstitutioner created with three anvisningsenheder
 *    each (four hændelser per command, full records with addresses), 64
 *    commands in flight (group commit);
 * 2. reads them all back with store_haendelser in pages of 10,000 and of
 *    1,000 (the feed's batch): hændelser per second and bytes of JSON;
 * 3. a feed consumer that acknowledges at once replays them from fra 1:
 *    hændelser per second through the feed (pool reads, delivery, cursor
 *    writes);
 * 4. live: M more commands (default 2000) submitted 8 at a time while that
 *    consumer follows; the lag from a command's commit answer to the batch
 *    holding its last hændelse (p50, p99, max) and the largest backlog seen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "feed/feed.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void quiet(void *udata, int level, const char *msg)
{
    (void)udata;
    if (level >= 3) fprintf(stderr, "%s\n", msg);
}

/* ---- filling ---------------------------------------------------------------------- */

typedef struct filler {
    store *s;
    json_t *body;
    uint64_t to_submit, submitted, done, failed;
    size_t in_flight, window;
    double *commit_at; /* live phase: when each sekvensnummer's command was answered */
    int64_t commit_at_len;
} filler;

static json_t *unit_body(int i)
{
    return json_pack("{s:s, s:i, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:i}}", "navn",
                     i == 0   ? "Vuggestuen"
                     : i == 1 ? "Børnehaven"
                              : "Klubben",
                     "instType3", i == 0 ? 6010 : 6011, "cvrNummer", "10000009", "pNummer",
                     "1000000001", "adresse", "vejNavn", "Gammeltoftsgade", "husNummer", "13",
                     "postNummer", "1355", "byNavn", "København K", "kommuneKode", 101);
}

static void fill_submit(filler *f);

static void fill_done(const store_result *res, void *udata)
{
    filler *f = udata;
    f->done++;
    f->in_flight--;
    if (res->status != 0) f->failed++;
    if (f->commit_at && res->seq_last > 0 && res->seq_last < f->commit_at_len)
        f->commit_at[res->seq_last] = now_s();
    fill_submit(f);
}

static void fill_submit(filler *f)
{
    while (f->in_flight < f->window && f->submitted < f->to_submit) {
        store_command cmd = {.op = REG_OP_CREATE,
                             .level = REG_DAGINSTITUTION,
                             .body = f->body,
                             .actor = {.id = "bench", .role = REG_ROLE_SUPPORT},
                             .request_id = "bench"};
        if (store_submit(f->s, &cmd, fill_done, f) != 0) {
            fprintf(stderr, "store_submit refused\n");
            exit(1);
        }
        f->submitted++;
        f->in_flight++;
    }
}

/* ---- reading ------------------------------------------------------------------------- */

static void bench_read(store *s, int64_t total, size_t page)
{
    char err[256];
    store_reader *r = store_reader_open(s, err, sizeof err);
    if (!r) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    double t0 = now_s();
    int64_t from = 1, n = 0;
    size_t bytes = 0;
    while (from <= total) {
        json_t *events = NULL;
        if (store_haendelser(r, from, page, &events) != 0) {
            fprintf(stderr, "read failed\n");
            exit(1);
        }
        size_t k = json_array_size(events);
        if (k == 0) break;
        /* what a route would send: count the serialized size once per page */
        char *text = json_dumps(events, JSON_COMPACT);
        bytes += strlen(text);
        free(text);
        n += (int64_t)k;
        from += (int64_t)k;
        json_decref(events);
    }
    double dt = now_s() - t0;
    printf("read  pages of %5zu: %8lld hændelser in %.2f s = %9.0f hændelser/s, %.1f MB JSON "
           "(%.0f bytes each)\n",
           page, (long long)n, dt, (double)n / dt, (double)bytes / 1e6,
           n ? (double)bytes / (double)n : 0.0);
    /* without serializing: the store's read and the JSON objects alone */
    t0 = now_s();
    from = 1;
    n = 0;
    while (from <= total) {
        json_t *events = NULL;
        if (store_haendelser(r, from, page, &events) != 0) exit(1);
        size_t k = json_array_size(events);
        if (k == 0) break;
        n += (int64_t)k;
        from += (int64_t)k;
        json_decref(events);
    }
    dt = now_s() - t0;
    printf("read  pages of %5zu without dumps: %9.0f hændelser/s\n", page, (double)n / dt);
    store_reader_close(r);
}

/* ---- the feed ---------------------------------------------------------------------------- */

typedef struct follower {
    feed_consumer *c;
    int64_t seen;
    int64_t batches;
    filler *f;
    double *lags;
    size_t nlags, caplags;
    int64_t max_backlog;
    feed *feed;
} follower;

static void follow(void *udata, const json_t *events)
{
    follower *fo = udata;
    size_t n = json_array_size(events);
    int64_t last =
        json_integer_value(json_object_get(json_array_get(events, n - 1), "sekvensnummer"));
    fo->seen += (int64_t)n;
    fo->batches++;
    int64_t backlog = feed_newest(fo->feed) - last;
    if (backlog > fo->max_backlog) fo->max_backlog = backlog;
    if (fo->f && fo->f->commit_at && last < fo->f->commit_at_len) {
        double now = now_s();
        for (size_t i = 0; i < n; i++) {
            int64_t seq =
                json_integer_value(json_object_get(json_array_get(events, i), "sekvensnummer"));
            double at = fo->f->commit_at[seq];
            if (at <= 0) continue; /* not a command's last hændelse */
            if (fo->nlags == fo->caplags) {
                fo->caplags = fo->caplags ? 2 * fo->caplags : 1024;
                fo->lags = realloc(fo->lags, fo->caplags * sizeof *fo->lags);
            }
            fo->lags[fo->nlags++] = now - at;
        }
    }
    feed_consumer_done(fo->c, last, 0);
}

static void set_flag(void *udata)
{
    *(bool *)udata = true;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *base = "/tmp";
    int64_t events = 200000, live = 2000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--dir") == 0)
            base = argv[i + 1];
        else if (strcmp(argv[i], "--events") == 0)
            events = atoll(argv[i + 1]);
        else if (strcmp(argv[i], "--live") == 0)
            live = atoll(argv[i + 1]);
    }
    char dir[512];
    snprintf(dir, sizeof dir, "%s/bench_feed_XXXXXX", base);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    uint8_t key[AUDIT_KEY_BYTES] = {1};
    store_options so = {.data_dir = dir, .audit_key = key, .loop = &loop, .log = quiet};
    store *s = NULL;
    char err[256];
    if (store_open(&so, &s, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }

    /* 1. fill */
    filler f = {.s = s, .window = 64};
    f.body = json_pack("{s:s, s:i, s:i, s:i, s:[o, o, o]}", "navn", "Solsikken", "ejerformKode", 1,
                       "lovgrundlagKode", 1, "admKommuneKode", 101, "anvisningsenheder",
                       unit_body(0), unit_body(1), unit_body(2));
    f.to_submit = (uint64_t)(events + 3) / 4;
    double t0 = now_s();
    fill_submit(&f);
    while (f.done < f.to_submit)
        uv_run(&loop, UV_RUN_ONCE);
    double dt = now_s() - t0;
    int64_t total = (int64_t)(f.to_submit - f.failed) * 4;
    printf("fill: %llu commands (%lld hændelser) in %.2f s = %.0f hændelser/s committed; %llu "
           "refused\n",
           (unsigned long long)f.to_submit, (long long)total, dt, (double)total / dt,
           (unsigned long long)f.failed);

    /* 2. reads */
    bench_read(s, total, 10000);
    bench_read(s, total, 1000);

    /* 3. replay through the feed */
    feed_options fopt = {.loop = &loop, .store = s, .log = quiet};
    feed *fd = feed_new(&fopt, err, sizeof err);
    if (!fd) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    follower fo = {.feed = fd};
    t0 = now_s();
    fo.c = feed_subscribe(fd, "bench", 1, follow, &fo, err, sizeof err);
    while (fo.seen < total)
        uv_run(&loop, UV_RUN_ONCE);
    dt = now_s() - t0;
    printf("feed replay: %lld hændelser in %lld batches, %.2f s = %.0f hændelser/s delivered\n",
           (long long)fo.seen, (long long)fo.batches, dt, (double)fo.seen / dt);

    /* 4. live lag */
    filler lf = {.s = s, .window = 8, .body = f.body};
    lf.to_submit = (uint64_t)live;
    lf.commit_at_len = total + (int64_t)live * 4 + 8;
    lf.commit_at = calloc((size_t)lf.commit_at_len, sizeof *lf.commit_at);
    fo.f = &lf;
    fo.max_backlog = 0;
    int64_t want = fo.seen + (int64_t)live * 4;
    t0 = now_s();
    fill_submit(&lf);
    while (lf.done < lf.to_submit || fo.seen < want)
        uv_run(&loop, UV_RUN_ONCE);
    dt = now_s() - t0;
    qsort(fo.lags, fo.nlags, sizeof *fo.lags, dbl_cmp);
    if (fo.nlags) {
        printf("live: %lld commands in %.2f s (%.0f hændelser/s); commit answer -> delivery lag "
               "p50 %.2f ms, p99 %.2f ms, max %.2f ms; largest backlog %lld hændelser\n",
               (long long)live, dt, (double)live * 4 / dt, fo.lags[fo.nlags / 2] * 1e3,
               fo.lags[fo.nlags * 99 / 100] * 1e3, fo.lags[fo.nlags - 1] * 1e3,
               (long long)fo.max_backlog);
    }

    feed_unsubscribe(fo.c);
    bool closed = false;
    feed_close(fd, set_flag, &closed);
    while (!closed)
        uv_run(&loop, UV_RUN_ONCE);
    store_close(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    json_decref(f.body);
    free(lf.commit_at);
    free(fo.lags);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return 0;
}
