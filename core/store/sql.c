/*
 * sql.c -- the statement layer's entry points (sql.h): each hands the call
 * to the driver of its connection or statement (sql_driver.h).
 */
#include "store/sql_driver.h"

sql_conn *sql_open(const sql_target *t, bool readonly, int busy_timeout_ms, char *err,
                   size_t errlen)
{
    const sql_driver *d =
        t->dialect == SQL_DIALECT_POSTGRESQL ? &sql_pg_driver : &sql_sqlite_driver;
    return d->open(t, readonly, busy_timeout_ms, err, errlen);
}

void sql_close(sql_conn *c)
{
    if (c) c->drv->close(c);
}

sql_dialect sql_dialect_of(const sql_conn *c)
{
    return c->dialect;
}

const char *sql_errmsg(sql_conn *c)
{
    return c->drv->errmsg(c);
}

const char *sql_errstr(int rc)
{
    switch (rc & 0xff) { /* an extended code reads as its primary one */
    case SQL_OK:
        return "not an error";
    case SQL_ERROR:
        return "SQL error";
    case SQL_BUSY:
        return "the database is locked";
    case SQL_NOMEM:
        return "out of memory";
    case SQL_INTERRUPT:
        return "interrupted";
    case SQL_IOERR:
        return "disk or connection I/O error";
    case SQL_NOTFOUND:
        return "not found";
    case SQL_FULL:
        return "the database or disk is full";
    case SQL_CONSTRAINT:
        return "constraint failed";
    case SQL_MISUSE:
        return "bad parameter or other API misuse";
    case SQL_ROW:
        return "another row available";
    case SQL_DONE:
        return "no more rows available";
    default:
        return "unknown error";
    }
}

int sql_exec(sql_conn *c, const char *sql)
{
    return c->drv->exec(c, sql);
}

/* The advisory lock key every instance's writers share on PostgreSQL
 * ("dtr" in ASCII): the counterpart of SQLite's one write lock. */
#define SQL_PG_WRITE_LOCK "7107698"

/* Runs a statement that begins a transaction. A connection found lost by
 * it (a server restart, a failover, an idle connection cut) is tried once
 * more: nothing ran yet, so the second attempt, on a new connection, is the
 * first that counts. */
static int begin_with(sql_conn *c, const char *sql)
{
    int rc = sql_exec(c, sql);
    if ((rc & 0xff) == SQL_IOERR && !sql_in_transaction(c)) rc = sql_exec(c, sql);
    if (rc != SQL_OK && sql_in_transaction(c)) sql_exec(c, "ROLLBACK");
    return rc;
}

int sql_begin_write(sql_conn *c)
{
    return begin_with(c, c->dialect == SQL_DIALECT_POSTGRESQL
                             ? "BEGIN; SELECT pg_advisory_xact_lock(" SQL_PG_WRITE_LOCK ")"
                             : "BEGIN IMMEDIATE");
}

int sql_begin_read(sql_conn *c)
{
    return begin_with(c, c->dialect == SQL_DIALECT_POSTGRESQL
                             ? "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                             : "BEGIN");
}

bool sql_in_transaction(sql_conn *c)
{
    return c->drv->in_transaction(c);
}

int64_t sql_changes(sql_conn *c)
{
    return c->drv->changes(c);
}

int sql_prepare(sql_conn *c, const char *sql, bool persistent, sql_stmt **out)
{
    *out = NULL;
    return c->drv->prepare(c, sql, persistent, out);
}

void sql_finalize(sql_stmt *st)
{
    if (st) st->drv->finalize(st);
}

void sql_reset(sql_stmt *st)
{
    st->drv->reset(st);
}

void sql_clear_bindings(sql_stmt *st)
{
    st->drv->clear_bindings(st);
}

sql_conn *sql_conn_of(sql_stmt *st)
{
    return st->conn;
}

int sql_bind_null(sql_stmt *st, int i)
{
    return st->drv->bind_null(st, i);
}

int sql_bind_int64(sql_stmt *st, int i, int64_t v)
{
    return st->drv->bind_int64(st, i, v);
}

int sql_bind_text(sql_stmt *st, int i, const char *s, int len)
{
    return s ? st->drv->bind_text(st, i, s, len) : st->drv->bind_null(st, i);
}

int sql_bind_blob(sql_stmt *st, int i, const void *p, int len)
{
    return p ? st->drv->bind_blob(st, i, p, len) : st->drv->bind_null(st, i);
}

int sql_bind_text_ref(sql_stmt *st, int i, const char *s, int len)
{
    if (!s) return st->drv->bind_null(st, i);
    return st->drv->bind_text_ref ? st->drv->bind_text_ref(st, i, s, len)
                                  : st->drv->bind_text(st, i, s, len);
}

int sql_bind_blob_ref(sql_stmt *st, int i, const void *p, int len)
{
    if (!p) return st->drv->bind_null(st, i);
    return st->drv->bind_blob_ref ? st->drv->bind_blob_ref(st, i, p, len)
                                  : st->drv->bind_blob(st, i, p, len);
}

int sql_step(sql_stmt *st)
{
    return st->drv->step(st);
}

bool sql_column_is_null(sql_stmt *st, int i)
{
    return st->drv->column_is_null(st, i);
}

int64_t sql_column_int64(sql_stmt *st, int i)
{
    return st->drv->column_int64(st, i);
}

int sql_column_int(sql_stmt *st, int i)
{
    return (int)st->drv->column_int64(st, i);
}

const char *sql_column_text(sql_stmt *st, int i)
{
    return st->drv->column_text(st, i);
}

const void *sql_column_blob(sql_stmt *st, int i)
{
    return st->drv->column_blob(st, i);
}

int sql_column_bytes(sql_stmt *st, int i)
{
    return st->drv->column_bytes(st, i);
}

void sql_set_budget(sql_conn *c, bool (*check)(void *udata), void *udata)
{
    c->drv->set_budget(c, check, udata);
}

int sql_data_version(sql_conn *c, int64_t *out)
{
    return c->drv->data_version(c, out);
}

void *sql_sqlite_handle(sql_conn *c)
{
    return c->drv->sqlite_handle(c);
}
