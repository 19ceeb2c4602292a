/*
 * test_portal_routes.c -- who may see and replay webhooks, and what the
 * replay route refuses. Subscriber URLs are not public: public_read does
 * not open the listing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fake_host.h"
#include "portal.h"

static fake_host *h;
static void *plugin;

static int setup(void **state)
{
    (void)state;
    h = fake_host_new();
    char err[256];
    plugin = fake_plugin_init(h,
                              "{\"webhooks\": [{\"url\": \"http://127.0.0.1:1/never\"}], "
                              "\"retry_ms\": [600000]}",
                              err, sizeof err);
    assert_non_null(plugin);
    assert_int_equal(fake_plugin_start(h, plugin), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_plugin_stop_free(h, plugin);
    fake_host_free(h);
    return 0;
}

static int status_of(const char *method, const char *path, const char *auth, const char *ct,
                     const char *body, json_t **json)
{
    const char *headers[6] = {NULL};
    size_t n = 0;
    if (auth) {
        headers[n++] = "Authorization";
        headers[n++] = auth;
    }
    if (ct) {
        headers[n++] = "Content-Type";
        headers[n++] = ct;
    }
    fake_response *r = fake_call(h, method, path, headers, body);
    int status = r->status;
    if (status == 401)
        assert_string_equal(fake_response_header(r, "WWW-Authenticate"), "Basic realm=\"dtr\"");
    if (json) *json = json_incref(r->json);
    fake_response_free(r);
    return status;
}

static void listing_needs_admin_or_support(void **state)
{
    (void)state;
    h->public_read = 1;
    assert_int_equal(status_of("GET", "/v1/portal/webhooks", NULL, NULL, NULL, NULL), 401);
    assert_int_equal(status_of("GET", "/v1/portal/webhooks", "Basic wrong", NULL, NULL, NULL), 401);
    assert_int_equal(status_of("GET", "/v1/portal/webhooks", "Basic laeser", NULL, NULL, NULL),
                     403);
    assert_int_equal(status_of("GET", "/v1/portal/webhooks", "Basic kommune", NULL, NULL, NULL),
                     403);
    json_t *j = NULL;
    assert_int_equal(status_of("GET", "/v1/portal/webhooks", "Basic support", NULL, NULL, &j), 200);
    json_t *sub = json_array_get(json_object_get(j, "subscribers"), 0);
    assert_string_equal(json_string_value(json_object_get(sub, "url")), "http://127.0.0.1:1/never");
    assert_int_equal(json_integer_value(json_object_get(sub, "position")), -1);
    assert_int_equal(json_array_size(json_object_get(j, "retryMs")), 1);
    json_decref(j);
    assert_int_equal(status_of("GET", "/v1/portal/webhooks", "Basic admin", NULL, NULL, NULL), 200);
}

static void replay_is_admin_only(void **state)
{
    (void)state;
    const char *path = "/v1/portal/webhooks/replay";
    const char *js = "application/json";
    assert_int_equal(status_of("POST", path, NULL, js, "{}", NULL), 401);
    assert_int_equal(status_of("POST", path, "Basic support", js, "{}", NULL), 403);
    assert_int_equal(status_of("POST", path, "Basic laeser", js, "{}", NULL), 403);
    json_t *j = NULL;
    assert_int_equal(status_of("POST", path, "Basic admin", js, "{}", &j), 202);
    assert_int_equal(json_array_size(json_object_get(j, "queued")), 0);
    json_decref(j);
    assert_int_equal(status_of("POST", path, "Basic admin", NULL, NULL, NULL), 202); /* no body */
}

static void replay_refuses_bad_bodies(void **state)
{
    (void)state;
    const char *path = "/v1/portal/webhooks/replay";
    const char *js = "application/json";
    assert_int_equal(status_of("POST", path, "Basic admin", "text/plain", "{}", NULL), 415);
    assert_int_equal(status_of("POST", path, "Basic admin", js, "{", NULL), 400);
    assert_int_equal(status_of("POST", path, "Basic admin", js, "[]", NULL), 400);
    json_t *j = NULL;
    assert_int_equal(status_of("POST", path, "Basic admin", js, "{\"all\": true}", &j), 422);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(j, "fejl"), 0), "kode")),
        "UKENDT_FELT");
    json_decref(j);
    assert_int_equal(status_of("POST", path, "Basic admin", js, "{\"ids\": \"dtr-1\"}", NULL), 422);
    assert_int_equal(status_of("POST", path, "Basic admin", js, "{\"ids\": [\"x-1\"]}", NULL), 422);
    assert_int_equal(status_of("POST", path, "Basic admin", js, "{\"ids\": [\"dtr-7\"]}", &j), 202);
    assert_int_equal(json_array_size(json_object_get(j, "queued")), 0);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "unknown"), 0)),
                        "dtr-7");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(listing_needs_admin_or_support, setup, teardown),
        cmocka_unit_test_setup_teardown(replay_is_admin_only, setup, teardown),
        cmocka_unit_test_setup_teardown(replay_refuses_bad_bodies, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
