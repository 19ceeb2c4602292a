/*
 * test_plugin_host_api.c -- the host services of core/plugin/host_api.c,
 * called the way a plugin calls them, on an instance of the "good" test
 * plugin: the table's header, the work queue (work on a pool thread, done
 * on the loop, the instance kept alive while work is queued), timers
 * (repeating, stopped inside their callback, left running at free), the
 * loop, the data directory and the logger.
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
    plug_set *set;
    dtr_plugin *p; /* the good plugin's instance */
    const dtr_host_api *api;
    int sets_gone;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    uv_loop_init(&f->loop);
    f->log = ops_log_new(2, OPS_LOG_WARN);
    f->reg = plug_registry_new(&f->loop, f->log, "/var/lib/dtr-test");
    f->api = plug_registry_api(f->reg);
    f->set = plug_set_new(f->reg);
    const char *dir = getenv("DTR_TEST_PLUGIN_DIR");
    char path[4096], err[1024];
    snprintf(path, sizeof path, "%s/good.so", dir ? dir : "tests/plugins");
    if (plug_set_add(f->set, "good", path, NULL, err, sizeof err) != DTR_OK) fail_msg("%s", err);
    if (plug_set_start(f->set, err, sizeof err) != DTR_OK) fail_msg("%s", err);
    f->p = f->set->instances[0];
    *state = f;
    return 0;
}

static void set_gone(void *udata)
{
    fixture *f = udata;
    f->sets_gone++;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->set) {
        plug_set_retire(f->set, set_gone, f);
        while (!f->sets_gone)
            uv_run(&f->loop, UV_RUN_ONCE);
    }
    assert_int_equal(plug_registry_live_instances(f->reg), 0);
    plug_registry_free(f->reg);
    ops_log_free(f->log);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
    return 0;
}

static void test_table_header(void **state)
{
    fixture *f = *state;
    assert_int_equal(f->api->abi_major, DTR_ABI_MAJOR);
    assert_int_equal(f->api->abi_minor, DTR_ABI_MINOR);
    assert_int_equal(f->api->struct_size, sizeof(dtr_host_api));
    /* every function of the loader and of net is there (code_text is the
     * host's, filled by host.c) */
    assert_non_null(f->api->log);
    assert_non_null(f->api->route_add);
    assert_non_null(f->api->req_method);
    assert_non_null(f->api->respond);
    assert_non_null(f->api->respond_json);
    assert_non_null(f->api->stream_end);
    assert_non_null(f->api->work_submit);
    assert_non_null(f->api->timer_start);
    assert_non_null(f->api->timer_stop);
    assert_ptr_equal(f->api->loop(f->p), &f->loop);
    assert_string_equal(f->api->data_dir(f->p), "/var/lib/dtr-test");
    f->api->log(f->p, DTR_LOG_DEBUG, "below the level: dropped %d", 1);
    /* the editable table is the same table */
    assert_ptr_equal(plug_registry_api_edit(f->reg), f->api);
}

/* ---- work queue ------------------------------------------------------------ */

typedef struct work_probe {
    uv_thread_t loop_thread;
    uv_sem_t go; /* the work waits for it */
    int ran_on_pool;
    int done_on_loop;
    int done_status;
    int done_calls;
} work_probe;

static void probe_work(void *udata)
{
    work_probe *w = udata;
    uv_thread_t self = uv_thread_self();
    w->ran_on_pool = !uv_thread_equal(&self, &w->loop_thread);
    uv_sem_wait(&w->go);
}

static void probe_done(void *udata, int status)
{
    work_probe *w = udata;
    uv_thread_t self = uv_thread_self();
    w->done_on_loop = uv_thread_equal(&self, &w->loop_thread);
    w->done_status = status;
    w->done_calls++;
}

/* Work runs on the pool, done on the loop; a retired instance with work
 * queued is not freed until done has run. */
