/*
 * test_plugin_loader.c -- the loader with real test plugins
 * (the .so files of tests/plugins/): every refusal gives its exact reason, a good plugin
 * goes through init, start, stop and free, and a set is freed only when
 * nothing of it is in flight.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "plugin/internal.h"

typedef struct fixture {
    uv_loop_t loop;
    ops_log *log;
    plug_registry *reg;
    int sets_gone;
} fixture;

static const char *plugin_dir(void)
{
    const char *d = getenv("DTR_TEST_PLUGIN_DIR");
    return d ? d : "tests/plugins";
}

static const char *plugin_path(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s.so", plugin_dir(), name);
    return path;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    uv_loop_init(&f->loop);
    f->log = ops_log_new(2, OPS_LOG_WARN);
    f->reg = plug_registry_new(&f->loop, f->log, "/tmp");
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

static void set_gone(void *udata)
{
    fixture *f = udata;
    f->sets_gone++;
}

/* Retires set and runs the loop until it is gone. */
static void retire_and_wait(fixture *f, plug_set *set)
{
    int before = f->sets_gone;
    plug_set_retire(set, set_gone, f);
    while (f->sets_gone == before)
        uv_run(&f->loop, UV_RUN_ONCE);
}

/* Loads one plugin into a fresh set and expects the refusal want. */
static void expect_refusal(fixture *f, const char *name, const char *path, const char *config_json,
                           const char *want)
{
    json_t *config = config_json ? json_loads(config_json, 0, NULL) : NULL;
    plug_set *set = plug_set_new(f->reg);
    char err[1024] = "";
    dtr_status st = plug_set_add(set, name, path, config, err, sizeof err);
    json_decref(config);
    assert_int_equal(st, DTR_ERROR);
    if (strcmp(err, want) != 0) fail_msg("%s\n  got:  %s\n  want: %s", name, err, want);
    retire_and_wait(f, set);
}

static void test_missing_file(void **state)
{
    fixture *f = *state;
    char want[8400];
    snprintf(want, sizeof want, "plugin \"ghost\": cannot open %s: No such file or directory",
             plugin_path("ghost"));
    expect_refusal(f, "ghost", plugin_path("ghost"), NULL, want);
}

static void test_not_a_shared_object(void **state)
{
    fixture *f = *state;
    char path[] = "/tmp/dtr-test-notso-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not ELF", 7), 7);
    close(fd);
    plug_set *set = plug_set_new(f->reg);
    char err[1024];
    assert_int_equal(plug_set_add(set, "junk", path, NULL, err, sizeof err), DTR_ERROR);
    char want[200];
    snprintf(want, sizeof want, "plugin \"junk\": cannot load %s: ", path);
    if (strncmp(err, want, strlen(want)) != 0) fail_msg("got: %s", err);
    retire_and_wait(f, set);
    unlink(path);
}

static void test_no_symbol(void **state)
{
    fixture *f = *state;
    char want[8400];
    snprintf(want, sizeof want,
             "plugin \"no_symbol\": %s exports no \"%s\" symbol (not a dtr plugin, or "
             "built with it hidden)",
             plugin_path("no_symbol"), DTR_PLUGIN_SYMBOL);
    expect_refusal(f, "no_symbol", plugin_path("no_symbol"), NULL, want);
}

static void test_abi_major(void **state)
{
    fixture *f = *state;
    char want[512];
    snprintf(want, sizeof want,
             "plugin \"abi_major0\": built for plugin ABI 0.9, but this host has ABI %d.%d (the "
             "major versions must be equal)",
             DTR_ABI_MAJOR, DTR_ABI_MINOR);
    expect_refusal(f, "abi_major0", plugin_path("abi_major0"), NULL, want);
    snprintf(want, sizeof want,
             "plugin \"abi_major3\": built for plugin ABI 3.0, but this host has ABI %d.%d (the "
             "major versions must be equal)",
             DTR_ABI_MAJOR, DTR_ABI_MINOR);
    expect_refusal(f, "abi_major3", plugin_path("abi_major3"), NULL, want);
}

static void test_abi_minor_newer(void **state)
{
    fixture *f = *state;
    char want[512];
    snprintf(want, sizeof want,
             "plugin \"abi_minor_newer\": built for plugin ABI %d.%d, newer than this host's ABI "
             "%d.%d",
             DTR_ABI_MAJOR, DTR_ABI_MINOR + 1, DTR_ABI_MAJOR, DTR_ABI_MINOR);
    expect_refusal(f, "abi_minor_newer", plugin_path("abi_minor_newer"), NULL, want);
}

/* A plugin built for 2.0 (an older minor) loads and starts on this host. */
static void test_abi_minor_older_runs(void **state)
{
    fixture *f = *state;
    plug_set *set = plug_set_new(f->reg);
    char err[1024] = "";
    assert_int_equal(
        plug_set_add(set, "abi_minor0", plugin_path("abi_minor0"), NULL, err, sizeof err), DTR_OK);
    assert_int_equal(plug_set_start(set, err, sizeof err), DTR_OK);
    retire_and_wait(f, set);
}

