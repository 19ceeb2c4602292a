/*
 * test_portal_window.c -- events as webhooks see them (body, id) and the
 * bounded window of recent events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "portal.h"

static portal_event ev_of(int64_t seq)
{
    portal_event ev = {.seq = seq};
    strcpy(ev.operation, "aendret");
    strcpy(ev.entitet, "anvisningsenhed");
    snprintf(ev.nummer, sizeof ev.nummer, "G%05d", (int)seq);
    return ev;
}

static void body_and_id(void **state)
{
    (void)state;
    portal_event ev = ev_of(12);
    char *body = portal_event_body(&ev);
    assert_string_equal(body, "{\"sekvensnummer\":12,\"operation\":\"aendret\",\"entitet\":"
                              "\"anvisningsenhed\",\"nummer\":\"G00012\"}");
    free(body);
    char id[32];
    portal_event_id(12, id);
    assert_string_equal(id, "dtr-12");
    assert_int_equal(portal_event_id_parse("dtr-12"), 12);
    assert_int_equal(portal_event_id_parse("dtr-0"), 0);
    assert_int_equal(portal_event_id_parse("dtr-012"), 0);
    assert_int_equal(portal_event_id_parse("dtr-1x"), 0);
    assert_int_equal(portal_event_id_parse("msg-1"), 0);
    assert_int_equal(portal_event_id_parse("dtr-99999999999999999999"), 0);
    assert_int_equal(portal_event_id_parse(NULL), 0);
}

static void from_json(void **state)
{
    (void)state;
    portal_event ev;
    json_t *j = json_pack("{s:i, s:s, s:s, s:s, s:{}}", "sekvensnummer", 3, "operation", "oprettet",
                          "entitet", "alternativAdresse", "nummer", "G00003", "data");
    assert_int_equal(portal_event_from_json(j, &ev), 0);
    assert_int_equal(ev.seq, 3);
    assert_string_equal(ev.entitet, "alternativAdresse");
    json_object_del(j, "nummer");
    assert_int_equal(portal_event_from_json(j, &ev), -1);
    json_decref(j);
}

static void window_bounded(void **state)
{
    (void)state;
    portal_window w;
    assert_int_equal(portal_window_init(&w, 3), 0);
    assert_null(portal_window_get(&w, 1));
    for (int64_t s = 1; s <= 5; s++) {
        portal_event ev = ev_of(s);
        portal_window_append(&w, &ev);
    }
    assert_null(portal_window_get(&w, 2)); /* dropped: the window holds 3 */
    for (int64_t s = 3; s <= 5; s++)
        assert_int_equal(portal_window_get(&w, s)->seq, s);
    assert_null(portal_window_get(&w, 6));
    portal_event gap = ev_of(9);
    portal_window_append(&w, &gap); /* not after 5: the window starts again */
    assert_null(portal_window_get(&w, 5));
    assert_int_equal(portal_window_get(&w, 9)->seq, 9);
    portal_window_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(body_and_id),
        cmocka_unit_test(from_json),
        cmocka_unit_test(window_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
