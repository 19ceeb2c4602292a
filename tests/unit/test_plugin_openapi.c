/*
 * test_plugin_openapi.c -- the OpenAPI descriptions of ABI 1.4
 * (core/plugin/openapi.c), called the way a plugin calls them, on real test
 * plugins: "good" (which describes GET /good/greeting in its init) and
 * "testroutes" (which describes nothing), plus the core's routes.
 *
 *   - a description of the instance's own routes is kept, and a second one
 *     adds and replaces per path and method;
 *   - one naming a route the instance did not register (unknown, another
 *     plugin's, the core's, the wrong method), or of the wrong shape, is
 *     refused with DTR_DECLINED naming the path and method, and nothing of
 *     it is kept;
 *   - after start (outside init and start) it is refused;
 *   - openapi_paths is the union of the core's and every instance's, and a
 *     copy;
 *   - a reload's new set answers with its own instances' descriptions, and
 *     the old set's go with it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plugin/internal.h"

typedef struct fixture {
    uv_loop_t loop;
    ops_log *log;
    plug_registry *reg;
    const dtr_host_api *api;
    int sets_gone;
} fixture;

static const char *plugin_path(const char *name)
{
    static char path[4096];
    const char *dir = getenv("DTR_TEST_PLUGIN_DIR");
    snprintf(path, sizeof path, "%s/%s.so", dir ? dir : "tests/plugins", name);
    return path;
}

static dtr_status core_handler(dtr_request *req, void *udata)
{
    (void)req, (void)udata;
    return DTR_OK;
}

/* A set as the host builds one, not yet started: the core's /healthz and a
 * core route no description knows, then good (with greeting) and
 * testroutes. */
static plug_set *set_new(fixture *f, const char *greeting)
{
    plug_set *set = plug_set_new(f->reg);
    char err[1024];
    assert_int_equal(
        plug_set_add_core_route(set, "GET", "/healthz", core_handler, NULL, err, sizeof err),
        DTR_OK);
    assert_int_equal(plug_set_add_core_route(set, "GET", "/core/undescribed", core_handler, NULL,
                                             err, sizeof err),
                     DTR_OK);
    json_t *config = json_pack("{s:s}", "greeting", greeting);
    if (plug_set_add(set, "good", plugin_path("good"), config, err, sizeof err) != DTR_OK)
        fail_msg("%s", err);
    json_decref(config);
    if (plug_set_add(set, "testroutes", plugin_path("testroutes"), NULL, err, sizeof err) != DTR_OK)
        fail_msg("%s", err);
    return set;
}

static void set_gone(void *udata)
{
    fixture *f = udata;
    f->sets_gone++;
}

static void retire_and_wait(fixture *f, plug_set *set)
{
    int before = f->sets_gone;
    plug_set_retire(set, set_gone, f);
    while (f->sets_gone == before)
        uv_run(&f->loop, UV_RUN_ONCE);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    uv_loop_init(&f->loop);
    f->log = ops_log_new(2, OPS_LOG_ERROR);
    f->reg = plug_registry_new(&f->loop, f->log, "/tmp");
    f->api = plug_registry_api(f->reg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    assert_int_equal(plug_registry_live_instances(f->reg), 0);
    plug_registry_free(f->reg);
    ops_log_free(f->log);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
    return 0;
}

/* An operation with a summary, as JSON: {"<path>": {"<method>": {...}}}. */
static json_t *one_op(const char *path, const char *method, const char *summary)
{
    return json_pack("{s:{s:{s:s, s:{s:{s:s}}}}}", path, method, "summary", summary, "responses",
                     "200", "description", "OK");
}

static const char *summary_of(const json_t *paths, const char *path, const char *method)
{
    return json_string_value(
        json_object_get(json_object_get(json_object_get(paths, path), method), "summary"));
}

/* Describes d (stolen) on p; returns the status and leaves the reason in err. */
static dtr_status describe(fixture *f, dtr_plugin *p, json_t *d, char *err, size_t errlen)
{
    err[0] = '\0';
    dtr_status st = f->api->openapi_describe(p, d, err, errlen);
    json_decref(d);
    return st;
}

static void test_table_has_the_functions(void **state)
{
    fixture *f = *state;
    assert_int_equal(f->api->abi_minor, DTR_ABI_MINOR);
    assert_true(f->api->struct_size >=
                offsetof(dtr_host_api, openapi_paths) + sizeof f->api->openapi_paths);
    assert_non_null(f->api->openapi_describe);
    assert_non_null(f->api->openapi_paths);
}

/* good's own description from its init, the core's /healthz from the
 * host's endpoints; the core route nobody describes is not there. */
static void test_init_and_core_descriptions(void **state)
{
    fixture *f = *state;
    plug_set *set = set_new(f, "hej");
    dtr_plugin *good = plug_set_instance(set, 0);
    json_t *all = f->api->openapi_paths(good);
    assert_non_null(all);
    assert_string_equal(summary_of(all, "/good/greeting", "get"), "Says hej");
    assert_non_null(json_object_get(json_object_get(all, "/healthz"), "get"));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(json_object_get(all, "/healthz"), "get"),
                                          "operationId")),
        "get_healthz");
    assert_null(json_object_get(all, "/core/undescribed"));
    assert_null(json_object_get(all, "/test/fixed")); /* testroutes describes nothing */
    assert_int_equal(json_object_size(all), 2);
    json_decref(all);
    retire_and_wait(f, set);
}

