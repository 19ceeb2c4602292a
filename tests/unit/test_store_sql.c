/*
 * test_store_sql.c -- the statement layer (core/store/sql.h) on both of its
 * drivers: every test runs once on SQLite (a file in a temporary directory)
 * and once on PostgreSQL (the cluster DTR_TEST_PG_DSN names; scripts/test
 * starts one with scripts/pg-cluster). Without DTR_TEST_PG_DSN the
 * PostgreSQL half is reported as skipped, never as passed.
 *
 * What the store relies on: values come back as they went in (UTF-8 text,
 * 64-bit integers, blobs with zero bytes, NULL), ?n parameters reused and
 * left alone inside quotes, one statement stepped while others run on the
 * same connection, savepoints, the codes of a unique violation, a syntax
 * error and a lock wait, changes(), the read budget, and a DSN logged
 * without its password.
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

#include "store/sql.h"

typedef struct fixture {
    sql_dialect dialect;
    char dir[64];
    char path[128];
    sql_target target;
    sql_conn *c;
} fixture;

static int setup_with(void **state, sql_dialect dialect)
{
    fixture *f = calloc(1, sizeof *f);
    f->dialect = dialect;
    f->target.dialect = dialect;
    if (dialect == SQL_DIALECT_SQLITE) {
        strcpy(f->dir, "/tmp/test_sql_XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof f->path, "%s/t.sqlite", f->dir);
        f->target.path = f->path;
    } else {
        f->target.dsn = getenv("DTR_TEST_PG_DSN");
        if (!f->target.dsn || !f->target.dsn[0]) {
            free(f);
            *state = NULL;
            return 0;
        }
    }
    char err[256] = "";
    f->c = sql_open(&f->target, false, 2000, err, sizeof err);
    if (!f->c) fail_msg("open: %s", err);
    const char *ddl =
        dialect == SQL_DIALECT_SQLITE
            ? "DROP TABLE IF EXISTS t; CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, "
              "b BLOB, note TEXT)"
            : "DROP TABLE IF EXISTS t; CREATE TABLE t (k text PRIMARY KEY, n bigint, b bytea, "
              "note text)";
    assert_int_equal(sql_exec(f->c, ddl), SQL_OK);
    *state = f;
    return 0;
}

static int setup_sqlite(void **state)
{
    return setup_with(state, SQL_DIALECT_SQLITE);
}

static int setup_pg(void **state)
{
    return setup_with(state, SQL_DIALECT_POSTGRESQL);
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (!f) return 0;
    sql_close(f->c);
    if (f->dialect == SQL_DIALECT_SQLITE) {
        char cmd[160];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
    }
    free(f);
    return 0;
}

/* The fixture, or a skip when this half has no database. */
static fixture *need(void **state)
{
    fixture *f = *state;
    if (!f) skip();
    return f;
}

static void insert(sql_conn *c, const char *k, int64_t n, const void *b, int blen, const char *note)
{
    sql_stmt *st;
    assert_int_equal(
        sql_prepare(c, "INSERT INTO t (k, n, b, note) VALUES (?1, ?2, ?3, ?4)", 0, &st), SQL_OK);
    assert_int_equal(sql_bind_text(st, 1, k, -1), SQL_OK);
    assert_int_equal(sql_bind_int64(st, 2, n), SQL_OK);
    assert_int_equal(sql_bind_blob(st, 3, b, blen), SQL_OK);
    assert_int_equal(sql_bind_text(st, 4, note, -1), SQL_OK);
    assert_int_equal(sql_step(st), SQL_DONE);
    sql_finalize(st);
}

