/*
 * sql_sqlite.c -- the statement layer's SQLite driver (sql.h): each entry
 * is the SQLite call of the same name on the connection's sqlite3 handle
 * or the statement's sqlite3_stmt. Result codes are SQLite's own, extended
 * ones included (the connections have extended result codes on), so a
 * caller compares (rc & 0xff) with the SQL_* codes.
 *
 * A connection is opened as the store has always opened its own: the
 * writer's and the readers' (db.c) with the store's PRAGMAs, the side
 * connections (side.c, sql_target.side) with synchronous = FULL only.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "store/sql_driver.h"

typedef struct sqlite_conn {
    struct sql_conn base;
    sqlite3 *db;
    bool (*check)(void *udata); /* sql_set_budget's */
    void *check_udata;
    sqlite3_stmt *data_version; /* PRAGMA data_version, prepared on first use */
} sqlite_conn;

typedef struct sqlite_stmt {
    struct sql_stmt base;
    sqlite3_stmt *st;
} sqlite_stmt;

static sqlite3 *db_of(sql_conn *c)
{
    return ((sqlite_conn *)c)->db;
}

static sqlite3_stmt *st_of(sql_stmt *st)
{
    return ((sqlite_stmt *)st)->st;
}

/* No memory statistics: they put every SQLite allocation of every thread
 * behind one global mutex. Only possible before SQLite's first use in the
 * process; later it refuses, harmlessly. */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_init_once(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Opens the file of t with the flags and PRAGMAs of the store's
 * connections. The store's own (db.c) create the file and, read-write, run
 * in WAL with synchronous = FULL, a 64 MiB page cache (the indexes on
 * random keys, p- and CVR-nummer, stay in memory through a bulk import) and
 * a checkpoint every 16384 WAL pages (64 MiB) instead of 1000, so that index
 * pages written by several commits are copied to the database once (the
 * writer's connection then hands its checkpoints to the checkpoint thread,
 * checkpoint.c); read-only they turn foreign keys on. A side connection
 * (side.c) creates nothing and sets synchronous = FULL when read-write.
 * Neither changes durability: every COMMIT still syncs the WAL. */
static const char store_rw_pragmas[] =
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY;"
    "PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = "
    "16384;";
static const char store_ro_pragmas[] = "PRAGMA foreign_keys = ON;";
static const char side_rw_pragmas[] = "PRAGMA synchronous = FULL";

static sql_conn *sqlite_open(const sql_target *t, bool readonly, int busy_timeout_ms, char *err,
                             size_t errlen)
{
    pthread_once(&sqlite_once, sqlite_init_once);
    int flags = (readonly ? SQLITE_OPEN_READONLY
                          : SQLITE_OPEN_READWRITE | (t->side ? 0 : SQLITE_OPEN_CREATE)) |
                SQLITE_OPEN_NOMUTEX;
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(t->path, &db, flags, t->vfs);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(db, 1);
        sqlite3_busy_timeout(db, busy_timeout_ms);
        const char *pragmas = t->side    ? (readonly ? NULL : side_rw_pragmas)
                              : readonly ? store_ro_pragmas
                                         : store_rw_pragmas;
        if (pragmas) rc = sqlite3_exec(db, pragmas, NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    sqlite_conn *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->base.drv = &sql_sqlite_driver;
    c->base.dialect = SQL_DIALECT_SQLITE;
    c->db = db;
    return &c->base;
}

static void sqlite_close(sql_conn *c)
{
    sqlite_conn *sc = (sqlite_conn *)c;
    sqlite3_finalize(sc->data_version);
    sqlite3_close(sc->db);
    free(sc);
}

static const char *sqlite_errmsg(sql_conn *c)
{
    return sqlite3_errmsg(db_of(c));
}

static int sqlite_exec(sql_conn *c, const char *sql)
{
    return sqlite3_exec(db_of(c), sql, NULL, NULL, NULL);
}

static bool sqlite_in_transaction(sql_conn *c)
{
    return !sqlite3_get_autocommit(db_of(c));
}

static int64_t sqlite_changes(sql_conn *c)
{
    return sqlite3_changes(db_of(c));
}

static int sqlite_prepare(sql_conn *c, const char *sql, bool persistent, sql_stmt **out)
{
    sqlite3_stmt *raw = NULL;
    int rc = sqlite3_prepare_v3(db_of(c), sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0, &raw,
                                NULL);
    if (rc != SQLITE_OK) return rc;
    if (!raw) return SQLITE_MISUSE; /* no statement in the text */
    sqlite_stmt *st = malloc(sizeof *st);
    if (!st) {
        sqlite3_finalize(raw);
        return SQLITE_NOMEM;
    }
    st->base.drv = &sql_sqlite_driver;
    st->base.conn = c;
    st->st = raw;
    *out = &st->base;
    return SQLITE_OK;
}

static void sqlite_finalize(sql_stmt *st)
{
    sqlite3_finalize(st_of(st));
    free(st);
}

static void sqlite_reset(sql_stmt *st)
{
    sqlite3_reset(st_of(st));
}

static void sqlite_clear_bindings(sql_stmt *st)
{
    sqlite3_clear_bindings(st_of(st));
}

static int sqlite_bind_null(sql_stmt *st, int i)
{
    return sqlite3_bind_null(st_of(st), i);
}

static int sqlite_bind_int64(sql_stmt *st, int i, int64_t v)
{
    return sqlite3_bind_int64(st_of(st), i, v);
}

static int sqlite_bind_text(sql_stmt *st, int i, const char *s, int len)
{
    return sqlite3_bind_text(st_of(st), i, s, len, SQLITE_TRANSIENT);
}

static int sqlite_bind_blob(sql_stmt *st, int i, const void *p, int len)
{
    return sqlite3_bind_blob(st_of(st), i, p, len, SQLITE_TRANSIENT);
}

static int sqlite_bind_text_ref(sql_stmt *st, int i, const char *s, int len)
{
    return sqlite3_bind_text(st_of(st), i, s, len, SQLITE_STATIC);
}

static int sqlite_bind_blob_ref(sql_stmt *st, int i, const void *p, int len)
{
    return sqlite3_bind_blob(st_of(st), i, p, len, SQLITE_STATIC);
}

static int sqlite_step(sql_stmt *st)
{
    return sqlite3_step(st_of(st));
}

static bool sqlite_column_is_null(sql_stmt *st, int i)
{
    return sqlite3_column_type(st_of(st), i) == SQLITE_NULL;
}

static int64_t sqlite_column_int64(sql_stmt *st, int i)
{
    return sqlite3_column_int64(st_of(st), i);
}

static const char *sqlite_column_text(sql_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st_of(st), i);
}

static const void *sqlite_column_blob(sql_stmt *st, int i)
{
    return sqlite3_column_blob(st_of(st), i);
}

static int sqlite_column_bytes(sql_stmt *st, int i)
{
    return sqlite3_column_bytes(st_of(st), i);
}

/* SQLite's progress handler: a non-zero return interrupts the statement. */
static int sqlite_progress(void *udata)
{
    sqlite_conn *c = udata;
    return c->check(c->check_udata) ? 1 : 0;
}

static void sqlite_set_budget(sql_conn *c, bool (*check)(void *udata), void *udata)
{
    sqlite_conn *sc = (sqlite_conn *)c;
    sc->check = check;
    sc->check_udata = udata;
    if (check)
        sqlite3_progress_handler(sc->db, 1000, sqlite_progress, sc);
    else
        sqlite3_progress_handler(sc->db, 0, NULL, NULL);
}

/* PRAGMA data_version: a read of the WAL index, no query of a table. */
static int sqlite_data_version(sql_conn *c, int64_t *out)
{
    sqlite_conn *sc = (sqlite_conn *)c;
    int rc = SQLITE_OK;
    if (!sc->data_version)
        rc = sqlite3_prepare_v3(sc->db, "PRAGMA data_version", -1, SQLITE_PREPARE_PERSISTENT,
                                &sc->data_version, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(sc->data_version);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(sc->data_version, 0);
    if (sc->data_version) sqlite3_reset(sc->data_version);
    return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static void *sqlite_handle(sql_conn *c)
{
    return db_of(c);
}

const sql_driver sql_sqlite_driver = {
    .name = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .errmsg = sqlite_errmsg,
    .exec = sqlite_exec,
    .in_transaction = sqlite_in_transaction,
    .changes = sqlite_changes,
    .prepare = sqlite_prepare,
    .finalize = sqlite_finalize,
    .reset = sqlite_reset,
    .clear_bindings = sqlite_clear_bindings,
    .bind_null = sqlite_bind_null,
    .bind_int64 = sqlite_bind_int64,
    .bind_text = sqlite_bind_text,
    .bind_blob = sqlite_bind_blob,
    .bind_text_ref = sqlite_bind_text_ref,
    .bind_blob_ref = sqlite_bind_blob_ref,
    .step = sqlite_step,
    .column_is_null = sqlite_column_is_null,
    .column_int64 = sqlite_column_int64,
    .column_text = sqlite_column_text,
    .column_blob = sqlite_column_blob,
    .column_bytes = sqlite_column_bytes,
    .set_budget = sqlite_set_budget,
    .data_version = sqlite_data_version,
    .sqlite_handle = sqlite_handle,
};