/* Own routes are accepted; a second call adds and replaces per path and
 * method, and keeps the rest. */
static void test_own_routes_accepted(void **state)
{
    fixture *f = *state;
    plug_set *set = set_new(f, "hej");
    dtr_plugin *good = plug_set_instance(set, 0);
    char err[512];
    json_t *d = one_op("/good/items/{id}", "get", "first");
    json_object_update_new(d, one_op("/good/work", "post", "work"));
    assert_int_equal(describe(f, good, d, err, sizeof err), DTR_OK);
    assert_int_equal(
        describe(f, good, one_op("/good/items/{id}", "get", "second"), err, sizeof err), DTR_OK);
    json_t *all = f->api->openapi_paths(good);
    assert_string_equal(summary_of(all, "/good/items/{id}", "get"), "second");
    assert_string_equal(summary_of(all, "/good/work", "post"), "work");
    assert_string_equal(summary_of(all, "/good/greeting", "get"), "Says hej");
    json_decref(all);
    /* the host kept a copy: changing the caller's object changes nothing */
    json_t *mine = one_op("/good/slow", "get", "slow");
    assert_int_equal(f->api->openapi_describe(good, mine, err, sizeof err), DTR_OK);
    json_object_set_new(json_object_get(json_object_get(mine, "/good/slow"), "get"), "summary",
                        json_string("changed"));
    json_decref(mine);
    all = f->api->openapi_paths(good);
    assert_string_equal(summary_of(all, "/good/slow", "get"), "slow");
    /* ... and the union is a copy too */
    json_object_clear(all);
    json_decref(all);
    all = f->api->openapi_paths(good);
    assert_string_equal(summary_of(all, "/good/slow", "get"), "slow");
    json_decref(all);
    /* the other instance describes its own */
    dtr_plugin *tr = plug_set_instance(set, 1);
    assert_int_equal(describe(f, tr, one_op("/test/fixed", "get", "fixed"), err, sizeof err),
                     DTR_OK);
    all = f->api->openapi_paths(good);
    assert_string_equal(summary_of(all, "/test/fixed", "get"), "fixed");
    json_decref(all);
    retire_and_wait(f, set);
}

/* Expects a refusal naming want, and nothing of it kept. */
static void expect_refused(fixture *f, dtr_plugin *p, json_t *d, const char *want)
{
    char err[512];
    json_t *before = f->api->openapi_paths(p);
    assert_int_equal(describe(f, p, d, err, sizeof err), DTR_DECLINED);
    if (!strstr(err, want)) fail_msg("the refusal \"%s\" does not name \"%s\"", err, want);
    json_t *after = f->api->openapi_paths(p);
    assert_true(json_equal(before, after));
    json_decref(before);
    json_decref(after);
}

