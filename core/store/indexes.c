/*
 * indexes.c -- deferred index maintenance for an initial bulk load.
 *
 * Every record row feeds the record table's list indexes (level, kommune,
 * institution type, P- and CVR-nummer, ...). Row by row, a million rows put
 * a million random inserts into each; built once at the end, an index is
 * one sort. So an import into an empty register drops those indexes first
 * and builds them again when it is done.
 *
 * Durability: the definitions of the dropped indexes are kept in the table
 * deferred_index, written in the same transaction as the drops. Whatever
 * stops the load (a crash, a kill), the next store_open finds them there
 * and builds the indexes before it serves; nothing depends on the process
 * that dropped them coming back.
 *
 * Only indexes the writer does not read are deferred: record_parent stays
 * (a close or a move reads a record's children through it), and so does
 * the unique index on nummer (a constraint, and every lookup). Readers
 * meanwhile get the same answers, found by scanning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* The indexes a bulk load may defer; see above for why no others. */
static const char *const deferrable[] = {
    "record_level",    "record_adm_kommune", "record_kommune", "record_inst_type3",
    "record_p_nummer", "record_cvr_nummer",  "record_timed",
};
#define N_DEFERRABLE (sizeof deferrable / sizeof deferrable[0])

/* Runs one statement with one text parameter to its end. */
static int run1(sql_conn *db, const char *sql, const char *param)
{
    sql_stmt *st = NULL;
    int rc = sql_prepare(db, sql, false, &st);
    if (rc != SQL_OK) return rc;
    rc = param ? sql_bind_text_ref(st, 1, param, -1) : SQL_OK;
    if (rc == SQL_OK) rc = sql_step(st);
    sql_finalize(st);
    return rc == SQL_DONE || rc == SQL_ROW ? SQL_OK : rc;
}

int indexes_defer(store_conn *c, int *deferred)
{
    *deferred = 0;
    sql_stmt *st = NULL;
    int rc = sql_prepare(c->db, "SELECT 1 FROM record LIMIT 1", false, &st);
    if (rc != SQL_OK) return rc;
    rc = sql_step(st);
    sql_finalize(st);
    if (rc == SQL_ROW) return SQL_OK; /* not an initial load */
    if (rc != SQL_DONE) return rc;

    for (size_t i = 0; i < N_DEFERRABLE; i++) {
        /* only an index that exists (a load interrupted before left the
         * others deferred already) */
        rc =
            run1(c->db,
                 sql_dialect_of(c->db) == SQL_DIALECT_POSTGRESQL
                     ? "INSERT INTO deferred_index (name, sql) SELECT indexname, indexdef FROM "
                       "pg_indexes WHERE tablename = 'record' AND indexname = ?1"
                     : "INSERT INTO deferred_index (name, sql) SELECT name, sql FROM sqlite_master "
                       "WHERE type = 'index' AND tbl_name = 'record' AND name = ?1",
                 deferrable[i]);
        if (rc != SQL_OK) return rc;
        if (sql_changes(c->db) == 0) continue;
        char drop[80];
        snprintf(drop, sizeof drop, "DROP INDEX \"%s\"", deferrable[i]);
        if ((rc = run1(c->db, drop, NULL)) != SQL_OK) return rc;
        (*deferred)++;
    }
    return SQL_OK;
}

/* The connection's page cache setting (PRAGMA cache_size: pages, or KiB
 * when negative); 0 when it cannot be read. */
static int cache_size_of(sql_conn *db)
{
    sql_stmt *st = NULL;
    int v = 0;
    if (sql_dialect_of(db) != SQL_DIALECT_SQLITE) return 0; /* the server's memory, not ours */
    if (sql_prepare(db, "PRAGMA cache_size", false, &st) == SQL_OK && sql_step(st) == SQL_ROW)
        v = sql_column_int(st, 0);
    sql_finalize(st);
    return v;
}

static void set_cache_size(sql_conn *db, int v)
{
    if (sql_dialect_of(db) != SQL_DIALECT_SQLITE) return;
    char sql[48];
    snprintf(sql, sizeof sql, "PRAGMA cache_size = %d", v);
    sql_exec(db, sql);
}

int indexes_restore(store_conn *c, int *restored)
{
    *restored = 0;
    /* the list first, whole: the builds below change the schema and the
     * table, which a statement still stepping through it should not see */
    sql_stmt *st = NULL;
    int rc = sql_prepare(c->db, "SELECT name, sql FROM deferred_index ORDER BY name", false, &st);
    if (rc != SQL_OK) return rc;
    char *(*list)[2] = NULL;
    size_t n = 0;
    while ((rc = sql_step(st)) == SQL_ROW) {
        char *(*grown)[2] = realloc(list, (n + 1) * sizeof *list);
        if (!grown) abort();
        list = grown;
        list[n][0] = strdup(sql_column_text(st, 0));
        list[n][1] = strdup(sql_column_text(st, 1));
        if (!list[n][0] || !list[n][1]) abort();
        n++;
    }
    sql_finalize(st);
    rc = rc == SQL_DONE ? SQL_OK : rc;

    /* Building an index sorts all its keys in memory (temp_store = MEMORY):
     * the page cache, no use to a sort, gives that memory back meanwhile,
     * so that the build does not add a sort's worth to the peak. */
    int cache = cache_size_of(c->db);
    if (n && cache) set_cache_size(c->db, -4096);
    for (size_t i = 0; i < n && rc == SQL_OK; i++) {
        rc = run1(c->db, list[i][1], NULL);
        if (rc == SQL_OK)
            rc = run1(c->db, "DELETE FROM deferred_index WHERE name = ?1", list[i][0]);
        if (rc != SQL_OK)
            store_log(c->s, 3, "cannot build index %s: %s", list[i][0], sql_errmsg(c->db));
        else
            (*restored)++;
    }
    if (n && cache) set_cache_size(c->db, cache);
    for (size_t i = 0; i < n; i++) {
        free(list[i][0]);
        free(list[i][1]);
    }
    free(list);
    return rc;
}

int indexes_restore_at_open(store_conn *c, char *err, size_t errlen)
{
    sql_stmt *st = NULL;
    int rc = sql_prepare(c->db, "SELECT count(*) FROM deferred_index", false, &st);
    int pending = rc == SQL_OK && sql_step(st) == SQL_ROW ? sql_column_int(st, 0) : -1;
    sql_finalize(st);
    if (pending == 0) return 0;
    if (pending > 0) {
        store_log(c->s, 2, "building %d indexes an interrupted bulk load left deferred", pending);
        int restored = 0;
        rc = sql_begin_write(c->db);
        if (rc == SQL_OK) rc = indexes_restore(c, &restored);
        if (rc == SQL_OK) rc = run1(c->db, "COMMIT", NULL);
        if (rc == SQL_OK) return 0;
        if (sql_in_transaction(c->db)) run1(c->db, "ROLLBACK", NULL);
    }
    snprintf(err, errlen, "cannot build the indexes a bulk load deferred: %s", sql_errmsg(c->db));
    return -1;
}
