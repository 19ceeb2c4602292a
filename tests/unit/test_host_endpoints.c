/*
 * test_host_endpoints.c -- /healthz, /readyz and /metrics (core/ops/endpoints.c)
 * through a fake host API: the handlers answer through the table they are
 * given, so a test can capture what they send without a server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ops/endpoints.h"

/* The test's own request: what the handler answered. */
struct dtr_request {
    int status;
    char content_type[128];
    char *body;
    size_t len;
    char kode[32];
    char tekst[256];
    char retry_after[16];
    int answers;
};

static void fake_respond(dtr_request *req, int status, const char *content_type, const void *body,
                         size_t len)
{
    req->answers++;
    req->status = status;
    snprintf(req->content_type, sizeof req->content_type, "%s", content_type ? content_type : "");
    free(req->body);
    req->body = malloc(len + 1);
    memcpy(req->body, body, len);
    req->body[len] = '\0';
    req->len = len;
}

static void fake_respond_problem(dtr_request *req, int status, const char *kode, const char *felt,
                                 const char *tekst)
{
    (void)felt;
    req->answers++;
    req->status = status;
    snprintf(req->kode, sizeof req->kode, "%s", kode);
    snprintf(req->tekst, sizeof req->tekst, "%s", tekst);
}

static void fake_resp_header(dtr_request *req, const char *name, const char *value)
{
    if (strcmp(name, "Retry-After") == 0)
        snprintf(req->retry_after, sizeof req->retry_after, "%s", value);
}

static dtr_host_api fake_api(void)
{
    dtr_host_api api;
    memset(&api, 0, sizeof api);
    api.abi_major = DTR_ABI_MAJOR;
    api.abi_minor = DTR_ABI_MINOR;
    api.struct_size = sizeof api;
    api.respond = fake_respond;
    api.respond_problem = fake_respond_problem;
    api.resp_header = fake_resp_header;
    return api;
}

typedef struct check_state {
    bool ready;
    const char *why;
    int calls;
} check_state;

static bool check(void *udata, char *why, size_t whylen)
{
    check_state *c = udata;
    c->calls++;
    if (!c->ready && c->why) snprintf(why, whylen, "%s", c->why);
    return c->ready;
}

static void hook(void *udata, ops_metrics *m)
{
    int *calls = udata;
    (*calls)++;
    ops_metrics_set(m, "dtr_test_gauge", "gauge", "A gauge set by a hook.", 42);
}

static void test_healthz(void **state)
{
    (void)state;
    dtr_host_api api = fake_api();
    ops_metrics *m = ops_metrics_new();
    ops_endpoints *e = ops_endpoints_new(&api, m);
    struct dtr_request req = {0};
    assert_int_equal(ops_endpoint_healthz(&req, e), DTR_OK);
    assert_int_equal(req.answers, 1);
    assert_int_equal(req.status, 200);
    assert_string_equal(req.content_type, "application/json");
    assert_string_equal(req.body, "{\"status\":\"ok\"}");
    free(req.body);
    ops_endpoints_free(e);
    ops_metrics_free(m);
}

/* Every check must pass; the first failing one is named in the 503. */
static void test_readyz_checks(void **state)
{
    (void)state;
    dtr_host_api api = fake_api();
    ops_metrics *m = ops_metrics_new();
    ops_endpoints *e = ops_endpoints_new(&api, m);

    struct dtr_request req = {0};
    ops_endpoint_readyz(&req, e); /* no checks: ready */
    assert_int_equal(req.status, 200);
    assert_string_equal(req.body, "{\"status\":\"ready\"}");
    free(req.body);

    check_state plugins = {.ready = true}, store = {.ready = false, .why = "read-only"};
    ops_endpoints_add_ready_check(e, "plugins", check, &plugins);
    ops_endpoints_add_ready_check(e, "store", check, &store);
    memset(&req, 0, sizeof req);
    ops_endpoint_readyz(&req, e);
    assert_int_equal(req.answers, 1);
    assert_int_equal(req.status, 503);
    assert_string_equal(req.kode, "IKKE_KLAR");
    assert_string_equal(req.tekst, "not ready: store: read-only");
    assert_string_equal(req.retry_after, "1");

    plugins.ready = false;
    plugins.why = "shutting down";
    char why[64];
    assert_false(ops_endpoints_ready(e, why, sizeof why));
    assert_string_equal(why, "plugins: shutting down");
    plugins.why = NULL; /* a check that gives no reason */
    assert_false(ops_endpoints_ready(e, why, sizeof why));
    assert_string_equal(why, "plugins: not ready");

    plugins.ready = store.ready = true;
    memset(&req, 0, sizeof req);
    ops_endpoint_readyz(&req, e);
    assert_int_equal(req.status, 200);
    free(req.body);
    ops_endpoints_free(e);
    ops_metrics_free(m);
}

static void test_metrics(void **state)
{
    (void)state;
    dtr_host_api api = fake_api();
    ops_metrics *m = ops_metrics_new();
    ops_endpoints *e = ops_endpoints_new(&api, m);
    int hook_calls = 0;
    ops_endpoints_add_metrics_hook(e, hook, &hook_calls);
    struct dtr_request req = {0};
    assert_int_equal(ops_endpoint_metrics(&req, e), DTR_OK);
    assert_int_equal(hook_calls, 1);
    assert_int_equal(req.status, 200);
    assert_string_equal(req.content_type, "text/plain; version=0.0.4; charset=utf-8");
    assert_non_null(strstr(req.body, "dtr_test_gauge 42"));
    assert_non_null(strstr(req.body, "# TYPE dtr_process_uptime_seconds gauge"));
    assert_non_null(strstr(req.body, "dtr_process_start_time_seconds "));
    free(req.body);
    ops_endpoints_free(e);
    ops_metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthz),
        cmocka_unit_test(test_readyz_checks),
        cmocka_unit_test(test_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
