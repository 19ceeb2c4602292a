/*
 * test_store_bulk.c -- what the store does for bulk loads and heavy writing
 * beside the register's rules: the record table's list indexes deferred
 * during an initial load (and built again at its end, or after an
 * interrupted one by the next open that holds the data directory's lock),
 * and WAL checkpoints on their own thread.
 */
#include "test_store_fixture.h"

#include <sys/stat.h>

#include "store/store_int.h"

static int setup(void **state)
{
    *state = fix_new("test_store_bulk");
    return 0;
}

static int teardown(void **state)
{
    fix_free(*state);
    return 0;
}

typedef struct idx_answer {
    bool called;
    int status;
    int n_indexes;
} idx_answer;

static void idx_cb(const store_result *res, void *udata)
{
    idx_answer *a = udata;
    a->called = true;
    a->status = res->status;
    a->n_indexes = res->n_indexes;
}

static idx_answer run_indexes(tfix *f, bool defer)
{
    idx_answer a = {0};
    int rc =
        defer ? store_indexes_defer(f->s, idx_cb, &a) : store_indexes_restore(f->s, idx_cb, &a);
    assert_int_equal(rc, 0);
    store_wait(f->s);
    assert_true(a.called);
    return a;
}

/* The definitions of the record table's indexes, one text, in name order. */
static char *record_index_sql(tfix *f)
{
    sql_conn *db = fix_sql_open(f, true);
    sql_stmt *st = NULL;
    assert_int_equal(sql_prepare(db,
                                 f->pg_db[0]
                                     ? "SELECT string_agg(indexname || ': ' || indexdef, chr(10) "
                                       "ORDER BY indexname) FROM pg_indexes WHERE tablename = "
                                       "'record' AND indexname NOT LIKE '%_pkey' AND indexname "
                                       "NOT LIKE '%_key'"
                                     : "SELECT group_concat(name || ': ' || sql, char(10)) FROM "
                                       "(SELECT name, sql FROM sqlite_master WHERE type = "
                                       "'index' AND tbl_name = 'record' AND sql IS NOT NULL "
                                       "ORDER BY name)",
                                 false, &st),
                     SQL_OK);
    assert_int_equal(sql_step(st), SQL_ROW);
    const char *text = sql_column_text(st, 0);
    char *out = strdup(text ? text : "");
    sql_finalize(st);
    sql_close(db);
    return out;
}

static int64_t record_indexes(tfix *f)
{
    return count_rows(f, f->pg_db[0] ? "SELECT count(*) FROM pg_indexes WHERE tablename = "
                                       "'record' AND indexname NOT LIKE '%_pkey' AND indexname "
                                       "NOT LIKE '%_key'"
                                     : "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
                                       "AND tbl_name = 'record' AND sql IS NOT NULL");
}

/* Three units in two kommuner, under two daginstitutioner. */
static void load_some(tfix *f, char di[2][7], char ae[3][7])
{
    create_ok(f, REG_DAGINSTITUTION, di_body("Solsikken", 101, 1, 1), di[0]);
    create_ok(f, REG_DAGINSTITUTION, di_body("Mariehønen", 147, 1, 1), di[1]);
    create_ok(f, REG_ANVISNINGSENHED, ae_body(di[0], "Solsikken vuggestue", 6011, 101), ae[0]);
    create_ok(f, REG_ANVISNINGSENHED, ae_body(di[0], "Solsikken børnehave", 6012, 101), ae[1]);
    create_ok(f, REG_ANVISNINGSENHED, ae_body(di[1], "Mariehønen", 6011, 147), ae[2]);
}

static void test_an_initial_load_builds_list_indexes_at_its_end(void **state)
{
    tfix *f = *state;
    fix_open(f);
    char *before = record_index_sql(f);
    int64_t all = record_indexes(f);
    idx_answer a = run_indexes(f, true);
    assert_int_equal(a.status, 0);
    assert_int_equal(a.n_indexes, 7);
    /* record_parent stays: the writer reads children through it */
    assert_int_equal(record_indexes(f), all - 7);
    assert_int_equal(count_rows(f, f->pg_db[0]
                                       ? "SELECT count(*) FROM pg_indexes WHERE indexname = "
                                         "'record_parent'"
                                       : "SELECT count(*) FROM sqlite_master WHERE name = "
                                         "'record_parent'"),
                     1);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM deferred_index"), 7);

    char di[2][7], ae[3][7];
    load_some(f, di, ae);
    /* the lists give the same answers meanwhile */
    assert_int_equal(list_count(f, (store_query){.level = REG_ANVISNINGSENHED, .kommune = 101}), 2);
    assert_int_equal(list_count(f, (store_query){.level = REG_ANVISNINGSENHED, .inst_type3 = 6011}),
                     2);
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION, .adm_kommune = 147}),
                     1);

    a = run_indexes(f, false);
    assert_int_equal(a.status, 0);
    assert_int_equal(a.n_indexes, 7);
    char *after = record_index_sql(f);
    assert_string_equal(after, before);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM deferred_index"), 0);
    assert_int_equal(list_count(f, (store_query){.level = REG_ANVISNINGSENHED, .kommune = 101}), 2);
    /* nothing left to build */
    a = run_indexes(f, false);
    assert_int_equal(a.n_indexes, 0);
    free(before);
    free(after);
}

