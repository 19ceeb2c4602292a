/*
 * bench_host_abi.c -- what plugin ABI 2.0 costs and what a transaction
 * saves (issue 10), measured in one process on one disk:
 *
 *   1. a command through the ABI (a plugin instance's command_submit with a
 *      host-issued identity, the answer converted for the plugin) against
 *      the same command given to the store directly (store_submit), both
 *      with 64 commands in flight: creates/s and CPU time per create;
 *   2. 100 creates as one transaction (store_submit_transaction) against 100
 *      single creates one after another (each its own commit) and against
 *      100 singles in flight at once (group commit): commits/s and
 *      creates/s.
 *
 *   bench_host_abi [--dir DIR] [--n N] [--rounds R] [--plugin PATH]
 *
 * DIR must be on a real disk (default /tmp): every commit is fsynced. N
 * creates per ABI/store cell (default 20000), R rounds of 100 for part 2
 * (default 20). PATH is a plugin .so to make the instance from (default
 * build/tests/plugins/good.so; its own routes are not used).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <sodium.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "config.h"
#include "ops/endpoints.h"
#include "ops/log.h"
#include "ops/metrics.h"
#include "plugin/loader.h"
#include "services.h"
#include "store/store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static char *fresh_dir(const char *root)
{
    static char dir[4096];
    snprintf(dir, sizeof dir, "%s/bench_abi_XXXXXX", root);
    if (!mkdtemp(dir)) {
        perror(dir);
        exit(1);
    }
    return dir;
}

static void remove_dir(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

static json_t *di_body(void)
{
    return json_pack("{s:s, s:i, s:i, s:i}", "navn", "Benchmark børnehus", "ejerformKode", 1,
                     "lovgrundlagKode", 1, "admKommuneKode", 101);
}

/* ---- 1a: the store directly ------------------------------------------------ */

typedef struct direct {
    store *s;
    json_t *body;
    uint64_t n, submitted, done, failed;
} direct;

static void direct_submit(direct *d);

static void direct_done(const store_result *res, void *udata)
{
    direct *d = udata;
    d->done++;
    if (res->status != 0) d->failed++;
    if (d->submitted < d->n) direct_submit(d);
}

static void direct_submit(direct *d)
{
    store_command cmd = {.op = REG_OP_CREATE,
                         .level = REG_DAGINSTITUTION,
                         .body = d->body,
                         .actor = {.id = "bench", .role = REG_ROLE_SUPPORT},
                         .request_id = "bench"};
    if (store_submit(d->s, &cmd, direct_done, d) != 0) exit(1);
    d->submitted++;
}

static void quiet(void *udata, int level, const char *msg)
{
    (void)udata;
    if (level >= 2) fprintf(stderr, "store: %s\n", msg);
}

static void run_direct(const char *root, uint64_t n, double *rate, double *cpu_us)
{
    char *dir = fresh_dir(root);
    uint8_t key[AUDIT_KEY_BYTES];
    randombytes_buf(key, sizeof key);
    store_options opt = {.data_dir = dir, .audit_key = key, .log = quiet};
    char err[256];
    direct d = {.n = n, .body = di_body()};
    if (store_open(&opt, &d.s, err, sizeof err) != 0) {
        fprintf(stderr, "store_open: %s\n", err);
        exit(1);
    }
    double t0 = now_s(), c0 = cpu_s();
    for (int i = 0; i < 64; i++)
        direct_submit(&d);
    store_wait(d.s);
    double t = now_s() - t0, c = cpu_s() - c0;
    store_close(d.s);
    json_decref(d.body);
    if (d.failed) exit(1);
    *rate = (double)d.done / t;
    *cpu_us = c / (double)d.done * 1e6;
    remove_dir(dir);
}

/* ---- 1b: through the ABI ---------------------------------------------------- */

typedef struct viaabi {
    const dtr_host_api *api;
    dtr_plugin *self;
    const dtr_identity *who;
    json_t *body;
    uint64_t n, submitted, done, failed;
    uv_loop_t *loop;
} viaabi;

static void abi_submit(viaabi *v);

static void abi_done(const dtr_command_result *res, void *udata)
{
    viaabi *v = udata;
    v->done++;
    if (res->status != DTR_OK) v->failed++;
    if (v->submitted < v->n) abi_submit(v);
}

