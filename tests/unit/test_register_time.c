/*
 * test_register_time.c -- Copenhagen days from UNIX time (summer-time
 * boundaries, midnight), status derivation and the timed changes.
 */
#include "test_register_fixture.h"

static void check_day(int64_t t, const char *want)
{
    char out[11];
    reg_day_of(t, out);
    assert_string_equal(out, want);
}

static void test_day_of_midnight_winter(void **state)
{
    (void)state;
    /* 2026-01-14T23:00:00Z is midnight in Copenhagen (CET, UTC+1). */
    check_day(1768431600 - 1, "2026-01-14");
    check_day(1768431600, "2026-01-15");
    check_day(0, "1970-01-01");
    check_day(-3600, "1970-01-01");
    check_day(-3601, "1969-12-31");
}

static void test_day_of_midnight_summer(void **state)
{
    (void)state;
    /* 2026-06-14T22:00:00Z is midnight in Copenhagen (CEST, UTC+2). */
    check_day(1781474400 - 1, "2026-06-14");
    check_day(1781474400, "2026-06-15");
    check_day(1781474400 + 3600, "2026-06-15");
}

static void test_day_of_spring_forward(void **state)
{
    (void)state;
    /* 2026-03-29 is the last Sunday of March: CEST from 01:00 UTC. */
    const int64_t switch_at = 1774746000;    /* 2026-03-29T01:00:00Z */
    check_day(switch_at - 60, "2026-03-29"); /* 00:59Z = 01:59 CET */
    check_day(switch_at, "2026-03-29");      /* 01:00Z = 03:00 CEST */
    /* Midnight before the switch: 2026-03-28T23:00Z (CET). */
    check_day(switch_at - 2 * 3600 - 1, "2026-03-28");
    check_day(switch_at - 2 * 3600, "2026-03-29");
    /* The next midnight is 22:00Z (CEST). */
    check_day(switch_at + 21 * 3600 - 1, "2026-03-29");
    check_day(switch_at + 21 * 3600, "2026-03-30");
}

static void test_day_of_fall_back(void **state)
{
    (void)state;
    /* 2026-10-25 is the last Sunday of October: CET from 01:00 UTC. */
    const int64_t switch_at = 1792890000; /* 2026-10-25T01:00:00Z */
    /* Midnight 25 Oct is 2026-10-24T22:00Z (still CEST). */
    check_day(switch_at - 3 * 3600 - 1, "2026-10-24");
    check_day(switch_at - 3 * 3600, "2026-10-25");
    /* 22:59Z on 25 Oct is 23:59 CET; 23:00Z is 26 Oct. */
    check_day(switch_at + 22 * 3600 - 1, "2026-10-25");
    check_day(switch_at + 22 * 3600, "2026-10-26");
    /* Just before the switch, 22:30Z on 24 Oct is 00:30 CEST on 25 Oct. */
    check_day(switch_at - 2 * 3600 - 1800, "2026-10-25");
}

static void test_day_of_other_years(void **state)
{
    (void)state;
    /* 2024-03-31 (last Sunday) 00:30Z = 01:30 CET; 2024-02-29 leap day. */
    check_day(1711845000, "2024-03-31");
    check_day(1709161200, "2024-02-29"); /* 2024-02-28T23:00:00Z */
    /* New year: 2025-12-31T23:00:00Z is 2026-01-01 00:00 CET. */
    check_day(1767222000, "2026-01-01");
    check_day(1767222000 - 1, "2025-12-31");
}

static void test_status_and_in_effect(void **state)
{
    (void)state;
    json_t *r = json_pack("{s:s, s:s}", "virkningFra", "2026-06-10", "virkningTil", "2026-06-20");
    assert_string_equal(reg_status(r, "2026-06-09"), "kommende");
    assert_string_equal(reg_status(r, "2026-06-10"), "aktiv");
    assert_string_equal(reg_status(r, "2026-06-19"), "aktiv");
    assert_string_equal(reg_status(r, "2026-06-20"), "nedlagt");
    assert_false(reg_in_effect(r, "2026-06-09"));
    assert_true(reg_in_effect(r, "2026-06-10"));
    assert_true(reg_in_effect(r, "2026-06-19"));
    assert_false(reg_in_effect(r, "2026-06-20"));
    json_object_set_new(r, "virkningTil", json_null());
    assert_string_equal(reg_status(r, "2099-01-01"), "aktiv");
    json_decref(r);
}

static json_t *timed_record(const char *fra, const char *til, const char *opdateret)
{
    return json_pack("{s:s, s:s, s:s?, s:i, s:s}", "nummer", "G00007", "virkningFra", fra,
                     "virkningTil", til, "version", 3, "opdateret", opdateret);
}