static void test_a_register_with_records_defers_nothing(void **state)
{
    tfix *f = *state;
    fix_open(f);
    char n[7];
    create_ok(f, REG_DAGINSTITUTION, di_body("Findes", 101, 1, 1), n);
    int64_t all = record_indexes(f);
    idx_answer a = run_indexes(f, true);
    assert_int_equal(a.status, 0);
    assert_int_equal(a.n_indexes, 0);
    assert_int_equal(record_indexes(f), all);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM deferred_index"), 0);
}

static void test_an_interrupted_load_gets_its_indexes_from_the_next_lock_holder(void **state)
{
    tfix *f = *state;
    fix_open(f);
    char *before = record_index_sql(f);
    assert_int_equal(run_indexes(f, true).n_indexes, 7);
    char di[2][7], ae[3][7];
    load_some(f, di, ae);
    fix_close(f); /* as if the load had stopped here */
    assert_int_equal(count_rows(f, "SELECT count(*) FROM deferred_index"), 7);
    /* a process without the data directory's lock (dtr export beside a
     * running load) leaves them: that load deferred them on purpose */
    fix_open(f);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM deferred_index"), 7);
    assert_int_equal(list_count(f, (store_query){.level = REG_ANVISNINGSENHED, .kommune = 101}), 2);
    fix_close(f);
    /* the lock holder (dtr serve, dtr import) builds them */
    f->build_deferred_indexes = true;
    fix_open(f);
    char *after = record_index_sql(f);
    assert_string_equal(after, before);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM deferred_index"), 0);
    /* the indexes are whole: the planner's answers match a scan's
     * (PostgreSQL builds an index whole or not at all) */
    if (!f->pg_db[0]) {
        assert_int_equal(count_rows(f, "SELECT count(*) FROM record INDEXED BY record_kommune "
                                       "WHERE kommune = 101"),
                         2);
        assert_int_equal(count_rows(f, "SELECT count(*) FROM record INDEXED BY record_level "
                                       "WHERE level = 1"),
                         3);
    }
    free(before);
    free(after);
}

static int64_t wal_bytes(tfix *f)
{
    char path[160];
    snprintf(path, sizeof path, "%s/dtr.sqlite-wal", f->dir);
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

static void test_checkpoints_run_on_their_own_thread(void **state)
{
    tfix *f = *state;
    fix_sqlite_only(); /* SQLite's WAL */
    char err[256];
    store_options opt = {.data_dir = f->dir,
                         .audit_key = f->key,
                         .clock = fix_clock,
                         .clock_udata = f,
                         .checkpoint_pages = 16,
                         .log = fix_quiet_log};
    assert_int_equal(store_open(&opt, &f->s, err, sizeof err), 0);
    f->r = store_reader_open(f->s, err, sizeof err);
    assert_non_null(f->r);
    char n[7];
    for (int i = 0; i < 300; i++) {
        char navn[32];
        snprintf(navn, sizeof navn, "Institution %d", i);
        create_ok(f, REG_DAGINSTITUTION, di_body(navn, 101, 1, 1), n);
    }
    /* the thread is woken after commits: wait for its first checkpoint
     * (looking every 10 ms; 30 s is a deadline for failing, not a pause) */
    store_stats st = {0};
    for (int i = 0; i < 3000 && st.checkpoints == 0; i++) {
        store_get_stats(f->s, &st);
        if (st.checkpoints == 0) usleep(10000);
    }
    assert_true(st.checkpoints > 0);
    /* 300 commits of a few pages each: without checkpoints the WAL would
     * hold them all; with them it starts over and stays near the limit
     * (the writer's own fallback caps it at 8 times that) */
    assert_true(wal_bytes(f) <= 8 * 16 * 4096 + 64 * 4096);
    assert_int_equal(list_count(f, (store_query){.level = REG_DAGINSTITUTION, .limit = 1000}), 300);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_an_initial_load_builds_list_indexes_at_its_end),
        T(test_a_register_with_records_defers_nothing),
        T(test_an_interrupted_load_gets_its_indexes_from_the_next_lock_holder),
        T(test_checkpoints_run_on_their_own_thread),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