static void test_values_round_trip(void **state)
{
    fixture *f = need(state);
    static const unsigned char blob[] = {0, 1, 2, 0xff, 0, 0x5c, 0x78};
    insert(f->c, "Børnehaven Æblegården", INT64_MAX, blob, (int)sizeof blob, NULL);
    insert(f->c, "neg", INT64_MIN, NULL, 0, "it's \"quoted\" ?1");

    sql_stmt *st;
    assert_int_equal(sql_prepare(f->c, "SELECT k, n, b, note FROM t ORDER BY n", 0, &st), SQL_OK);
    assert_int_equal(sql_step(st), SQL_ROW);
    assert_string_equal(sql_column_text(st, 0), "neg");
    assert_true(sql_column_int64(st, 1) == INT64_MIN);
    assert_true(sql_column_is_null(st, 2));
    assert_null(sql_column_blob(st, 2));
    assert_int_equal(sql_column_bytes(st, 2), 0);
    assert_string_equal(sql_column_text(st, 3), "it's \"quoted\" ?1");
    assert_int_equal(sql_step(st), SQL_ROW);
    assert_string_equal(sql_column_text(st, 0), "Børnehaven Æblegården");
    assert_int_equal(sql_column_bytes(st, 0), (int)strlen("Børnehaven Æblegården"));
    assert_true(sql_column_int64(st, 1) == INT64_MAX);
    assert_int_equal(sql_column_bytes(st, 2), (int)sizeof blob);
    assert_memory_equal(sql_column_blob(st, 2), blob, sizeof blob);
    assert_true(sql_column_is_null(st, 3));
    assert_null(sql_column_text(st, 3));
    assert_int_equal(sql_step(st), SQL_DONE);
    sql_finalize(st);
}

/* ?1 used twice; a ?1 inside a string literal is text, not a parameter. */
static void test_parameters(void **state)
{
    fixture *f = need(state);
    insert(f->c, "a", 1, NULL, 0, "x");
    insert(f->c, "b", 2, NULL, 0, "?1");
    sql_stmt *st;
    assert_int_equal(sql_prepare(f->c,
                                 "SELECT k FROM t WHERE (note = '?1' AND n = ?1) OR "
                                 "(note = ?2 AND n < ?1) ORDER BY k",
                                 1, &st),
                     SQL_OK);
    assert_int_equal(sql_bind_int64(st, 1, 2), SQL_OK);
    assert_int_equal(sql_bind_text(st, 2, "x", -1), SQL_OK);
    assert_int_equal(sql_step(st), SQL_ROW);
    assert_string_equal(sql_column_text(st, 0), "a");
    assert_int_equal(sql_step(st), SQL_ROW);
    assert_string_equal(sql_column_text(st, 0), "b");
    assert_int_equal(sql_step(st), SQL_DONE);
    /* a statement may skip a number (?1, ?3 without ?2) and still take a
     * binding for it */
    sql_stmt *gap;
    assert_int_equal(sql_prepare(f->c, "SELECT k FROM t WHERE n = ?1 OR k = ?3", 0, &gap), SQL_OK);
    assert_int_equal(sql_bind_int64(gap, 1, 1), SQL_OK);
    assert_int_equal(sql_bind_int64(gap, 2, 77), SQL_OK);
    assert_int_equal(sql_bind_text(gap, 3, "b", -1), SQL_OK);
    assert_int_equal(sql_step(gap), SQL_ROW);
    assert_int_equal(sql_step(gap), SQL_ROW);
    assert_int_equal(sql_step(gap), SQL_DONE);
    sql_finalize(gap);
    /* a statement that ran takes no binding until it is reset */
    assert_int_equal(sql_bind_int64(st, 1, 1) & 0xff, SQL_MISUSE);
    sql_reset(st);
    /* an index past the statement's parameters is refused */
    assert_int_equal(sql_bind_int64(st, 3, 1) & 0xff, SQL_RANGE);
    sql_finalize(st);
}

/* A persistent statement run many times with new bindings, while another
 * one is stepped half-way on the same connection (a list decorating each
 * row with a second query). */