static void test_refusals_keep_nothing(void **state)
{
    fixture *f = *state;
    plug_set *set = set_new(f, "hej");
    dtr_plugin *good = plug_set_instance(set, 0);
    /* a path nobody registered, next to one that is good's: neither kept */
    json_t *d = one_op("/good/work", "post", "work");
    json_object_update_new(d, one_op("/good/nope", "get", "nope"));
    expect_refused(f, good, d, "GET /good/nope");
    json_t *all = f->api->openapi_paths(good);
    assert_null(json_object_get(all, "/good/work"));
    json_decref(all);
    /* another plugin's route, and the core's */
    expect_refused(f, good, one_op("/test/fixed", "get", "x"), "plugin \"testroutes\"");
    expect_refused(f, good, one_op("/test/fixed", "get", "x"), "GET /test/fixed");
    expect_refused(f, good, one_op("/healthz", "get", "x"), "the core");
    /* the wrong method of an own path; a method in upper case; HEAD of a GET */
    expect_refused(f, good, one_op("/good/greeting", "post", "x"), "POST /good/greeting");
    expect_refused(f, good, one_op("/good/greeting", "GET", "x"), "\"GET\"");
    expect_refused(f, good, one_op("/good/greeting", "head", "x"), "HEAD /good/greeting");
    /* a path of another spelling than the pattern */
    expect_refused(f, good, one_op("/good/items/{nummer}", "get", "x"), "/good/items/{nummer}");
    /* shapes: not an object, a path item or operation that is not one, a
     * path-level key */
    expect_refused(f, good, json_pack("[s]", "/good/greeting"), "must be a JSON object");
    expect_refused(f, good, json_string("/good/greeting"), "must be a JSON object");
    expect_refused(f, good, NULL, "must be a JSON object");
    expect_refused(f, good, json_pack("{s:[]}", "/good/greeting"), "not an object");
    expect_refused(f, good, json_pack("{s:{}}", "/good/greeting"), "no operation");
    expect_refused(f, good, json_pack("{s:{s:s}}", "/good/greeting", "get", "text"),
                   "GET /good/greeting is not an object");
    expect_refused(f, good, json_pack("{s:{s:[]}}", "/good/greeting", "parameters"),
                   "\"parameters\"");
    /* the one description good gave in its init is still the only one */
    all = f->api->openapi_paths(good);
    assert_string_equal(summary_of(all, "/good/greeting", "get"), "Says hej");
    assert_int_equal(json_object_size(all), 2);
    json_decref(all);
    retire_and_wait(f, set);
}

/* After start, routes can no longer be described (nor added). */
static void test_outside_init_and_start(void **state)
{
    fixture *f = *state;
    plug_set *set = set_new(f, "hej");
    dtr_plugin *good = plug_set_instance(set, 0);
    char err[512];
    assert_int_equal(plug_set_start(set, err, sizeof err), DTR_OK);
    assert_int_equal(describe(f, good, one_op("/good/work", "post", "late"), err, sizeof err),
                     DTR_ERROR);
    assert_non_null(strstr(err, "during init or start"));
    json_t *all = f->api->openapi_paths(good);
    assert_null(json_object_get(all, "/good/work"));
    assert_string_equal(summary_of(all, "/good/greeting", "get"), "Says hej");
    json_decref(all);
    assert_int_equal(f->api->openapi_describe(NULL, NULL, err, sizeof err), DTR_ERROR);
    assert_null(f->api->openapi_paths(NULL));
    retire_and_wait(f, set);
}

/* A reload: the new set's instances answer with the new set's descriptions;
 * the old set's are freed with its instances (the sanitizers check). */
static void test_descriptions_follow_the_set(void **state)
{
    fixture *f = *state;
    char err[512];
    plug_set *old = set_new(f, "hej");
    assert_int_equal(describe(f, plug_set_instance(old, 0), one_op("/good/work", "post", "old"),
                              err, sizeof err),
                     DTR_OK);
    assert_int_equal(plug_set_start(old, err, sizeof err), DTR_OK);

    plug_set *fresh = set_new(f, "hallo");
    assert_int_equal(plug_set_start(fresh, err, sizeof err), DTR_OK);
    dtr_plugin *tr = plug_set_instance(fresh, 1);
    json_t *all = f->api->openapi_paths(tr);
    assert_string_equal(summary_of(all, "/good/greeting", "get"), "Says hallo");
    assert_null(json_object_get(all, "/good/work"));
    json_decref(all);
    all = f->api->openapi_paths(plug_set_instance(old, 1));
    assert_string_equal(summary_of(all, "/good/greeting", "get"), "Says hej");
    assert_string_equal(summary_of(all, "/good/work", "post"), "old");
    json_decref(all);

    retire_and_wait(f, old);
    all = f->api->openapi_paths(tr);
    assert_string_equal(summary_of(all, "/good/greeting", "get"), "Says hallo");
    assert_non_null(json_object_get(all, "/healthz"));
    json_decref(all);
    retire_and_wait(f, fresh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_table_has_the_functions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_and_core_descriptions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_own_routes_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_keep_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outside_init_and_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_descriptions_follow_the_set, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
