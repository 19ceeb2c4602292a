/*
 * side.c -- the store's side connections (store_db.h): where the database
 * is, which drivers this build has, opening a connection for the CLI
 * tools, the client cache and the sessions, and its write transactions.
 *
 * A side connection is a plain SQLite connection to the same file the
 * writer commits to (WAL): a read-only one never waits for the writer; a
 * read-write one takes the write lock with BEGIN IMMEDIATE and waits for it
 * up to its busy timeout, committing with synchronous=FULL as the writer
 * does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errtext.h"
#include "store/store_int.h"

int store_driver_check(const char *name, char *err, size_t errlen)
{
    if (name && strcmp(name, "sqlite") == 0) return 0;
    if (name && strcmp(name, "postgresql") == 0)
        return errtext(err, errlen, -1,
                       "\"postgresql\" is not available: this build has only the \"sqlite\" "
                       "driver");
    return errtext(err, errlen, -1, "unknown driver \"%.64s\" (this build has only \"sqlite\")",
                   name ? name : "");
}

int store_location(const char *data_dir, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s/dtr.sqlite", data_dir);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

store_db *store_db_open(const char *data_dir, bool write, int busy_timeout_ms, char *err,
                        size_t errlen)
{
    store_db *db = calloc(1, sizeof *db);
    if (!db) abort();
    if (store_location(data_dir, db->path, sizeof db->path) != 0) {
        free(db);
        errtext(err, errlen, -1, "the data directory's path is too long");
        return NULL;
    }
    int flags = (write ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(db->path, &db->db, flags, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(db->db, 1);
        sqlite3_busy_timeout(db->db, busy_timeout_ms);
        if (write) rc = sqlite3_exec(db->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        errtext(err, errlen, -1, "%.300s: %s", db->path,
                db->db ? sqlite3_errmsg(db->db) : sqlite3_errstr(rc));
        store_db_close(db);
        return NULL;
    }
    return db;
}

void store_db_close(store_db *db)
{
    if (!db) return;
    sqlite3_finalize(db->data_version);
    sqlite3_finalize(db->generation);
    sqlite3_finalize(db->clients);
    sqlite3_finalize(db->person_state);
    sqlite3_close(db->db);
    free(db);
}

int side_stmt(store_db *db, sqlite3_stmt **st, const char *sql)
{
    if (*st) {
        sqlite3_reset(*st);
        sqlite3_clear_bindings(*st);
        return SQLITE_OK;
    }
    return sqlite3_prepare_v2(db->db, sql, -1, st, NULL);
}

int store_db_begin(store_db *db, char *err, size_t errlen)
{
    if (!sqlite3_get_autocommit(db->db))
        return errtext(err, errlen, -1, "a transaction is already open on this connection");
    if (sqlite3_exec(db->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return errtext(err, errlen, -1, "cannot begin a write transaction: %s",
                       sqlite3_errmsg(db->db));
    return 0;
}

int store_db_end(store_db *db, int rc, char *err, size_t errlen)
{
    if (rc == 0 && sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = errtext(err, errlen, -1, "cannot commit: %s", sqlite3_errmsg(db->db));
    if (!sqlite3_get_autocommit(db->db)) sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* PRAGMA data_version: a read of the WAL index, no query of a table. */
int store_db_version(store_db *db, int64_t *out, char *err, size_t errlen)
{
    int rc = side_stmt(db, &db->data_version, "PRAGMA data_version");
    if (rc == SQLITE_OK) rc = sqlite3_step(db->data_version);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(db->data_version, 0);
    if (db->data_version) sqlite3_reset(db->data_version);
    if (rc != SQLITE_ROW)
        return errtext(err, errlen, -1, "cannot read the database's version: %s",
                       sqlite3_errstr(rc));
    return 0;
}