static void test_interleaved(void **state)
{
    fixture *f = need(state);
    char k[16];
    for (int i = 0; i < 50; i++) {
        snprintf(k, sizeof k, "k%02d", i);
        insert(f->c, k, i, NULL, 0, NULL);
    }
    sql_stmt *outer, *inner;
    assert_int_equal(sql_prepare(f->c, "SELECT k, n FROM t ORDER BY n", 1, &outer), SQL_OK);
    assert_int_equal(sql_prepare(f->c, "SELECT count(*) FROM t WHERE n <= ?1", 1, &inner), SQL_OK);
    int rows = 0, rc;
    while ((rc = sql_step(outer)) == SQL_ROW) {
        int64_t n = sql_column_int64(outer, 1);
        sql_reset(inner);
        sql_clear_bindings(inner);
        assert_int_equal(sql_bind_int64(inner, 1, n), SQL_OK);
        assert_int_equal(sql_step(inner), SQL_ROW);
        assert_int_equal(sql_column_int64(inner, 0), n + 1);
        rows++;
    }
    assert_int_equal(rc, SQL_DONE);
    assert_int_equal(rows, 50);
    /* reset runs it again from the first row */
    sql_reset(outer);
    assert_int_equal(sql_step(outer), SQL_ROW);
    assert_string_equal(sql_column_text(outer, 0), "k00");
    sql_finalize(outer);
    sql_finalize(inner);
}

static int64_t count_rows(sql_conn *c)
{
    sql_stmt *st;
    assert_int_equal(sql_prepare(c, "SELECT count(*) FROM t", 0, &st), SQL_OK);
    assert_int_equal(sql_step(st), SQL_ROW);
    int64_t n = sql_column_int64(st, 0);
    sql_finalize(st);
    return n;
}

static void test_transactions(void **state)
{
    fixture *f = need(state);
    assert_false(sql_in_transaction(f->c));
    assert_int_equal(sql_exec(f->c, "BEGIN"), SQL_OK);
    assert_true(sql_in_transaction(f->c));
    insert(f->c, "kept", 1, NULL, 0, NULL);
    assert_int_equal(sql_exec(f->c, "SAVEPOINT job"), SQL_OK);
    insert(f->c, "undone", 2, NULL, 0, NULL);
    assert_int_equal(sql_exec(f->c, "ROLLBACK TO job"), SQL_OK);
    assert_int_equal(sql_exec(f->c, "RELEASE job"), SQL_OK);
    /* a refused statement inside a savepoint leaves the transaction usable */
    assert_int_equal(sql_exec(f->c, "SAVEPOINT job"), SQL_OK);
    sql_stmt *st;
    assert_int_equal(sql_prepare(f->c, "INSERT INTO t (k, n) VALUES (?1, ?2)", 1, &st), SQL_OK);
    sql_bind_text(st, 1, "kept", -1);
    sql_bind_int64(st, 2, 3);
    assert_int_equal(sql_step(st) & 0xff, SQL_CONSTRAINT);
    assert_true(strlen(sql_errmsg(f->c)) > 0);
    sql_finalize(st);
    assert_int_equal(sql_exec(f->c, "ROLLBACK TO job"), SQL_OK);
    assert_int_equal(sql_exec(f->c, "RELEASE job"), SQL_OK);
    assert_int_equal(sql_exec(f->c, "COMMIT"), SQL_OK);
    assert_false(sql_in_transaction(f->c));
    assert_int_equal(count_rows(f->c), 1);

    assert_int_equal(sql_exec(f->c, "UPDATE t SET n = n + 1"), SQL_OK);
    assert_int_equal(sql_prepare(f->c, "UPDATE t SET note = ?1 WHERE n > ?2", 0, &st), SQL_OK);
    sql_bind_text(st, 1, "x", -1);
    sql_bind_int64(st, 2, 0);
    assert_int_equal(sql_step(st), SQL_DONE);
    assert_int_equal(sql_changes(f->c), 1);
    sql_finalize(st);
}

