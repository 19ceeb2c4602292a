/*
 * trail.c -- store_trail: the hændelser and the audit entries of one
 * record, for the web UI's history page (who changed what, when).
 *
 * Both tables are read by the record's number. Neither has an index on it
 * (the feed reads hændelser by sekvensnummer, the audit chain by id), so
 * each read scans its table: a few milliseconds on a register of the real
 * one's size, and it is asked for one record at a time by a person.
 */
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

/* Runs sql (one parameter: nummer) and appends one object per row, built
 * by row(). 0 or 503. */
static int trail_rows(sql_conn *db, const char *sql, const char *nummer, json_t *list,
                      json_t *(*row)(sql_stmt *q))
{
    sql_stmt *q = NULL;
    if (sql_prepare(db, sql, false, &q) != SQL_OK) return 503;
    sql_bind_text(q, 1, nummer, -1);
    int rc;
    while ((rc = sql_step(q)) == SQL_ROW)
        json_array_append_new(list, row(q));
    sql_finalize(q);
    return rc == SQL_DONE ? 0 : 503;
}

static const char *text(sql_stmt *q, int i)
{
    return sql_column_text(q, i);
}

static json_t *haendelse_row(sql_stmt *q)
{
    return json_pack("{s:I, s:s?, s:s?, s:s?, s:I}", "sekvensnummer",
                     (json_int_t)sql_column_int64(q, 0), "tidspunkt", text(q, 1), "operation",
                     text(q, 2), "entitet", text(q, 3), "version",
                     (json_int_t)sql_column_int64(q, 4));
}

static json_t *audit_row(sql_stmt *q)
{
    return json_pack("{s:I, s:s?, s:s?, s:s?, s:s?}", "id", (json_int_t)sql_column_int64(q, 0),
                     "tidspunkt", text(q, 1), "aktoer", text(q, 2), "operation", text(q, 3),
                     "requestId", text(q, 4));
}

int store_trail(store_reader *r, const char *nummer, json_t **out)
{
    *out = NULL;
    json_t *events = json_array(), *audit = json_array();
    int rc = trail_rows(r->c.db,
                        "SELECT sekvensnummer, tidspunkt, operation, entitet, version "
                        "FROM haendelse WHERE nummer = ?1 ORDER BY sekvensnummer",
                        nummer, events, haendelse_row);
    if (rc == 0)
        rc = trail_rows(r->c.db,
                        "SELECT id, tidspunkt, actor, operation, request_id FROM audit "
                        "WHERE nummer = ?1 ORDER BY id",
                        nummer, audit, audit_row);
    if (rc != 0) {
        json_decref(events);
        json_decref(audit);
        return rc;
    }
    *out = json_pack("{s:s, s:o, s:o}", "nummer", nummer, "haendelser", events, "audit", audit);
    return 0;
}
