/*
 * side.c -- the store's side connections (store_db.h): where the database
 * is, which drivers this build has, opening a connection for the CLI
 * tools, the client cache and the sessions, and its write transactions.
 *
 * A side connection is a plain connection (sql_target.side) to the file the
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

store_db *store_db_open(const char *data_dir, bool write, int busy_timeout_ms, char *err,
                        size_t errlen)
{
    store_db *db = calloc(1, sizeof *db);
    if (!db) abort();
    sql_target t;
    if (store_target_of(data_dir, &t, db->path, sizeof db->path) != 0) {
        free(db);
        errtext(err, errlen, -1, "the data directory's path is too long");
        return NULL;
    }
    t.side = true;
    char why[512], where[300];
    sql_describe_target(&t, where, sizeof where);
    db->db = sql_open(&t, !write, busy_timeout_ms, why, sizeof why);
    if (!db->db) {
        errtext(err, errlen, -1, "%.300s: %s", where, why);
        store_db_close(db);
        return NULL;
    }
    return db;
}

void store_db_close(store_db *db)
{
    if (!db) return;
    sql_finalize(db->generation);
    sql_finalize(db->clients);
    sql_finalize(db->person_state);
    sql_close(db->db);
    free(db);
}

int side_stmt(store_db *db, sql_stmt **st, const char *sql)
{
    if (*st) {
        sql_reset(*st);
        sql_clear_bindings(*st);
        return SQL_OK;
    }
    return sql_prepare(db->db, sql, false, st);
}

int store_db_begin(store_db *db, char *err, size_t errlen)
{
    if (sql_in_transaction(db->db))
        return errtext(err, errlen, -1, "a transaction is already open on this connection");
    if (sql_begin_write(db->db) != SQL_OK)
        return errtext(err, errlen, -1, "cannot begin a write transaction: %s", sql_errmsg(db->db));
    return 0;
}

int store_db_end(store_db *db, int rc, char *err, size_t errlen)
{
    if (rc == 0 && sql_exec(db->db, "COMMIT") != SQL_OK)
        rc = errtext(err, errlen, -1, "cannot commit: %s", sql_errmsg(db->db));
    if (sql_in_transaction(db->db)) sql_exec(db->db, "ROLLBACK");
    return rc;
}

/* The driver's data version (SQLite: PRAGMA data_version, a read of the
 * WAL index, no query of a table). */
int store_db_version(store_db *db, int64_t *out, char *err, size_t errlen)
{
    int rc = sql_data_version(db->db, out);
    if (rc != SQL_OK)
        return errtext(err, errlen, -1, "cannot read the database's version: %s", sql_errstr(rc));
    return 0;
}