static void test_errors(void **state)
{
    fixture *f = need(state);
    assert_int_equal(sql_exec(f->c, "SELEKT nothing"), SQL_ERROR);
    assert_non_null(strstr(sql_errmsg(f->c), "SELEKT"));
    sql_stmt *st = NULL;
    int rc = sql_prepare(f->c, "SELECT nope FROM missing_table", 0, &st);
    /* SQLite refuses at prepare, PostgreSQL at the first step: both say why */
    if (rc == SQL_OK) {
        rc = sql_step(st);
        sql_finalize(st);
    }
    assert_int_equal(rc, SQL_ERROR);
    assert_non_null(strstr(sql_errmsg(f->c), "missing_table"));
    /* the connection is usable afterwards */
    assert_int_equal(count_rows(f->c), 0);
}

/* A second connection waiting for the first's write lock gives up with
 * SQL_BUSY after its busy timeout, and the first's work is unharmed; two
 * write transactions (sql_begin_write) never overlap. */
static void test_lock_wait(void **state)
{
    fixture *f = need(state);
    insert(f->c, "row", 1, NULL, 0, NULL);
    char err[256];
    sql_conn *other = sql_open(&f->target, false, 200, err, sizeof err);
    assert_non_null(other);
    assert_int_equal(sql_begin_write(f->c), SQL_OK);
    assert_int_equal(sql_exec(f->c, "UPDATE t SET n = 2 WHERE k = 'row'"), SQL_OK);
    assert_int_equal(sql_exec(other, "UPDATE t SET n = 3 WHERE k = 'row'") & 0xff, SQL_BUSY);
    /* a second writer waits for the write lock itself, even before it
     * touched a row, and is left with nothing open when it gives up */
    assert_int_equal(sql_begin_write(other) & 0xff, SQL_BUSY);
    assert_false(sql_in_transaction(other));
    assert_int_equal(sql_exec(f->c, "COMMIT"), SQL_OK);
    assert_int_equal(sql_begin_write(other), SQL_OK);
    /* what it reads under the lock is what the first committed */
    sql_stmt *st;
    assert_int_equal(sql_prepare(other, "SELECT n FROM t WHERE k = 'row'", 0, &st), SQL_OK);
    assert_int_equal(sql_step(st), SQL_ROW);
    assert_int_equal(sql_column_int64(st, 0), 2);
    sql_finalize(st);
    assert_int_equal(sql_exec(other, "UPDATE t SET n = 3 WHERE k = 'row'"), SQL_OK);
    assert_int_equal(sql_exec(other, "COMMIT"), SQL_OK);
    sql_close(other);
}

static bool spent(void *udata)
{
    return ++*(int *)udata > 0;
}

/* A read whose budget is spent stops with SQL_INTERRUPT. */
static void test_budget(void **state)
{
    fixture *f = need(state);
    int calls = 0;
    sql_set_budget(f->c, spent, &calls);
    sql_stmt *st;
    const char *sql = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < "
                      "1000000) SELECT count(*) FROM r";
    int rc = sql_prepare(f->c, sql, 0, &st);
    assert_int_equal(rc, SQL_OK);
    assert_int_equal(sql_step(st) & 0xff, SQL_INTERRUPT);
    sql_finalize(st);
    assert_true(calls > 0);
    sql_set_budget(f->c, NULL, NULL);
    assert_int_equal(sql_prepare(f->c, sql, 0, &st), SQL_OK);
    assert_int_equal(sql_step(st), SQL_ROW);
    assert_int_equal(sql_column_int64(st, 0), 1000000);
    sql_finalize(st);
}

/* Ends c's server process from another connection, as a server restart or
 * a failover would. */
static void terminate(fixture *f, sql_conn *c)
{
    sql_stmt *st;
    assert_int_equal(sql_prepare(c, "SELECT pg_backend_pid()", 0, &st), SQL_OK);
    assert_int_equal(sql_step(st), SQL_ROW);
    int64_t pid = sql_column_int64(st, 0);
    sql_finalize(st);
    char err[256], sql[96];
    sql_conn *admin = sql_open(&f->target, false, 2000, err, sizeof err);
    assert_non_null(admin);
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld, 10000)", (long long)pid);
    assert_int_equal(sql_exec(admin, sql), SQL_OK);
    sql_close(admin);
}

