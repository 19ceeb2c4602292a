/*
 * sql.h -- the store's statement layer: a connection, statements with
 * numbered parameters, rows stepped one at a time. Everything in core/store
 * reaches its database through this header; two drivers implement it:
 * SQLite (sql_sqlite.c, the embedded default) and PostgreSQL (sql_pg.c,
 * libpq). docs/decisions.md, "One store interface", says why the seam is
 * here and not at named operations only.
 *
 * The model is SQLite's, because the store was written against it and it
 * maps onto libpq without loss:
 *
 *   sql_stmt *st;
 *   if (sql_prepare(c, "SELECT json FROM record WHERE nummer = ?1", 0, &st) != SQL_OK) ...
 *   sql_bind_text(st, 1, nummer);
 *   while ((rc = sql_step(st)) == SQL_ROW)
 *       use(sql_column_text(st, 0));
 *   sql_finalize(st);
 *
 * SQL text: statements are written once, in the portable subset both
 * engines share, with parameters spelled ?1, ?2, ... (the PostgreSQL driver
 * rewrites them to $1, $2 outside quotes). A statement whose text must differ
 * between the engines is chosen by the caller with sql_dialect.
 *
 * Result codes: the values are SQLite's primary result codes, so a driver's
 * code logged as a number means the same on both. The PostgreSQL driver maps
 * SQLSTATEs onto them (unique violation -> SQL_CONSTRAINT, serialization
 * failure or lock timeout -> SQL_BUSY, a lost connection -> SQL_IOERR, a
 * cancelled statement -> SQL_INTERRUPT). A driver may return an extended
 * code (SQLite's SQLITE_IOERR_FSYNC, say): compare (rc & 0xff) with these.
 *
 * Threads: a connection and its statements belong to one thread at a time.
 */
#ifndef DTR_STORE_SQL_H
#define DTR_STORE_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    SQL_OK = 0,
    SQL_ERROR = 1,
    SQL_BUSY = 5,
    SQL_NOMEM = 7,
    SQL_INTERRUPT = 9,
    SQL_IOERR = 10,
    SQL_NOTFOUND = 12,
    SQL_FULL = 13,
    SQL_CONSTRAINT = 19,
    SQL_MISUSE = 21,
    SQL_RANGE = 25,
    SQL_ROW = 100,
    SQL_DONE = 101,
};

typedef enum sql_dialect { SQL_DIALECT_SQLITE, SQL_DIALECT_POSTGRESQL } sql_dialect;

/* Where a connection goes. sqlite: path is the database file and vfs the
 * VFS's name (NULL: the default). postgresql: dsn is a libpq connection
 * string (key=value or URI); it is never logged with its password.
 * side: a side connection (store_db.h) rather than the store's own; SQLite
 * then creates no file and sets only synchronous = FULL (read-write), where
 * the store's own connections set up WAL, the page cache and foreign keys. */
typedef struct sql_target {
    sql_dialect dialect;
    const char *path;
    const char *vfs;
    const char *dsn;
    bool side;
} sql_target;

/* The target as a log may show it ("sqlite:<path>", or "postgresql:" and
 * the DSN's keywords with the password replaced by asterisks). 0, or -1
 * when it did not fit or the DSN cannot be parsed (out then says so). */
int sql_describe_target(const sql_target *t, char *out, size_t outlen);

typedef struct sql_conn sql_conn;
typedef struct sql_stmt sql_stmt;

/* Opens a connection: readonly (no writes accepted), else read-write with
 * durable commits. busy_timeout_ms: how long a statement waits for another
 * connection's lock before SQL_BUSY. NULL with the reason in err. */
sql_conn *sql_open(const sql_target *t, bool readonly, int busy_timeout_ms, char *err,
                   size_t errlen);
/* Finalizes nothing: every statement must be finalized first. NULL allowed. */
void sql_close(sql_conn *c);
sql_dialect sql_dialect_of(const sql_conn *c);

/* The last error on c as text (valid until the next call on c). */
const char *sql_errmsg(sql_conn *c);
/* The text of a result code. */
const char *sql_errstr(int rc);
/* Runs one or more statements without results (DDL, BEGIN, PRAGMA).
 * SQL_OK or a code; the message is in sql_errmsg. */
