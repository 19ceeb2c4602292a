/*
 * test_store_idem.c -- Idempotency-Key: the first answer again for the same
 * bytes (committed, in flight, after a restart), 422 for other bytes, keys
 * per client, 24 hours.
 */
#include "test_store_fixture.h"

static int setup(void **state)
{
    tfix *f = fix_new("test_store_idem");
    fix_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fix_free(*state);
    return 0;
}

/* Submits a create of a daginstitution from JSON text with an idempotency
 * key; the answer lands in *a once the loop runs. */
static void submit_keyed(tfix *f, const char *client, const char *key, const char *text, answer *a)
{
    json_t *body = json_loads(text, 0, NULL);
    assert_non_null(body);
    reg_actor actor = actor_support();
    actor.id = client;
    store_command cmd = {.op = REG_OP_CREATE,
                         .level = REG_DAGINSTITUTION,
                         .body = body,
                         .actor = actor,
                         .idem_client = client,
                         .idem_key = key,
                         .idem_body = text,
                         .idem_body_len = strlen(text)};
    assert_int_equal(store_submit(f->s, &cmd, answer_cb, a), 0);
    json_decref(body);
}

/* store_idem_get for a create of a daginstitution with body text. */
static int idem_get(tfix *f, const char *client, const char *key, const char *text, json_t **resp,
                    bool *same)
{
    store_command cmd = {.op = REG_OP_CREATE,
                         .level = REG_DAGINSTITUTION,
                         .idem_client = client,
                         .idem_key = key,
                         .idem_body = text,
                         .idem_body_len = strlen(text)};
    return store_idem_get(f->r, &cmd, resp, same);
}

/* Runs one statement on a connection of its own (as another process would). */
static void exec_other(tfix *f, const char *sql)
{
    sql_conn *db = fix_sql_open(f, false);
    assert_int_equal(sql_exec(db, sql), SQL_OK);
    sql_close(db);
}

static const char body_a[] =
    "{\"navn\":\"Idem\",\"ejerformKode\":1,\"lovgrundlagKode\":1,\"admKommuneKode\":101}";
static const char body_b[] =
    "{\"navn\":\"Idem B\",\"ejerformKode\":1,\"lovgrundlagKode\":1,\"admKommuneKode\":101}";
static const char body_bad[] =
    "{\"navn\":\"Idem\",\"ejerformKode\":1,\"lovgrundlagKode\":4,\"admKommuneKode\":101}";

static void test_same_key_same_bytes_gives_the_first_answer(void **state)
{
    tfix *f = *state;
    answer a1 = {0}, a2 = {0};
    submit_keyed(f, "c1", "k1", body_a, &a1);
    store_wait(f->s);
    submit_keyed(f, "c1", "k1", body_a, &a2);
    store_wait(f->s);
    assert_int_equal(a1.status, 0);
    assert_false(a1.replayed);
    assert_int_equal(a2.status, 0);
    assert_true(a2.replayed);
    assert_string_equal(a1.primary, a2.primary);
    assert_int_equal(a1.seq_first, a2.seq_first);
    assert_true(json_equal(a1.record, a2.record));
    assert_int_equal(count_rows(f, "SELECT count(*) FROM record"), 1);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM haendelse"), 1);
    answer_clear(&a1);
    answer_clear(&a2);

    /* and after a restart, from the database */
    fix_close(f);
    fix_open(f);
    submit_keyed(f, "c1", "k1", body_a, &a2);
    store_wait(f->s);
    assert_true(a2.replayed);
    assert_string_equal(a2.primary, "G00001");
    answer_clear(&a2);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM record"), 1);
}

static void test_same_key_other_bytes_is_a_conflict(void **state)
{
    tfix *f = *state;
    answer a1 = {0}, a2 = {0}, a3 = {0};
    submit_keyed(f, "c1", "k1", body_a, &a1);
    store_wait(f->s);
    submit_keyed(f, "c1", "k1", body_b, &a2);
    store_wait(f->s);
    assert_int_equal(a2.status, 422);
    assert_true(answer_has_error(&a2, "IDEMPOTENS_KONFLIKT"));
    /* another client's key of the same name is its own */
    submit_keyed(f, "c2", "k1", body_b, &a3);
    store_wait(f->s);
    assert_int_equal(a3.status, 0);
    assert_false(a3.replayed);
    assert_string_not_equal(a1.primary, a3.primary);
    answer_clear(&a1);
    answer_clear(&a2);
    answer_clear(&a3);
}

static void test_second_request_waits_for_the_first_in_flight(void **state)
{
    tfix *f = *state;
    answer a[4];
    memset(a, 0, sizeof a);
    submit_keyed(f, "c1", "k1", body_a, &a[0]);
    submit_keyed(f, "c1", "k1", body_a, &a[1]);
    submit_keyed(f, "c1", "k1", body_b, &a[2]); /* other bytes while in flight: refused */
    submit_keyed(f, "c1", "k1", body_a, &a[3]);
    store_wait(f->s);
    for (int i = 0; i < 4; i++)
        assert_true(a[i].called);
    assert_int_equal(a[0].status, 0);
    assert_false(a[0].replayed);
    assert_int_equal(a[1].status, 0);
    assert_true(a[1].replayed);
    assert_string_equal(a[1].primary, a[0].primary);
    assert_int_equal(a[2].status, 422);
    assert_true(answer_has_error(&a[2], "IDEMPOTENS_KONFLIKT"));
    assert_int_equal(a[3].status, 0);
    assert_string_equal(a[3].primary, a[0].primary);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM record"), 1);
    for (int i = 0; i < 4; i++)
        answer_clear(&a[i]);
}

