/*
 * test_store_lease.c -- leases between instances (lease.c) on the cluster
 * DTR_TEST_PG_DSN names (skipped, and said so, without one): one holder
 * at a time, renewal keeps the epoch, a holder that stops renewing loses
 * the lease to another with a new epoch, the fence keeps a stalled holder
 * from writing and holds off a takeover until the fenced write ends, and a
 * release hands over at once. On SQLite the one process always holds it.
 *
 * Expiry is waited for as an event with a deadline (the lease is polled
 * until it changes hands), never by sleeping a guessed time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/sql.h"
#include "store/store_lease.h"

typedef struct fixture {
    sql_target target;
    sql_conn *a, *b; /* two instances */
    char name[48];   /* a lease of this test's own */
} fixture;

static sql_conn *open_conn(const sql_target *t, int busy_ms)
{
    char err[256] = "";
    sql_conn *c = sql_open(t, false, busy_ms, err, sizeof err);
    if (!c) fail_msg("open: %s", err);
    return c;
}

static int setup(void **state)
{
    const char *dsn = getenv("DTR_TEST_PG_DSN");
    if (!dsn || !dsn[0]) {
        *state = NULL;
        return 0;
    }
    fixture *f = calloc(1, sizeof *f);
    f->target = (sql_target){.dialect = SQL_DIALECT_POSTGRESQL, .dsn = dsn};
    f->a = open_conn(&f->target, 5000);
    f->b = open_conn(&f->target, 300);
    assert_int_equal(sql_exec(f->a, "CREATE TABLE IF NOT EXISTS lease (name text PRIMARY KEY, "
                                    "holder text NOT NULL, epoch bigint NOT NULL, "
                                    "expires timestamptz NOT NULL)"),
                     SQL_OK);
    static unsigned seq;
    snprintf(f->name, sizeof f->name, "test-%ld-%u", (long)getpid(), seq++);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (!f) return 0;
    sql_close(f->a);
    sql_close(f->b);
    free(f);
    return 0;
}

static fixture *need(void **state)
{
    if (!*state) skip();
    return *state;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls until holder takes the lease (the previous holder's expired):
 * its epoch, failing after 20 s. */
static int64_t wait_take(sql_conn *c, const char *name, const char *holder)
{
    int64_t deadline = now_ms() + 20000, epoch = 0;
    for (;;) {
        int held = store_lease_take(c, name, holder, 60000, &epoch);
        assert_int_not_equal(held, -1);
        if (held == 1) return epoch;
        if (now_ms() > deadline) fail_msg("%s never got lease %s", holder, name);
    }
}

static void test_one_holder(void **state)
{
    fixture *f = need(state);
    int64_t e1, e2, e;
    assert_int_equal(store_lease_take(f->a, f->name, "a", 60000, &e1), 1);
    assert_int_equal(store_lease_take(f->b, f->name, "b", 60000, &e), 0);
    assert_int_equal(store_lease_take(f->a, f->name, "a", 60000, &e2), 1);
    assert_true(e1 == e2); /* renewal keeps the epoch */
    char holder[32];
    bool live;
    assert_int_equal(store_lease_holder(f->b, f->name, holder, sizeof holder, &e, &live), 0);
    assert_string_equal(holder, "a");
    assert_true(live);
    assert_true(e == e1);
}

static void test_takeover_after_expiry(void **state)
{
    fixture *f = need(state);
    int64_t e1, e;
    assert_int_equal(store_lease_take(f->a, f->name, "a", 100, &e1), 1);
    /* a stops renewing: b gets it once it expired, with the next epoch */
    int64_t e2 = wait_take(f->b, f->name, "b");
    assert_true(e2 == e1 + 1);
    /* the stalled holder can neither renew nor write under its old epoch */
    assert_int_equal(store_lease_take(f->a, f->name, "a", 60000, &e), 0);
    assert_int_equal(sql_exec(f->a, "BEGIN"), SQL_OK);
    assert_int_equal(store_lease_fence(f->a, f->name, "a", e1), 0);
    assert_int_equal(sql_exec(f->a, "ROLLBACK"), SQL_OK);
    assert_int_equal(sql_exec(f->b, "BEGIN"), SQL_OK);
    assert_int_equal(store_lease_fence(f->b, f->name, "b", e2), 1);
    assert_int_equal(sql_exec(f->b, "COMMIT"), SQL_OK);
}

/* While the holder's fenced transaction is open, the lease cannot change
 * hands even after it expired: the taker waits (here: its lock timeout
 * ends the wait) and gets it once that transaction ended. */
static void test_fence_holds_off_takeover(void **state)
{
    fixture *f = need(state);
    int64_t e1, e;
    assert_int_equal(store_lease_take(f->a, f->name, "a", 100, &e1), 1);
    assert_int_equal(sql_exec(f->a, "BEGIN"), SQL_OK);
    assert_int_equal(store_lease_fence(f->a, f->name, "a", e1), 1);
    /* the lease expires while a's transaction is open */
    int64_t deadline = now_ms() + 20000;
    for (;;) {
        char holder[32];
        bool live;
        assert_int_equal(store_lease_holder(f->b, f->name, holder, sizeof holder, &e, &live), 0);
        if (!live) break;
        if (now_ms() > deadline) fail_msg("the lease never expired");
    }
    assert_int_equal(store_lease_take(f->b, f->name, "b", 60000, &e), -1);
    assert_int_equal(sql_exec(f->a, "COMMIT"), SQL_OK);
    assert_int_equal(store_lease_take(f->b, f->name, "b", 60000, &e), 1);
    assert_true(e == e1 + 1);
}

static void test_release_hands_over(void **state)
{
    fixture *f = need(state);
    int64_t e1, e;
    assert_int_equal(store_lease_take(f->a, f->name, "a", 60000, &e1), 1);
    assert_int_equal(store_lease_take(f->b, f->name, "b", 60000, &e), 0);
    assert_int_equal(store_lease_release(f->b, f->name, "b"), 0); /* not b's: no effect */
    assert_int_equal(store_lease_take(f->b, f->name, "b", 60000, &e), 0);
    assert_int_equal(store_lease_release(f->a, f->name, "a"), 0);
    assert_int_equal(store_lease_take(f->b, f->name, "b", 60000, &e), 1);
    assert_true(e == e1 + 1);
}

static void test_sqlite_always_held(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_lease_XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/l.sqlite", dir);
    sql_target t = {.dialect = SQL_DIALECT_SQLITE, .path = path};
    sql_conn *c = open_conn(&t, 1000);
    int64_t e;
    assert_int_equal(store_lease_take(c, "x", "a", 10, &e), 1);
    assert_true(e == 1);
    assert_int_equal(store_lease_take(c, "x", "b", 10, &e), 1);
    assert_int_equal(store_lease_fence(c, "x", "b", 1), 1);
    sql_close(c);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_holder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_takeover_after_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fence_holds_off_takeover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_hands_over, setup, teardown),
        cmocka_unit_test(test_sqlite_always_held),
    };
    if (!getenv("DTR_TEST_PG_DSN"))
        fprintf(stderr, "test_store_lease: DTR_TEST_PG_DSN is not set; the postgresql tests are "
                        "skipped (scripts/test starts a cluster)\n");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