/* PostgreSQL: a connection lost between transactions comes back by itself
 * (after the one statement that found it gone); one lost inside a
 * transaction fails every statement until the caller's ROLLBACK, so that
 * nothing of the transaction can commit piecemeal on a new connection. */
static void test_reconnect(void **state)
{
    fixture *f = need(state);
    if (f->dialect != SQL_DIALECT_POSTGRESQL) skip();
    sql_stmt *persistent;
    assert_int_equal(sql_prepare(f->c, "SELECT count(*) FROM t", 1, &persistent), SQL_OK);
    assert_int_equal(sql_step(persistent), SQL_ROW);
    sql_reset(persistent);

    terminate(f, f->c);
    assert_int_equal(sql_step(persistent) & 0xff, SQL_IOERR);
    sql_reset(persistent);
    assert_int_equal(sql_step(persistent), SQL_ROW); /* reconnected, prepared again */
    assert_int_equal(sql_column_int64(persistent, 0), 0);
    sql_reset(persistent);

    /* a transaction's first statement finds the connection lost: it is
     * begun again on a new one, and nothing is lost */
    terminate(f, f->c);
    assert_int_equal(sql_begin_write(f->c), SQL_OK);
    assert_int_equal(sql_exec(f->c, "ROLLBACK"), SQL_OK);

    assert_int_equal(sql_begin_write(f->c), SQL_OK);
    insert(f->c, "lost", 1, NULL, 0, NULL);
    terminate(f, f->c);
    assert_int_equal(sql_exec(f->c, "INSERT INTO t (k) VALUES ('after')") & 0xff, SQL_IOERR);
    assert_int_equal(sql_exec(f->c, "INSERT INTO t (k) VALUES ('after')") & 0xff, SQL_IOERR);
    assert_true(sql_in_transaction(f->c));
    assert_int_equal(sql_exec(f->c, "ROLLBACK"), SQL_OK);
    assert_false(sql_in_transaction(f->c));
    assert_int_equal(sql_step(persistent), SQL_ROW);
    assert_int_equal(sql_column_int64(persistent, 0), 0); /* nothing of it committed */
    sql_finalize(persistent);
}

static void test_describe(void **state)
{
    (void)state;
    char out[512];
    sql_target t = {.dialect = SQL_DIALECT_POSTGRESQL,
                    .dsn = "host=db.example port=5432 user=dtr password=hemmelig dbname=dtr"};
    assert_int_equal(sql_describe_target(&t, out, sizeof out), 0);
    assert_null(strstr(out, "hemmelig"));
    assert_non_null(strstr(out, "host=db.example"));
    assert_non_null(strstr(out, "password=********"));
    t.dsn = "postgresql://dtr:hemmelig@db.example/dtr";
    assert_int_equal(sql_describe_target(&t, out, sizeof out), 0);
    assert_null(strstr(out, "hemmelig"));
    t.dsn = "host='unterminated";
    assert_int_equal(sql_describe_target(&t, out, sizeof out), -1);
    assert_null(strstr(out, "unterminated"));
}

#define BOTH(fn)                                                                                   \
    cmocka_unit_test_setup_teardown(fn, setup_sqlite, teardown),                                   \
        cmocka_unit_test_setup_teardown(fn, setup_pg, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_values_round_trip),
        BOTH(test_parameters),
        BOTH(test_interleaved),
        BOTH(test_transactions),
        BOTH(test_errors),
        BOTH(test_lock_wait),
        BOTH(test_budget),
        BOTH(test_reconnect),
        cmocka_unit_test(test_describe),
    };
    if (!getenv("DTR_TEST_PG_DSN"))
        fprintf(stderr, "test_store_sql: DTR_TEST_PG_DSN is not set; the postgresql half is "
                        "skipped (scripts/test starts a cluster)\n");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