static void abi_submit(viaabi *v)
{
    dtr_command cmd = {
        .op = DTR_OP_CREATE, .level = DTR_LEVEL_DAGINSTITUTION, .body = v->body, .if_match = -1};
    dtr_submission sub = {.commands = &cmd, .n_commands = 1, .request_id = "bench"};
    char err[256];
    if (v->api->command_submit(v->self, v->who, &sub, abi_done, v, err, sizeof err) != DTR_OK) {
        fprintf(stderr, "command_submit: %s\n", err);
        exit(1);
    }
    v->submitted++;
}

static void svc_gone(void *udata)
{
    *(int *)udata = 1;
}

static void run_abi(const char *root, const char *plugin, uint64_t n, double *rate, double *cpu_us)
{
    char *dir = fresh_dir(root);
    char data[4200];
    snprintf(data, sizeof data, "%s", dir);
    uv_loop_t loop;
    uv_loop_init(&loop);
    ops_log *log = ops_log_new(2, OPS_LOG_WARN);
    ops_metrics *metrics = ops_metrics_new();
    plug_registry *reg = plug_registry_new(&loop, log, data);
    ops_endpoints *ep = ops_endpoints_new(plug_registry_api(reg), metrics);
    cfg_sessions sessions = {.idle_ms = 1800000, .max_ms = 28800000};
    char err[512];
    svc_services *svc = svc_open(&loop, data, NULL, log, reg, ep, &sessions, err, sizeof err);
    if (!svc) {
        fprintf(stderr, "svc_open: %s\n", err);
        exit(1);
    }
    /* a support client, as `dtr client add` makes it */
    store_db *db;
    uint8_t key[AUDIT_KEY_BYTES];
    if (audit_load_or_create_key(data, key, err, sizeof err) != 0 ||
        !(db = store_db_open(data, true, 5000, err, sizeof err)))
        exit(1);
    auth_new_client nc = {.name = "bench", .role = "support"};
    json_t *made = NULL;
    if (auth_client_add(db, key, "cli:bench", &nc, &made, err, sizeof err) != 0) {
        fprintf(stderr, "auth_client_add: %s\n", err);
        exit(1);
    }
    store_db_close(db);
    plug_set *set = plug_set_new(reg);
    if (plug_set_add_as(set, "good", plugin, NULL,
                        json_string_value(json_object_get(made, "clientId")), err,
                        sizeof err) != DTR_OK ||
        plug_set_start(set, err, sizeof err) != DTR_OK) {
        fprintf(stderr, "plugin: %s\n", err);
        exit(1);
    }
    json_decref(made);
    viaabi v = {.api = plug_registry_api(reg),
                .self = plug_set_instance(set, 0),
                .body = di_body(),
                .n = n,
                .loop = &loop};
    v.who = v.api->identity_configured(v.self);
    if (!v.who) exit(1);
    double t0 = now_s(), c0 = cpu_s();
    for (int i = 0; i < 64; i++)
        abi_submit(&v);
    while (v.done < v.n)
        uv_run(&loop, UV_RUN_ONCE);
    double t = now_s() - t0, c = cpu_s() - c0;
    json_decref(v.body);
    int gone = 0, closed = 0;
    plug_set_retire(set, svc_gone, &gone);
    while (!gone)
        uv_run(&loop, UV_RUN_ONCE);
    svc_close(svc, svc_gone, &closed);
    while (!closed)
        uv_run(&loop, UV_RUN_ONCE);
    uv_run(&loop, UV_RUN_DEFAULT);
    ops_endpoints_free(ep);
    plug_registry_free(reg);
    ops_metrics_free(metrics);
    ops_log_free(log);
    uv_loop_close(&loop);
    if (v.failed) exit(1);
    *rate = (double)v.done / t;
    *cpu_us = c / (double)v.done * 1e6;
    remove_dir(dir);
}

/* ---- 2: a transaction of 100 against 100 singles ------------------------------ */

typedef struct rounds {
    store *s;
    json_t *body;
    int left; /* commands of this round still to answer */
} rounds;

static void round_done(const store_result *res, void *udata)
{
    rounds *r = udata;
    if (res->status != 0) {
        fprintf(stderr, "refused: %d\n", res->status);
        exit(1);
    }
    r->left--;
}

/* mode 0: 100 singles one after another; 1: 100 singles at once; 2: one
 * transaction of 100. Returns creates/s; *commits_s gets commits/s. */
