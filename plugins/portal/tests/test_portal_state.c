/*
 * test_portal_state.c -- the durable state: the atomic write, a corrupt
 * file stopping the start, a config that adds and removes subscribers, and
 * where a subscriber without a position starts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_host.h"
#include "portal.h"

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void atomic_write(void **state)
{
    (void)state;
    char *dir = fake_temp_dir();
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/f.json", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(portal_write_atomic(dir, path, "{\"a\":1}", 7), 0);
    assert_int_equal(portal_write_atomic(dir, path, "{\"a\":2}", 7), 0);
    json_t *j = json_load_file(path, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "a")), 2);
    json_decref(j);
    assert_int_not_equal(access(tmp, F_OK), 0); /* no temp file left */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char missing[4200];
    snprintf(missing, sizeof missing, "%s/no/such/dir/f.json", dir);
    assert_int_equal(portal_write_atomic(dir, missing, "x", 1), -1);
    fake_remove_tree(dir);
    free(dir);
}

static char *state_path(fake_host *h)
{
    static char path[4200];
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/portal", h->data_dir);
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/webhooks.json", dir);
    return path;
}

static void corrupt_file_stops_the_start(void **state)
{
    (void)state;
    fake_host *h = fake_host_new();
    write_text(state_path(h), "{\"format\": 1, \"queuedUpTo\": ");
    char err[512] = "";
    assert_null(fake_plugin_init(h, "{}", err, sizeof err));
    assert_non_null(strstr(err, "webhooks.json"));
    write_text(state_path(h), "{\"format\": 9, \"queuedUpTo\": 1, \"subscribers\": []}");
    assert_null(fake_plugin_init(h, "{}", err, sizeof err));
    assert_non_null(strstr(err, "format"));
    fake_host_free(h);
}

static json_t *list(fake_host *h)
{
    static const char *const admin[] = {"Authorization", "Basic admin", NULL};
    fake_response *r = fake_call(h, "GET", "/v1/portal/webhooks", admin, NULL);
    assert_int_equal(r->status, 200);
    json_t *j = json_incref(r->json);
    fake_response_free(r);
    return j;
}

static void subscribers_added_and_removed(void **state)
{
    (void)state;
    fake_host *h = fake_host_new();
    write_text(state_path(h),
               "{\"format\": 1, \"queuedUpTo\": 7, \"subscribers\": ["
               "{\"url\": \"http://127.0.0.1:1/a\", \"position\": 5, \"parked\": ["
               "{\"sekvensnummer\": 3, \"operation\": \"oprettet\", \"entitet\": "
               "\"daginstitution\", \"nummer\": \"G00001\", \"attempts\": 7, \"lastError\": "
               "\"HTTP status 500\", \"parkedAt\": 1700000000, \"replay\": false}]},"
               "{\"url\": \"http://127.0.0.1:1/c\", \"position\": 2, \"parked\": []}]}");
    char err[512] = "";
    void *p = fake_plugin_init(h,
                               "{\"webhooks\": [{\"url\": \"http://127.0.0.1:1/a\"}, "
                               "{\"url\": \"http://127.0.0.1:1/b\"}], \"retry_ms\": [600000]}",
                               err, sizeof err);
    assert_non_null(p);
    assert_true(h->warnings >= 1); /* c is dropped, and says so */
    json_t *j = list(h);
    json_t *a = json_array_get(json_object_get(j, "subscribers"), 0);
    json_t *b = json_array_get(json_object_get(j, "subscribers"), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "queuedUpTo")), 7);
    assert_int_equal(json_integer_value(json_object_get(a, "position")), 5);
    assert_int_equal(json_integer_value(json_object_get(a, "pending")), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(a, "parked"), 0), "id")),
        "dtr-3");
    assert_int_equal(json_integer_value(json_object_get(b, "position")), 7); /* new: from now */
    json_decref(j);
    fake_plugin_stop_free(h, p);
    fake_host_free(h);
}

/* Without a position a subscriber starts at the first event the feed
 * hands over (the feed starts at "fra", or after the newest). */
static void unplaced_subscriber_starts_at_first_event(void **state)
{
    (void)state;
    fake_host *h = fake_host_new();
    char err[512] = "";
    void *p = fake_plugin_init(
        h,
        "{\"webhooks\": [{\"url\": \"http://127.0.0.1:1/a\"}], \"retry_ms\": [600000], \"fra\": 3}",
        err, sizeof err);
    assert_non_null(p);
    assert_int_equal(h->start_at, 3);
    assert_int_equal(fake_plugin_start(h, p), 0);
    for (int i = 0; i < 4; i++)
        fake_add_event(h, "oprettet", "daginstitution", "G00001");
    fake_consume(h, p, 3, 4);
    json_t *j = list(h);
    json_t *a = json_array_get(json_object_get(j, "subscribers"), 0);
    assert_int_equal(json_integer_value(json_object_get(a, "position")), 2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "inFlight"), "id")),
                        "dtr-3");
    json_decref(j);
    fake_plugin_stop_free(h, p);
    fake_host_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(atomic_write),
        cmocka_unit_test(corrupt_file_stops_the_start),
        cmocka_unit_test(subscribers_added_and_removed),
        cmocka_unit_test(unplaced_subscriber_starts_at_first_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