static void test_struct_too_small(void **state)
{
    fixture *f = *state;
    char want[512];
    snprintf(want, sizeof want,
             "plugin \"struct_too_small\": its descriptor is %zu bytes, smaller than the %zu "
             "bytes of ABI %d.%d",
             offsetof(dtr_plugin_descriptor, init), sizeof(dtr_plugin_descriptor), DTR_ABI_MAJOR,
             DTR_ABI_MINOR);
    expect_refusal(f, "struct_too_small", plugin_path("struct_too_small"), NULL, want);
}

/* A plugin built for ABI 1.x is refused with a message that says why a
 * rebuild is not enough (2.0 changed identities, commands and statuses). */
static void test_v1_refused(void **state)
{
    fixture *f = *state;
    char want[512];
    snprintf(want, sizeof want,
             "plugin \"abi_major1\": built for plugin ABI 1.4, but this host has ABI %d.%d: ABI "
             "2.0 changed identities, commands and statuses, so a 1.x plugin must be moved over "
             "and rebuilt (see the changelog in dtr/plugin.h)",
             DTR_ABI_MAJOR, DTR_ABI_MINOR);
    expect_refusal(f, "abi_major1", plugin_path("abi_major1"), NULL, want);
}

static void test_wrong_name(void **state)
{
    fixture *f = *state;
    char want[8400];
    snprintf(want, sizeof want,
             "plugin \"wrong_name\": %s calls itself \"somebody_else\"; the config entry and the "
             "descriptor must use the same name",
             plugin_path("wrong_name"));
    expect_refusal(f, "wrong_name", plugin_path("wrong_name"), NULL, want);
}

static void test_config_refused(void **state)
{
    fixture *f = *state;
    char path[4096];
    snprintf(path, sizeof path, "%s", plugin_path("refuses_config"));
    expect_refusal(f, "refuses_config", path, NULL,
                   "plugin \"refuses_config\" refused its config: vendor_url: missing (the "
                   "vendor's base URL)");
    expect_refusal(f, "refuses_config", path, "{\"vendor_url\": 7}",
                   "plugin \"refuses_config\" refused its config: vendor_url: expected a string");
    expect_refusal(f, "refuses_config", path, "{\"vendor_url\": \"http://x\", \"extra\": 1}",
                   "plugin \"refuses_config\" refused its config: extra: unknown key");
    expect_refusal(f, "good", plugin_path("good"), "{\"greeting\": 5}",
                   "plugin \"good\" refused its config: greeting: expected a string");

    /* the same plugin (code already loaded) accepts a good config */
    json_t *config = json_pack("{s:s}", "vendor_url", "https://vendor.example");
    plug_set *set = plug_set_new(f->reg);
    char err[1024];
    assert_int_equal(plug_set_add(set, "refuses_config", path, config, err, sizeof err), DTR_OK);
    assert_int_equal(plug_set_start(set, err, sizeof err), DTR_OK);
    json_decref(config);
    retire_and_wait(f, set);
}

/* A plugin that ignores route_add's refusal still stops the start; the
 * message names both plugins. */
static void test_route_clash(void **state)
{
    fixture *f = *state;
    plug_set *set = plug_set_new(f->reg);
    char err[1024];
    assert_int_equal(plug_set_add(set, "good", plugin_path("good"), NULL, err, sizeof err), DTR_OK);
    assert_int_equal(
        plug_set_add(set, "route_clash", plugin_path("route_clash"), NULL, err, sizeof err),
        DTR_ERROR);
    assert_string_equal(err, "plugin \"route_clash\": route GET /good/greeting of plugin "
                             "'route_clash' duplicates GET /good/greeting of plugin 'good'");
    retire_and_wait(f, set);
}

/* A plugin route that clashes with the core's is refused too. */
static dtr_status dummy_route(dtr_request *req, void *udata)
{
    (void)req, (void)udata;
    return DTR_ERROR;
}

static void test_core_route_clash(void **state)
{
    fixture *f = *state;
    plug_set *set = plug_set_new(f->reg);
    char err[1024];
    assert_int_equal(
        plug_set_add_core_route(set, "GET", "/good/info", dummy_route, NULL, err, sizeof err),
        DTR_OK);
    assert_int_equal(plug_set_add(set, "good", plugin_path("good"), NULL, err, sizeof err),
                     DTR_ERROR);
    if (!strstr(err, "plugin \"good\"") || !strstr(err, "the core")) fail_msg("got: %s", err);
    retire_and_wait(f, set);
}