static void test_work_keeps_instance(void **state)
{
    fixture *f = *state;
    work_probe w = {.loop_thread = uv_thread_self()};
    uv_sem_init(&w.go, 0);
    assert_int_equal(f->api->work_submit(f->p, probe_work, probe_done, &w), DTR_OK);
    assert_int_equal(plug_inflight(f->p), 1);
    plug_set_retire(f->set, set_gone, f);
    for (int i = 0; i < 5; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_false(f->p->released);
    assert_int_equal(f->sets_gone, 0);
    uv_sem_post(&w.go);
    while (!f->sets_gone)
        uv_run(&f->loop, UV_RUN_ONCE);
    f->set = NULL;
    assert_int_equal(w.done_calls, 1);
    assert_int_equal(w.done_status, 0);
    assert_true(w.ran_on_pool);
    assert_true(w.done_on_loop);
    uv_sem_destroy(&w.go);
}

/* A command in flight counts as the instance's work (ABI 2.0): a retired
 * instance holding one is neither stopped-and-freed nor reaped until the
 * command's answer was delivered (plug_instance_drop), so a callback never
 * reaches a freed instance, not across a reload either. */
static void test_command_keeps_instance(void **state)
{
    fixture *f = *state;
    plug_instance_hold(f->p); /* what command_submit does */
    assert_int_equal(plug_inflight(f->p), 1);
    plug_set_retire(f->set, set_gone, f);
    for (int i = 0; i < 5; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_false(plug_instance_released(f->p));
    assert_int_equal(f->sets_gone, 0);
    plug_instance_drop(f->p); /* what the command's answer does, after the callback */
    while (!f->sets_gone)
        uv_run(&f->loop, UV_RUN_ONCE);
    f->set = NULL;
}

static void test_work_refused(void **state)
{
    fixture *f = *state;
    assert_int_equal(f->api->work_submit(f->p, NULL, probe_done, NULL), DTR_ERROR);
    assert_int_equal(f->api->work_submit(NULL, probe_work, probe_done, NULL), DTR_ERROR);
    assert_int_equal(plug_inflight(f->p), 0);
}

/* ---- timers ----------------------------------------------------------------- */

typedef struct timer_probe {
    const dtr_host_api *api;
    int fired;
    int stop_at; /* stops itself on this firing */
} timer_probe;

static void probe_tick(dtr_timer *t, void *udata)
{
    timer_probe *tp = udata;
    tp->fired++;
    if (tp->fired == tp->stop_at) tp->api->timer_stop(t);
}

static size_t count_timers(const dtr_plugin *p)
{
    size_t n = 0;
    for (const struct dtr_timer *t = p->timers; t; t = t->next)
        n++;
    return n;
}

static void test_timer_stops_itself(void **state)
{
    fixture *f = *state;
    size_t before = count_timers(f->p);
    timer_probe tp = {.api = f->api, .stop_at = 3};
    dtr_timer *t = f->api->timer_start(f->p, 1, 1, probe_tick, &tp);
    assert_non_null(t);
    assert_int_equal(count_timers(f->p), before + 1);
    while (tp.fired < 3)
        uv_run(&f->loop, UV_RUN_ONCE);
    for (int i = 0; i < 3; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(tp.fired, 3);
    assert_int_equal(count_timers(f->p), before);
}

static void test_one_shot_and_stop_order(void **state)
{
    fixture *f = *state;
    timer_probe a = {.api = f->api}, b = {.api = f->api}, c = {.api = f->api};
    dtr_timer *ta = f->api->timer_start(f->p, 0, 0, probe_tick, &a);
    dtr_timer *tb = f->api->timer_start(f->p, 100000, 0, probe_tick, &b);
    dtr_timer *tc = f->api->timer_start(f->p, 100000, 0, probe_tick, &c);
    assert_non_null(ta);
    while (!a.fired)
        uv_run(&f->loop, UV_RUN_ONCE);
    /* unlink from the middle, the head and the tail of the owner's list */
    f->api->timer_stop(tb);
    f->api->timer_stop(ta);
    f->api->timer_stop(tc);
    f->api->timer_stop(NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(a.fired, 1);
    assert_int_equal(b.fired + c.fired, 0);
}

/* Timers a plugin leaves running are closed when its instance is freed
 * (under ASan a leak would show). */
static void test_timer_left_running(void **state)
{
    fixture *f = *state;
    timer_probe tp = {.api = f->api};
    assert_non_null(f->api->timer_start(f->p, 100000, 100000, probe_tick, &tp));
    assert_non_null(f->api->timer_start(f->p, 100000, 0, probe_tick, &tp));
    plug_set_retire(f->set, set_gone, f);
    while (!f->sets_gone)
        uv_run(&f->loop, UV_RUN_ONCE);
    f->set = NULL;
    assert_int_equal(tp.fired, 0);
}

static void test_timer_refused(void **state)
{
    fixture *f = *state;
    assert_null(f->api->timer_start(f->p, 1, 0, NULL, NULL));
    assert_null(f->api->timer_start(NULL, 1, 0, probe_tick, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_table_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_work_keeps_instance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_keeps_instance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_work_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_stops_itself, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_shot_and_stop_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_left_running, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
