/*
 * test_ops_log_metrics.c -- the buffered logger (lines, JSON, levels,
 * dropping without blocking when the output is stuck) and the metrics
 * (counts, histogram, named values, Prometheus text).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops/log.h"
#include "ops/metrics.h"

/* ---- the logger ---------------------------------------------------------------------- */

typedef struct pipe_reader {
    int fd;
    char *data;
    size_t len;
    pthread_t thread;
} pipe_reader;

static void *pipe_reader_main(void *arg)
{
    pipe_reader *r = arg;
    char buf[65536];
    for (;;) {
        ssize_t n = read(r->fd, buf, sizeof buf);
        if (n <= 0) break;
        r->data = realloc(r->data, r->len + (size_t)n + 1);
        memcpy(r->data + r->len, buf, (size_t)n);
        r->len += (size_t)n;
        r->data[r->len] = '\0';
    }
    return NULL;
}

/* Every line of the output parsed; returns the number of lines. */
static size_t each_line(const char *data, void (*fn)(json_t *line, void *udata), void *udata)
{
    size_t n = 0;
    const char *p = data;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        json_error_t err;
        json_t *j = json_loadb(p, (size_t)(nl - p), 0, &err);
        if (!j) fail_msg("not JSON: %.*s (%s)", (int)(nl - p), p, err.text);
        if (fn) fn(j, udata);
        json_decref(j);
        n++;
        p = nl + 1;
    }
    return n;
}

static void check_first_lines(json_t *j, void *udata)
{
    int *i = udata;
    const char *msg = json_string_value(json_object_get(j, "msg"));
    const char *time = json_string_value(json_object_get(j, "time"));
    if (*i < 2) { /* the raw line is the caller's own */
        assert_non_null(time);
        assert_int_equal(strlen(time), 24);
        assert_int_equal(time[23], 'Z');
    }
    if (*i == 0) {
        assert_string_equal(json_string_value(json_object_get(j, "level")), "info");
        assert_string_equal(json_string_value(json_object_get(j, "source")), "test");
        assert_string_equal(msg, "hello 42");
    } else if (*i == 1) {
        assert_string_equal(json_string_value(json_object_get(j, "level")), "error");
        assert_string_equal(msg, "quote \" backslash \\ newline \n tab \t bell \a");
    } else if (*i == 2) {
        assert_string_equal(json_string_value(json_object_get(j, "kind")), "raw");
    }
    (*i)++;
}

static void test_log_lines(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pipe_reader r = {.fd = fds[0]};
    pthread_create(&r.thread, NULL, pipe_reader_main, &r);
    ops_log *log = ops_log_new(fds[1], OPS_LOG_INFO);
    assert_non_null(log);
    ops_log_write(log, OPS_LOG_INFO, "test", "hello %d", 42);
    ops_log_write(log, OPS_LOG_DEBUG, "test", "below the level: dropped");
    ops_log_write(log, OPS_LOG_ERROR, "test", "quote \" backslash \\ newline \n tab \t bell \a");
    ops_log_raw(log, "{\"kind\":\"raw\"}", 14);
    ops_log_write(NULL, OPS_LOG_ERROR, "test", "no logger: nothing");
    ops_log_raw(NULL, "x", 1);
    ops_log_free(log);
    close(fds[1]);
    pthread_join(r.thread, NULL);
    close(fds[0]);
    int i = 0;
    assert_int_equal(each_line(r.data, check_first_lines, &i), 3);
    free(r.data);
}

typedef struct drop_count {
    int lines;         /* "dropped N lines" lines */
    unsigned long sum; /* their N */
} drop_count;

static void count_dropped_line(json_t *j, void *udata)
{
    drop_count *d = udata;
    const char *msg = json_string_value(json_object_get(j, "msg"));
    if (!msg || strncmp(msg, "dropped ", 8) != 0) return;
    d->lines++;
    d->sum += strtoul(msg + 8, NULL, 10);
}

/* The output is stuck (nobody reads the pipe): writing goes on without
 * waiting, lines are dropped and counted, and once the pipe is read again a
 * "dropped" line says so. */