static void test_start_fails(void **state)
{
    fixture *f = *state;
    plug_set *set = plug_set_new(f->reg);
    char err[1024];
    assert_int_equal(plug_set_add(set, "good", plugin_path("good"), NULL, err, sizeof err), DTR_OK);
    assert_int_equal(
        plug_set_add(set, "start_fails", plugin_path("start_fails"), NULL, err, sizeof err),
        DTR_OK);
    assert_int_equal(plug_set_count(set), 2);
    assert_int_equal(plug_set_start(set, err, sizeof err), DTR_ERROR);
    assert_string_equal(err, "plugin \"start_fails\" failed to start: cannot reach the vendor at "
                             "http://127.0.0.1:9/ (connection refused)");
    assert_false(plug_set_started(set));
    /* good started and is stopped; start_fails is only freed (its timer
     * closed by the host: the leak checker would see it otherwise) */
    assert_true(set->instances[0]->started);
    assert_false(set->instances[1]->started);
    assert_int_equal(plug_registry_live_instances(f->reg), 2);
    retire_and_wait(f, set);
    assert_int_equal(plug_registry_live_instances(f->reg), 0);
}

/* The whole life of a good instance; then a second generation reuses the
 * loaded code. */
static void test_good_lifecycle(void **state)
{
    fixture *f = *state;
    for (int generation = 0; generation < 2; generation++) {
        plug_set *set = plug_set_new(f->reg);
        char err[1024];
        json_t *config = json_pack("{s:s, s:i}", "greeting", "hallo", "tick_ms", 1);
        assert_int_equal(plug_set_add(set, "good", plugin_path("good"), config, err, sizeof err),
                         DTR_OK);
        json_decref(config);
        dtr_plugin *p = set->instances[0];
        assert_string_equal(plug_name(p), "good");
        assert_true(p->initialized);
        assert_non_null(p->state);
        assert_int_equal(plug_set_start(set, err, sizeof err), DTR_OK);
        assert_true(plug_set_started(set));
        assert_non_null(p->timers); /* its tick timer */
        /* routes are closed after start */
        const dtr_host_api *api = plug_registry_api(f->reg);
        assert_int_equal(api->route_add(p, "GET", "/late", 0, dummy_route, NULL, err, sizeof err),
                         DTR_ERROR);
        assert_string_equal(err, "routes can only be added during init or start");
        uv_run(&f->loop, UV_RUN_NOWAIT);
        plug_set_stop(set);
        assert_true(p->stopped);
        assert_null(p->timers); /* the plugin stopped its own timer */
        retire_and_wait(f, set);
        assert_int_equal(plug_registry_live_instances(f->reg), 0);
    }
    size_t modules = 0;
    for (plug_module *m = f->reg->modules; m; m = m->next)
        modules++;
    assert_int_equal(modules, 1);
}

static void count_release(dtr_plugin *p, void *udata)
{
    int *released = udata;
    assert_non_null(plug_state(p)); /* called before the plugin's free */
    assert_int_equal(*(int *)plug_instance_udata(p), 7);
    (*released)++;
}

/* The host's pointers: one per registry, one per instance, and the hook
 * that runs before an instance is freed. */
static void test_host_pointers_and_release_hook(void **state)
{
    fixture *f = *state;
    int released = 0, seven = 7, host_thing = 0;
    plug_registry_set_udata(f->reg, &host_thing);
    plug_registry_set_release_hook(f->reg, count_release, &released);
    plug_set *set = plug_set_new(f->reg);
    char err[1024];
    assert_int_equal(plug_set_add(set, "good", plugin_path("good"), NULL, err, sizeof err), DTR_OK);
    dtr_plugin *p = plug_set_instance(set, 0);
    assert_ptr_equal(plug_host_udata(p), &host_thing);
    assert_null(plug_instance_udata(p));
    plug_set_instance_udata(p, &seven);
    assert_int_equal(plug_set_start(set, err, sizeof err), DTR_OK);
    assert_string_equal(plug_descriptor(p)->name, "good");
    retire_and_wait(f, set);
    assert_int_equal(released, 1);
}

/* A retired instance with a request in flight is freed only when the
 * request ends (the router's in-flight callback brings the count down). */
static void test_release_waits_for_requests(void **state)
{
    fixture *f = *state;
    plug_set *set = plug_set_new(f->reg);
    char err[1024];
    assert_int_equal(plug_set_add(set, "good", plugin_path("good"), NULL, err, sizeof err), DTR_OK);
    assert_int_equal(plug_set_start(set, err, sizeof err), DTR_OK);
    dtr_plugin *p = set->instances[0];
    p->requests = 1; /* as the router does when a request of p starts */
    plug_set_retire(set, set_gone, f);
    for (int i = 0; i < 5; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(f->sets_gone, 0);
    assert_false(p->released);
    assert_int_equal(plug_inflight(p), 1);
    p->requests = 0;
    plug_instance_idle_check(p);
    while (f->sets_gone == 0)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(plug_registry_live_instances(f->reg), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_shared_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_symbol, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abi_major, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abi_minor_newer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abi_minor_older_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_struct_too_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v1_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_clash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_core_route_clash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_good_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_waits_for_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_pointers_and_release_hook, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