static void test_a_refusal_is_the_first_answer_too(void **state)
{
    tfix *f = *state;
    answer a1 = {0}, a2 = {0};
    submit_keyed(f, "c1", "k1", body_bad, &a1);
    store_wait(f->s);
    assert_int_equal(a1.status, 422);
    submit_keyed(f, "c1", "k1", body_bad, &a2);
    store_wait(f->s);
    assert_int_equal(a2.status, 422);
    assert_true(a2.replayed);
    assert_int_equal(a2.n_errors, a1.n_errors);
    assert_string_equal(a2.errors[0].kode, a1.errors[0].kode);
    assert_string_equal(a2.errors[0].felt, a1.errors[0].felt);
    answer_clear(&a1);
    answer_clear(&a2);
}

static void test_keys_are_kept_24_hours(void **state)
{
    tfix *f = *state;
    answer a1 = {0}, a2 = {0}, a3 = {0};
    submit_keyed(f, "c1", "k1", body_a, &a1);
    store_wait(f->s);

    json_t *resp = NULL;
    bool same = false;
    assert_int_equal(idem_get(f, "c1", "k1", body_a, &resp, &same), 0);
    assert_true(same);
    assert_string_equal(json_string_value(json_object_get(resp, "primary")), a1.primary);
    json_decref(resp);
    assert_int_equal(idem_get(f, "c1", "k1", body_b, &resp, &same), 0);
    assert_false(same);
    json_decref(resp);
    assert_int_equal(idem_get(f, "c1", "nope", body_a, &resp, &same), 404);

    f->now_ms += 23LL * 3600 * 1000;
    submit_keyed(f, "c1", "k1", body_a, &a2);
    store_wait(f->s);
    assert_true(a2.replayed);

    f->now_ms += 2LL * 3600 * 1000; /* 25 hours after the first */
    assert_int_equal(idem_get(f, "c1", "k1", body_a, &resp, &same), 404);
    submit_keyed(f, "c1", "k1", body_a, &a3);
    store_wait(f->s);
    assert_int_equal(a3.status, 0);
    assert_false(a3.replayed);
    assert_string_not_equal(a3.primary, a1.primary);

    /* the tick forgets the old keys */
    answer_clear(&a2);
    submit_keyed(f, "c1", "k2", body_a, &a2);
    store_wait(f->s);
    f->now_ms += 25LL * 3600 * 1000;
    store_tick(f->s, NULL, NULL);
    store_wait(f->s);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM idempotency"), 0);
    answer_clear(&a1);
    answer_clear(&a2);
    answer_clear(&a3);
}

/* The key is bound to the route as well as the body: the same key and bytes
 * sent as a create of another level is a conflict, not the first answer. */
static void test_same_key_same_bytes_other_route_is_a_conflict(void **state)
{
    tfix *f = *state;
    answer a1 = {0}, a2 = {0};
    submit_keyed(f, "c1", "k1", body_a, &a1);
    store_wait(f->s);
    assert_int_equal(a1.status, 0);
    json_t *body = json_loads(body_a, 0, NULL);
    reg_actor actor = actor_support();
    actor.id = "c1";
    store_command cmd = {.op = REG_OP_CREATE,
                         .level = REG_ANVISNINGSENHED,
                         .body = body,
                         .actor = actor,
                         .idem_client = "c1",
                         .idem_key = "k1",
                         .idem_body = body_a,
                         .idem_body_len = strlen(body_a)};
    assert_int_equal(store_submit(f->s, &cmd, answer_cb, &a2), 0);
    json_decref(body);
    store_wait(f->s);
    assert_int_equal(a2.status, 422);
    assert_false(a2.replayed);
    assert_true(answer_has_error(&a2, "IDEMPOTENS_KONFLIKT"));
    answer_clear(&a1);
    answer_clear(&a2);
}

/* A key that cannot be looked up may have been seen: the create answers
 * 503 and makes nothing (not a second record). */
static void test_failed_lookup_answers_503(void **state)
{
    tfix *f = *state;
    answer a1 = {0};
    exec_other(f, "ALTER TABLE idempotency RENAME TO idempotency_gone");
    submit_keyed(f, "c1", "k1", body_a, &a1);
    store_wait(f->s);
    assert_int_equal(a1.status, 503);
    assert_true(answer_has_error(&a1, "IKKE_KLAR"));
    assert_int_equal(count_rows(f, "SELECT count(*) FROM record"), 0);
    answer_clear(&a1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_same_key_same_bytes_gives_the_first_answer),
        T(test_same_key_other_bytes_is_a_conflict),
        T(test_second_request_waits_for_the_first_in_flight),
        T(test_a_refusal_is_the_first_answer_too),
        T(test_keys_are_kept_24_hours),
        T(test_same_key_same_bytes_other_route_is_a_conflict),
        T(test_failed_lookup_answers_503),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