int sql_exec(sql_conn *c, const char *sql);
/* Begins a write transaction that holds the database's one write lock
 * from its first statement to its end, so that what it reads is what its
 * writes build on (SQLite: BEGIN IMMEDIATE; PostgreSQL: BEGIN, then a
 * transaction-level advisory lock every instance takes alike, waited for up
 * to the busy timeout). On failure nothing is left open. */
int sql_begin_write(sql_conn *c);
/* Begins a read-only transaction whose statements all see one snapshot
 * (SQLite: BEGIN; PostgreSQL: REPEATABLE READ, READ ONLY). */
int sql_begin_read(sql_conn *c);
/* Whether a transaction is open on c. */
bool sql_in_transaction(sql_conn *c);
/* Rows changed by the last INSERT, UPDATE or DELETE stepped on c. */
int64_t sql_changes(sql_conn *c);

/* Prepares one statement. persistent: kept for the connection's life (the
 * store's catalogue); the driver may then prepare it on the server once.
 * SQL_OK or a code. */
int sql_prepare(sql_conn *c, const char *sql, bool persistent, sql_stmt **out);
/* NULL allowed. */
void sql_finalize(sql_stmt *st);
/* Ends a statement's run (its rows, its read of the database) and keeps its
 * bindings; the next sql_step runs it again. */
void sql_reset(sql_stmt *st);
void sql_clear_bindings(sql_stmt *st);
sql_conn *sql_conn_of(sql_stmt *st);

/* Parameters are numbered from 1. Texts and blobs are copied. SQL_OK, or
 * SQL_NOMEM, or SQL_RANGE (no such parameter in the statement). */
int sql_bind_null(sql_stmt *st, int i);
int sql_bind_int64(sql_stmt *st, int i, int64_t v);
int sql_bind_text(sql_stmt *st, int i, const char *s, int len); /* len < 0: to the NUL */
int sql_bind_blob(sql_stmt *st, int i, const void *p, int len);
/* The same without the copy (SQLite: SQLITE_STATIC): s or p must stay as it
 * is while the statement may run with this binding, until the parameter is
 * bound again, the bindings are cleared or the statement is finalized.
 * For the writer's large texts (records, hændelser) and its audit rows, so
 * that binding them copies and allocates nothing. A driver without them
 * copies (sql.c). */
int sql_bind_text_ref(sql_stmt *st, int i, const char *s, int len);
int sql_bind_blob_ref(sql_stmt *st, int i, const void *p, int len);

/* Runs the statement on its first call after prepare/reset and returns the
 * first row (SQL_ROW) or SQL_DONE; each further call the next row. Any other
 * value is an error (sql_errmsg). */
int sql_step(sql_stmt *st);

/* The current row's column i (from 0). A NULL column reads as 0, NULL text,
 * NULL blob with 0 bytes. Pointers stay valid until the next step, reset or
 * finalize of st. */
bool sql_column_is_null(sql_stmt *st, int i);
int64_t sql_column_int64(sql_stmt *st, int i);
int sql_column_int(sql_stmt *st, int i);
const char *sql_column_text(sql_stmt *st, int i);
const void *sql_column_blob(sql_stmt *st, int i);
int sql_column_bytes(sql_stmt *st, int i); /* of the text or the blob */

/* A budget for the statements stepped on c from now on: check is called
 * every so often while a statement works (SQLite: every 1000 VM steps;
 * PostgreSQL: the statement gets a server-side timeout instead and check is
 * asked once before each step); when it returns true the statement stops
 * with SQL_INTERRUPT. NULL check ends the budget. */
void sql_set_budget(sql_conn *c, bool (*check)(void *udata), void *udata);

/* A number that moves whenever another connection committed since c last
 * looked (SQLite: PRAGMA data_version; PostgreSQL: the driver's count of
 * commit notifications). SQL_OK or a code. */
int sql_data_version(sql_conn *c, int64_t *out);

/* Engine-only machinery (the WAL checkpoints of checkpoint.c, which have no
 * PostgreSQL counterpart): the sqlite3 handle of a SQLite connection, NULL on
 * another driver. void * so that this header names no engine. */
void *sql_sqlite_handle(sql_conn *c);

#endif /* DTR_STORE_SQL_H */
