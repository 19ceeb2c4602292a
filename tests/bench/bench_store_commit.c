/*
 * bench_store_commit.c -- durable creates per second through the store's
 * writer, with 1, 8 and 64 submitters (commands kept in flight at once),
 * group commit against one transaction per command.
 *
 *   bench_store_commit [--dir DIR] [--seconds S] [--max N] [--submitters K]
 *                      [--mode both|group|single]
 *
 * DIR must be on a real disk (default /tmp): every commit is fsynced
 * (synchronous=FULL). Each cell runs on a fresh database for S seconds
 * (default 3) or N creates (default 200000), whichever ends first. Prints
 * one line per submitter count: creates/s with group commit, without, and
 * their ratio, plus the mean batch size. --submitters and --mode run one
 * row or one column only (for profiling).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "store/store.h"

typedef struct bench {
    store *s;
    json_t *body;
    double deadline;
    uint64_t max;
    uint64_t submitted, done, failed;
} bench;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void submit_one(bench *b);

static void on_done(const store_result *res, void *udata)
{
    bench *b = udata;
    b->done++;
    if (res->status != 0) b->failed++;
    if (b->submitted < b->max && now_s() < b->deadline) submit_one(b);
}

static void submit_one(bench *b)
{
    store_command cmd = {.op = REG_OP_CREATE,
                         .level = REG_DAGINSTITUTION,
                         .body = b->body,
                         .actor = {.id = "bench", .role = REG_ROLE_SUPPORT},
                         .request_id = "bench"};
    if (store_submit(b->s, &cmd, on_done, b) != 0) {
        fprintf(stderr, "store_submit refused\n");
        exit(1);
    }
    b->submitted++;
}

static void quiet(void *udata, int level, const char *msg)
{
    (void)udata;
    if (level >= 2) fprintf(stderr, "store: %s\n", msg);
}

/* One cell: a fresh database, `inflight` submitters, group commit or not.
 * Returns creates per second; *mean_batch gets commands per commit. */
static double run_cell(const char *root, int inflight, bool group, double seconds, uint64_t max,
                       double *mean_batch)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/bench_store_XXXXXX", root);
    if (!mkdtemp(dir)) {
        perror(dir);
        exit(1);
    }
    uint8_t key[AUDIT_KEY_BYTES];
    randombytes_buf(key, sizeof key);
    store_options opt = {
        .data_dir = dir, .audit_key = key, .no_group_commit = !group, .log = quiet};
    char err[256];
    bench b = {.max = max};
    if (store_open(&opt, &b.s, err, sizeof err) != 0) {
        fprintf(stderr, "store_open: %s\n", err);
        exit(1);
    }
    b.body = json_pack("{s:s, s:i, s:i, s:i}", "navn", "Benchmark børnehus", "ejerformKode", 1,
                       "lovgrundlagKode", 1, "admKommuneKode", 101);
    double start = now_s();
    b.deadline = start + seconds;
    for (int i = 0; i < inflight; i++)
        submit_one(&b);
    store_wait(b.s);
    double elapsed = now_s() - start;
    store_stats st;
    store_get_stats(b.s, &st);
    *mean_batch = st.commits ? (double)st.commands / (double)st.commits : 0;
    store_close(b.s);
    json_decref(b.body);
    if (b.failed) {
        fprintf(stderr, "%llu creates failed\n", (unsigned long long)b.failed);
        exit(1);
    }
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return (double)b.done / elapsed;
}

int main(int argc, char **argv)
{
    const char *root = "/tmp";
    double seconds = 3;
    uint64_t max = 200000;
    int only = 0;
    const char *mode = "both";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            root = argv[++i];
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--max") == 0 && i + 1 < argc)
            max = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--submitters") == 0 && i + 1 < argc)
            only = atoi(argv[++i]);
        else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc)
            mode = argv[++i];
        else {
            fprintf(stderr,
                    "usage: %s [--dir DIR] [--seconds S] [--max N] [--submitters K] "
                    "[--mode both|group|single]\n",
                    argv[0]);
            return 2;
        }
    }
    if (sodium_init() < 0) return 1;
    printf("durable creates/s in %s (synchronous=FULL, %.0f s per cell)\n", root, seconds);
    printf("%10s %14s %14s %8s %12s\n", "submitters", "group commit", "per command", "ratio",
           "mean batch");
    const int counts[] = {1, 8, 64};
    bool do_group = strcmp(mode, "single") != 0, do_single = strcmp(mode, "group") != 0;
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        if (only && counts[i] != only) continue;
        double batch_group = 0, batch_single = 0, group = 0, single = 0;
        if (do_group) group = run_cell(root, counts[i], true, seconds, max, &batch_group);
        if (do_single) single = run_cell(root, counts[i], false, seconds, max, &batch_single);
        printf("%10d %14.0f %14.0f %7.1fx %12.1f\n", counts[i], group, single,
               single > 0 ? group / single : 0, batch_group);
        fflush(stdout);
    }
    return 0;
}
