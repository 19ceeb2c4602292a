/*
 * test_store_limits.c -- the store's bounds (store_set_limits): snapshots
 * at once and their lifetime, the WAL's bound against a reader that holds
 * a snapshot (the snapshot is ended, the writer never waits), children per
 * command, creates per client per minute.
 */
#include <sys/stat.h>

#include "test_store_fixture.h"

static int setup(void **state)
{
    tfix *f = fix_new("limits");
    fix_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fix_free(*state);
    return 0;
}

static store_limits unbounded(void)
{
    store_limits l = {.max_children = UINT32_MAX};
    return l;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_snapshots_at_once(void **state)
{
    tfix *f = *state;
    store_limits l = unbounded();
    l.max_snapshots = 2;
    store_set_limits(f->s, &l);
    char err[256];
    store_reader *r[3];
    for (int i = 0; i < 3; i++)
        assert_non_null(r[i] = store_reader_open(f->s, err, sizeof err));
    int64_t seq;
    assert_int_equal(store_snapshot_begin(r[0], &seq), 0);
    assert_int_equal(store_snapshot_begin(r[1], &seq), 0);
    assert_int_equal(store_snapshot_begin(r[2], &seq), 503);
    assert_int_equal(store_snapshots_open(f->s), 2);
    store_snapshot_end(r[0]);
    assert_int_equal(store_snapshot_begin(r[2], &seq), 0);
    for (int i = 0; i < 3; i++)
        store_reader_close(r[i]);
    assert_int_equal(store_snapshots_open(f->s), 0);
}

/* Snapshots per client address: a client at its bound gets 429 (another
 * client, or a reader for nobody, is not held back), and one more once one
 * of its snapshots ended; the bound in all still answers 503. */
static void test_snapshots_per_client(void **state)
{
    tfix *f = *state;
    store_limits l = unbounded();
    l.max_snapshots = 4;
    l.max_snapshots_per_client = 2;
    store_set_limits(f->s, &l);
    char err[256];
    store_reader *r[5];
    for (int i = 0; i < 5; i++)
        assert_non_null(r[i] = store_reader_open(f->s, err, sizeof err));
    store_reader_set_client(r[0], "10.0.0.1");
    store_reader_set_client(r[1], "10.0.0.1");
    store_reader_set_client(r[2], "10.0.0.1");
    store_reader_set_client(r[3], "10.0.0.2");
    int64_t seq;
    assert_int_equal(store_snapshot_begin(r[0], &seq), 0);
    assert_int_equal(store_snapshot_begin(r[1], &seq), 0);
    assert_int_equal(store_snapshot_begin(r[2], &seq), 429);
    assert_int_equal(store_snapshot_begin(r[3], &seq), 0);
    assert_int_equal(store_snapshot_begin(r[4], &seq), 0); /* no client named */
    assert_int_equal(store_snapshots_open(f->s), 4);
    store_snapshot_end(r[4]);
    store_snapshot_end(r[0]);
    assert_int_equal(store_snapshot_begin(r[2], &seq), 0);
    assert_int_equal(store_snapshot_begin(r[4], &seq), 0);
    assert_int_equal(store_snapshot_begin(r[0], &seq), 503); /* 4 in all */
    for (int i = 0; i < 5; i++)
        store_reader_close(r[i]);
    assert_int_equal(store_snapshots_open(f->s), 0);
}

/* A snapshot past its lifetime is ended by the checkpoint thread; the
 * reader's next read answers 503, and the reader is usable again after
 * snapshot_end. */
static void test_snapshot_lifetime(void **state)
{
    tfix *f = *state;
    store_limits l = unbounded();
    l.snapshot_max_ms = 1;
    store_set_limits(f->s, &l);
    char err[256], n[7];
    create_ok(f, REG_DAGINSTITUTION, di_body("Levetid", 101, 1, 1), n);
    store_reader *r = store_reader_open(f->s, err, sizeof err);
    int64_t seq;
    assert_int_equal(store_snapshot_begin(r, &seq), 0);
    double deadline = now_s() + 10;
    while (store_snapshots_open(f->s) > 0 && now_s() < deadline)
        usleep(5000); /* polls for the event, up to the deadline */
    assert_int_equal(store_snapshots_open(f->s), 0);
    json_t *items = NULL;
    char next[7];
    store_query q = {.level = REG_DAGINSTITUTION};
    assert_int_equal(store_list(r, &q, &items, next), 503);
    store_snapshot_end(r);
    assert_int_equal(store_list(r, &q, &items, next), 0);
    assert_int_equal(json_array_size(items), 1);
    json_decref(items);
    store_reader_close(r);
}

static int64_t wal_bytes(tfix *f)
{
    char path[160];
    snprintf(path, sizeof path, "%s/dtr.sqlite-wal", f->dir);
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* A reader holding a snapshot would keep the WAL from starting over: at
 * the bound its snapshot ends, and the WAL stays near the bound while the
 * writer goes on without waiting. */
static void test_wal_bound_ends_snapshots(void **state)
{
    tfix *f = *state;
    fix_sqlite_only(); /* SQLite's WAL */
    store_limits l = unbounded();
    l.wal_max_bytes = 64 * 4096;
    store_set_limits(f->s, &l);
    char err[256], n[7];
    store_reader *r = store_reader_open(f->s, err, sizeof err);
    int64_t seq;
    assert_int_equal(store_snapshot_begin(r, &seq), 0);
    double slowest = 0;
    for (int i = 0; i < 400; i++) {
        char navn[32];
        snprintf(navn, sizeof navn, "WAL %d", i);
        double t0 = now_s();
        create_ok(f, REG_DAGINSTITUTION, di_body(navn, 101, 1, 1), n);
        if (now_s() - t0 > slowest) slowest = now_s() - t0;
    }
    assert_int_equal(store_snapshots_open(f->s), 0);
    /* 400 commits of a few pages: without the bound the WAL holds them all */
    int64_t wal = wal_bytes(f);
    if (wal > 4 * 64 * 4096) fail_msg("the WAL grew to %lld bytes", (long long)wal);
    if (slowest > 2.0) fail_msg("a commit waited %.2f s", slowest);
    json_t *items = NULL;
    char next[7];
    store_query q = {.level = REG_DAGINSTITUTION};
    assert_int_equal(store_list(r, &q, &items, next), 503);
    store_snapshot_end(r);
    store_reader_close(r);
}

static void test_children_per_command(void **state)
{
    tfix *f = *state;
    store_limits l = unbounded();
    l.max_children = 2;
    store_set_limits(f->s, &l);
    json_t *body = di_body("Mange", 101, 1, 1);
    json_t *list = json_array();
    for (int i = 0; i < 3; i++)
        json_array_append_new(list, ae_body(NULL, "Enhed", 6010, 101));
    json_object_set_new(body, "anvisningsenheder", list);
    answer a = run_cmd(f, REG_OP_CREATE, REG_DAGINSTITUTION, NULL, body, actor_support());
    assert_int_equal(a.status, 413);
    assert_true(answer_has_error(&a, "FOR_STOR"));
    answer_clear(&a);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM record"), 0);
    /* at the bound it goes through */
    body = di_body("Nok", 101, 1, 1);
    list = json_array();
    for (int i = 0; i < 2; i++)
        json_array_append_new(list, ae_body(NULL, "Enhed", 6010, 101));
    json_object_set_new(body, "anvisningsenheder", list);
    a = run_cmd(f, REG_OP_CREATE, REG_DAGINSTITUTION, NULL, body, actor_support());
    assert_int_equal(a.status, 0);
    answer_clear(&a);
}

static void test_creates_per_client_per_minute(void **state)
{
    tfix *f = *state;
    store_limits l = unbounded();
    l.creates_per_client_per_minute = 3;
    store_set_limits(f->s, &l);
    char n[7];
    for (int i = 0; i < 3; i++)
        create_ok(f, REG_DAGINSTITUTION, di_body("Hurtig", 101, 1, 1), n);
    answer a = run_cmd(f, REG_OP_CREATE, REG_DAGINSTITUTION, NULL, di_body("For meget", 101, 1, 1),
                       actor_support());
    assert_int_equal(a.status, 429);
    assert_true(answer_has_error(&a, "FOR_MANGE"));
    answer_clear(&a);
    /* another client has its own */
    reg_actor other = actor_support();
    other.id = "en-anden";
    a = run_cmd(f, REG_OP_CREATE, REG_DAGINSTITUTION, NULL, di_body("Anden", 101, 1, 1), other);
    assert_int_equal(a.status, 0);
    answer_clear(&a);
    /* a third of a minute later: one more */
    f->now_ms += 20000;
    create_ok(f, REG_DAGINSTITUTION, di_body("Senere", 101, 1, 1), n);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM record"), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_snapshots_at_once),    T(test_snapshots_per_client),
        T(test_snapshot_lifetime),    T(test_wal_bound_ends_snapshots),
        T(test_children_per_command), T(test_creates_per_client_per_minute),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