static void test_timed_close_arrives(void **state)
{
    (void)state;
    /* Closed in the future on 2026-06-01: nothing until 2026-06-20. */
    json_t *r = timed_record("2020-01-01", "2026-06-20", "2026-06-01T08:00:00Z");
    reg_change ch;
    assert_false(reg_timed_change(r, REG_ANVISNINGSENHED, "2026-06-18", "2026-06-19",
                                  "2026-06-19T00:00:05Z", &ch));
    assert_true(reg_timed_change(r, REG_ANVISNINGSENHED, "2026-06-19", "2026-06-20",
                                 "2026-06-19T22:00:05Z", &ch));
    assert_string_equal(ch.operation, "nedlagt");
    assert_string_equal(ch.nummer, "G00007");
    assert_int_equal(ch.level, REG_ANVISNINGSENHED);
    assert_int_equal(json_integer_value(json_object_get(ch.after, "version")), 4);
    assert_int_equal(json_integer_value(json_object_get(ch.before, "version")), 3);
    assert_string_equal(json_string_value(json_object_get(ch.after, "opdateret")),
                        "2026-06-19T22:00:05Z");
    assert_string_equal(reg_status(ch.after, "2026-06-20"), "nedlagt");
    /* Once written, it is not due again, whatever the last check was. */
    reg_change again;
    assert_false(reg_timed_change(ch.after, REG_ANVISNINGSENHED, NULL, "2026-06-21",
                                  "2026-06-21T10:00:00Z", &again));
    reg_change_clear(&ch);
    assert_null(ch.after);
    /* A server that was down for days still makes the change once. */
    assert_true(reg_timed_change(r, REG_ANVISNINGSENHED, "2026-06-10", "2026-06-25",
                                 "2026-06-25T10:00:00Z", &ch));
    assert_string_equal(ch.operation, "nedlagt");
    reg_change_clear(&ch);
    json_decref(r);
}

static void test_timed_start_arrives(void **state)
{
    (void)state;
    json_t *r = timed_record("2026-07-01", NULL, "2026-06-15T10:00:00Z");
    reg_change ch;
    assert_false(reg_timed_change(r, REG_DAGINSTITUTION, "2026-06-29", "2026-06-30",
                                  "2026-06-30T10:00:00Z", &ch));
    assert_true(reg_timed_change(r, REG_DAGINSTITUTION, "2026-06-30", "2026-07-01",
                                 "2026-06-30T22:00:30Z", &ch));
    assert_string_equal(ch.operation, "aendret");
    assert_string_equal(reg_status(ch.before, "2026-06-30"), "kommende");
    assert_string_equal(reg_status(ch.after, "2026-07-01"), "aktiv");
    assert_int_equal(json_integer_value(json_object_get(ch.after, "version")), 4);
    reg_change_clear(&ch);
    /* The check of the same day a minute later finds nothing. */
    assert_false(reg_timed_change(r, REG_DAGINSTITUTION, "2026-07-01", "2026-07-01",
                                  "2026-06-30T22:01:30Z", &ch));
    json_decref(r);
}

static void test_timed_nothing_for_past_dates(void **state)
{
    (void)state;
    /* Created with a past virkningFra, closed with a date <= today: the
     * version written then already says so. */
    json_t *r = timed_record("2019-08-30", "2026-06-15", "2026-06-15T09:00:00Z");
    reg_change ch;
    assert_false(
        reg_timed_change(r, REG_ANVISNINGSENHED, NULL, "2026-06-15", "2026-06-15T10:00:00Z", &ch));
    assert_false(reg_timed_change(r, REG_ANVISNINGSENHED, "2026-06-14", "2026-06-16",
                                  "2026-06-16T10:00:00Z", &ch));
    json_decref(r);
    /* Both dates arrived since the last version: one change, nedlagt. */
    r = timed_record("2026-06-16", "2026-06-18", "2026-06-10T09:00:00Z");
    assert_true(reg_timed_change(r, REG_ALTERNATIV_ADRESSE, "2026-06-10", "2026-06-20",
                                 "2026-06-20T10:00:00Z", &ch));
    assert_string_equal(ch.operation, "nedlagt");
    reg_change_clear(&ch);
    json_decref(r);
}

static void test_opdateret_in_copenhagen_time(void **state)
{
    (void)state;
    /* Written 2026-06-19T22:30Z, which is 2026-06-20 00:30 in Copenhagen:
     * a close on 2026-06-20 was already in force when written. */
    json_t *r = timed_record("2020-01-01", "2026-06-20", "2026-06-19T22:30:00Z");
    reg_change ch;
    assert_false(
        reg_timed_change(r, REG_ANVISNINGSENHED, NULL, "2026-06-20", "2026-06-20T10:00:00Z", &ch));
    json_decref(r);
    r = timed_record("2020-01-01", "2026-06-20", "2026-06-19T21:30:00Z");
    assert_true(
        reg_timed_change(r, REG_ANVISNINGSENHED, NULL, "2026-06-20", "2026-06-20T10:00:00Z", &ch));
    reg_change_clear(&ch);
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_day_of_midnight_winter),
        cmocka_unit_test(test_day_of_midnight_summer),
        cmocka_unit_test(test_day_of_spring_forward),
        cmocka_unit_test(test_day_of_fall_back),
        cmocka_unit_test(test_day_of_other_years),
        cmocka_unit_test(test_status_and_in_effect),
        cmocka_unit_test(test_timed_close_arrives),
        cmocka_unit_test(test_timed_start_arrives),
        cmocka_unit_test(test_timed_nothing_for_past_dates),
        cmocka_unit_test(test_opdateret_in_copenhagen_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