static double run_rounds(const char *root, int mode, int nrounds, double *commits_s)
{
    char *dir = fresh_dir(root);
    uint8_t key[AUDIT_KEY_BYTES];
    randombytes_buf(key, sizeof key);
    store_options opt = {.data_dir = dir, .audit_key = key, .log = quiet};
    char err[256];
    rounds r = {.body = di_body()};
    if (store_open(&opt, &r.s, err, sizeof err) != 0) exit(1);
    store_command cmds[100];
    for (int i = 0; i < 100; i++)
        cmds[i] = (store_command){.op = REG_OP_CREATE,
                                  .level = REG_DAGINSTITUTION,
                                  .body = r.body,
                                  .actor = {.id = "bench", .role = REG_ROLE_SUPPORT},
                                  .request_id = "bench"};
    double t0 = now_s();
    for (int k = 0; k < nrounds; k++) {
        if (mode == 2) {
            r.left = 1;
            if (store_submit_transaction(r.s, cmds, 100, round_done, &r) != 0) exit(1);
            store_wait(r.s);
        } else if (mode == 1) {
            r.left = 100;
            for (int i = 0; i < 100; i++)
                if (store_submit(r.s, &cmds[i], round_done, &r) != 0) exit(1);
            store_wait(r.s);
        } else {
            for (int i = 0; i < 100; i++) {
                r.left = 1;
                if (store_submit_sync(r.s, &cmds[i], round_done, &r) != 0) exit(1);
            }
        }
    }
    double t = now_s() - t0;
    store_stats st;
    store_get_stats(r.s, &st);
    store_close(r.s);
    json_decref(r.body);
    remove_dir(dir);
    *commits_s = (double)st.commits / t;
    return 100.0 * nrounds / t;
}

static double median3(const double v[3])
{
    double a = v[0], b = v[1], c = v[2];
    if ((a <= b && b <= c) || (c <= b && b <= a)) return b;
    if ((b <= a && a <= c) || (c <= a && a <= b)) return a;
    return c;
}

int main(int argc, char **argv)
{
    const char *root = "/tmp", *plugin = "build/tests/plugins/good.so";
    uint64_t n = 20000;
    int nrounds = 20;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            root = argv[++i];
        else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
            n = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            nrounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--plugin") == 0 && i + 1 < argc)
            plugin = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--dir DIR] [--n N] [--rounds R] [--plugin PATH]\n",
                    argv[0]);
            return 2;
        }
    }
    if (sodium_init() < 0) return 1;
    /* three of each, alternating, the median of each: the machine's other
     * load and the disk's moods hit both alike */
    double rdv[3], cdv[3], rav[3], cav[3];
    for (int i = 0; i < 3; i++) {
        run_direct(root, n, &rdv[i], &cdv[i]);
        run_abi(root, plugin, n, &rav[i], &cav[i]);
    }
    double rd = median3(rdv), cd = median3(cdv), ra = median3(rav), ca = median3(cav);
    printf("1. a create through the ABI vs the store directly (%llu creates, 64 in flight, %s;\n"
           "   median of 3 alternating runs)\n",
           (unsigned long long)n, root);
    printf("%24s %12s %14s\n", "", "creates/s", "CPU µs/create");
    printf("%24s %12.0f %14.1f\n", "store_submit", rd, cd);
    printf("%24s %12.0f %14.1f\n", "ABI command_submit", ra, ca);
    printf("%24s %11.2fx %13.1f\n", "ABI / store", ra / rd, ca - cd);
    double c0, c1, c2;
    double s0 = run_rounds(root, 0, nrounds, &c0);
    double s1 = run_rounds(root, 1, nrounds, &c1);
    double s2 = run_rounds(root, 2, nrounds, &c2);
    printf("2. 100 creates per round, %d rounds\n", nrounds);
    printf("%34s %12s %12s\n", "", "creates/s", "commits/s");
    printf("%34s %12.0f %12.1f\n", "100 singles, one after another", s0, c0);
    printf("%34s %12.0f %12.1f\n", "100 singles at once (group commit)", s1, c1);
    printf("%34s %12.0f %12.1f\n", "one transaction of 100", s2, c2);
    printf("%34s %11.1fx\n", "transaction / one after another", s2 / s0);
    return 0;
}