static void test_log_drops_when_stuck(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fcntl(fds[1], F_SETPIPE_SZ, 4096);
    ops_log *log = ops_log_new_sized(fds[1], OPS_LOG_INFO, 8192);
    char line[200];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(line, sizeof line, "{\"n\":%d,\"pad\":\"%080d\"}", i, 0);
        ops_log_raw(log, line, (size_t)n);
    }
    uint64_t dropped = ops_log_dropped(log);
    assert_true(dropped > 0);
    assert_true(dropped < 5000);
    pipe_reader r = {.fd = fds[0]};
    pthread_create(&r.thread, NULL, pipe_reader_main, &r);
    ops_log_free(log);
    close(fds[1]);
    pthread_join(r.thread, NULL);
    close(fds[0]);
    drop_count d = {0};
    size_t lines = each_line(r.data, count_dropped_line, &d);
    assert_true(d.lines >= 1);
    assert_int_equal(d.sum, dropped);
    assert_int_equal(lines - (size_t)d.lines, 5000 - dropped);
    free(r.data);
}

static void test_log_time(void **state)
{
    (void)state;
    char t[32];
    assert_int_equal(ops_log_time(t), 24);
    assert_int_equal(strlen(t), 24);
    assert_int_equal(t[4], '-');
    assert_int_equal(t[10], 'T');
    assert_int_equal(t[19], '.');
}

/* ---- metrics ----------------------------------------------------------------------------- */

static void test_metrics_render(void **state)
{
    (void)state;
    ops_metrics *m = ops_metrics_new();
    ops_metrics_request(m, "GET", "/v1/x/{nummer}", 200, 0.0002);
    ops_metrics_request(m, "GET", "/v1/x/{nummer}", 200, 0.003);
    ops_metrics_request(m, "GET", "/v1/x/{nummer}", 404, 20.0);
    ops_metrics_request(m, "POST", "/v1/x", 201, 0.04);
    ops_metrics_request(m, "GET", "/a\"b", 200, 0.0);
    ops_metrics_set_connections(m, 7);
    ops_metrics_set(m, "dtr_feed_lag{consumer=\"portal\"}", "gauge", "Events not yet delivered.",
                    3);
    ops_metrics_set(m, "dtr_commits_total", "counter", "Commits.", 10);
    ops_metrics_set(m, "dtr_feed_lag{consumer=\"unilogin\"}", "gauge", "Events not yet delivered.",
                    0);
    ops_metrics_set(m, "dtr_commits_total", "counter", "Commits.", 11);
    size_t len;
    char *text = ops_metrics_render(m, &len);
    assert_int_equal(strlen(text), len);
    const char *want[] = {
        "# TYPE dtr_http_requests_total counter\n",
        "dtr_http_requests_total{method=\"GET\",route=\"/v1/x/{nummer}\",status=\"200\"} 2\n",
        "dtr_http_requests_total{method=\"GET\",route=\"/v1/x/{nummer}\",status=\"404\"} 1\n",
        "dtr_http_requests_total{method=\"POST\",route=\"/v1/x\",status=\"201\"} 1\n",
        "dtr_http_requests_total{method=\"GET\",route=\"/a\\\"b\",status=\"200\"} 1\n",
        "# TYPE dtr_http_request_duration_seconds histogram\n",
        "dtr_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/x/"
        "{nummer}\",le=\"0.0005\"} 1\n",
        "dtr_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/x/"
        "{nummer}\",le=\"0.005\"} 2\n",
        "dtr_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/x/"
        "{nummer}\",le=\"10\"} 2\n",
        "dtr_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/x/"
        "{nummer}\",le=\"+Inf\"} 3\n",
        "dtr_http_request_duration_seconds_count{method=\"GET\",route=\"/v1/x/{nummer}\"} 3\n",
        "dtr_http_connections 7\n",
        "# HELP dtr_feed_lag Events not yet delivered.\n# TYPE dtr_feed_lag gauge\n"
        "dtr_feed_lag{consumer=\"portal\"} 3\ndtr_feed_lag{consumer=\"unilogin\"} 0\n",
        "# TYPE dtr_commits_total counter\ndtr_commits_total 11\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(text, want[i])) fail_msg("missing %s in:\n%s", want[i], text);
    /* one HELP per metric */
    const char *p = text;
    int helps = 0;
    while ((p = strstr(p, "# HELP dtr_feed_lag ")))
        helps++, p++;
    assert_int_equal(helps, 1);
    free(text);
    ops_metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_lines),
        cmocka_unit_test(test_log_drops_when_stuck),
        cmocka_unit_test(test_log_time),
        cmocka_unit_test(test_metrics_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
