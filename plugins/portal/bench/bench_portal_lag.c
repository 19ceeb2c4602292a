/*
 * bench_portal_lag.c -- end-to-end webhook lag, run by hand (never by
 * ctest): from the moment a change is committed by the real store's writer
 * to the moment the webhook for its hændelse reaches a receiver on
 * loopback, through the real feed, the portal plugin (window, signing,
 * state writes on the pool) and libcurl on the loop. The store-backed host
 * of plugins/unilogin/tests stands in for the server (no HTTP front end:
 * writes go straight to the store's writer, as the REST plugin's do).
 *
 *   bench_portal_lag [writes per second (default 100)] [seconds (default 10)]
 *
 * Prints p50, p90, p99 and max of the lag in milliseconds. The goal is
 * p99 < 50 ms under a steady write load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "receiver.h"
#include "store_host.h"

extern const dtr_plugin_descriptor dtr_plugin_entry;

static dtr_host_api wrapped_api;
static dtr_status (*host_route_add)(dtr_plugin *, const char *, const char *, size_t, dtr_route_fn,
                                    void *, char *, size_t);

/* The store-backed host routes GET only: other routes pass unrouted. */
static dtr_status get_routes_only(dtr_plugin *self, const char *method, const char *pattern,
                                  size_t max_body, dtr_route_fn fn, void *udata, char *err,
                                  size_t errlen)
{
    if (strcmp(method, "GET") != 0) return DTR_OK;
    return host_route_add(self, method, pattern, max_body, fn, udata, err, errlen);
}

static dtr_status wrapped_init(dtr_plugin *self, const dtr_host_api *api, const json_t *config,
                               void **state, char *err, size_t errlen)
{
    wrapped_api = *api;
    host_route_add = api->route_add;
    wrapped_api.route_add = get_routes_only;
    return dtr_plugin_entry.init(self, &wrapped_api, config, state, err, errlen);
}

typedef struct times {
    uint64_t *committed, *received; /* by sekvensnummer, ns */
    size_t n;
    size_t got;
} times;

static int record(receiver *r, const recv_hit *hit, size_t n, void *udata)
{
    (void)r;
    (void)n;
    times *t = udata;
    long seq = strtol(hit->id + 4, NULL, 10);
    if (seq > 0 && (size_t)seq < t->n && !t->received[seq]) {
        t->received[seq] = uv_hrtime();
        t->got++;
    }
    return 200;
}

static bool all_received(void *udata)
{
    times *t = udata;
    return t->got + 1 >= t->n;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void pace_wake(uv_timer_t *t)
{
    (void)t;
}

int main(int argc, char **argv)
{
    int rate = argc > 1 ? atoi(argv[1]) : 100;
    int seconds = argc > 2 ? atoi(argv[2]) : 10;
    if (rate <= 0 || seconds <= 0) {
        fprintf(stderr, "usage: bench_portal_lag [writes/s] [seconds]\n");
        return 2;
    }
    char today[11];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    store_host *h = sh_new("bench_portal_lag", today);
    size_t writes = (size_t)rate * (size_t)seconds;
    times t = {calloc(writes + 2, sizeof(uint64_t)), calloc(writes + 2, sizeof(uint64_t)),
               writes + 2, 0};
    receiver *r = receiver_new(sh_loop(h), record, &t);
    char config[256], err[256] = "";
    snprintf(config, sizeof config, "{\"webhooks\": [{\"url\": \"%s\"}]}", receiver_url(r));
    dtr_plugin_descriptor wrapped = dtr_plugin_entry;
    wrapped.init = wrapped_init;
    if (sh_load(h, &wrapped, config, err, sizeof err) != 0) {
        fprintf(stderr, "load: %s\n", err);
        return 1;
    }
    char di[7];
    sh_must(h, REG_OP_CREATE, REG_DAGINSTITUTION, NULL, sh_di_body("Bench", 101, 1, 1), di);
    t.committed[1] = uv_hrtime();
    uv_timer_t pace;
    uv_timer_init(sh_loop(h), &pace);
    uint64_t interval = 1000000000ull / (uint64_t)rate, start = uv_hrtime();
    for (size_t i = 2; i < t.n; i++) {
        json_t *patch = json_pack("{s:s}", "navn", (i % 2) ? "Bench A" : "Bench B");
        sh_result res = sh_run(h, REG_OP_UPDATE, REG_DAGINSTITUTION, di, patch);
        uint64_t committed = uv_hrtime();
        if (res.status != 0 || res.seq_last <= 0 || (size_t)res.seq_last >= t.n) {
            fprintf(stderr, "write %zu failed (%d)\n", i, res.status);
            return 1;
        }
        t.committed[res.seq_last] = committed;
        uint64_t due = start + (uint64_t)(i - 1) * interval;
        /* repeating: a one-shot timer that fires at the top of a loop turn
         * would leave that turn's poll with nothing to wake it */
        for (uint64_t at = uv_hrtime(); at < due; at = uv_hrtime()) {
            uv_timer_start(&pace, pace_wake, (due - at) / 1000000, 1);
            uv_run(sh_loop(h), UV_RUN_ONCE);
        }
        uv_timer_stop(&pace);
    }
    uv_close((uv_handle_t *)&pace, NULL);
    sh_run_until(h, all_received, &t);
    uint64_t *lag = calloc(t.n, sizeof *lag);
    size_t n = 0, early = 0;
    for (size_t s = 2; s < t.n; s++) {
        if (!t.committed[s] || !t.received[s]) continue;
        early += t.received[s] <= t.committed[s];
        lag[n++] = t.received[s] > t.committed[s] ? t.received[s] - t.committed[s] : 0;
    }
    qsort(lag, n, sizeof *lag, cmp_u64);
    printf("webhook lag over %zu writes at %d/s: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f "
           "ms\n",
           n, rate, lag[n / 2] / 1e6, lag[n * 90 / 100] / 1e6, lag[n * 99 / 100] / 1e6,
           lag[n - 1] / 1e6);
    /* the commit time is taken when the store's callback returned to the
     * writer of the load; a webhook can arrive within that same loop turn */
    printf("(%zu webhooks arrived before the load loop saw its commit: counted as 0 ms)\n", early);
    sh_unload(h);
    receiver_close(r);
    sh_free(h);
    free(lag);
    free(t.committed);
    free(t.received);
    return 0;
}
