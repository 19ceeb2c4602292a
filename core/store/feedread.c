/*
 * feedread.c -- the reads the feed and the exports need: hændelser from a
 * sekvensnummer, the newest one, snapshots consistent with one sekvensnummer,
 * consumer cursors; and the idempotency and audit reads.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "store/store_int.h"

#define IDEM_TTL_MS (24LL * 3600 * 1000)

static int store_haendelser_locked(store_reader *r, int64_t fra, size_t max, json_t **out)
{
    *out = NULL;
    if (max == 0) max = 1000;
    if (max > 10000) max = 10000;
    sql_stmt *q = conn_stmt(&r->c, SQ_HEV_RANGE);
    if (!q) return 503;
    sql_bind_int64(q, 1, fra);
    sql_bind_int64(q, 2, (int64_t)max);
    json_t *list = json_array();
    int rc;
    while ((rc = sql_step(q)) == SQL_ROW) {
        json_t *data = column_json(q, 6);
        json_array_append_new(
            list, json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:o}", "sekvensnummer",
                            (json_int_t)sql_column_int64(q, 0), "tidspunkt", sql_column_text(q, 1),
                            "operation", sql_column_text(q, 2), "entitet", sql_column_text(q, 3),
                            "nummer", sql_column_text(q, 4), "version",
                            (json_int_t)sql_column_int64(q, 5), "data", data ? data : json_null()));
    }
    sql_reset(q);
    if (rc != SQL_DONE) {
        json_decref(list);
        return 503;
    }
    *out = list;
    return 0;
}

static int latest_locked(store_reader *r, int64_t *sekvensnummer, char tidspunkt[40])
{
    *sekvensnummer = 0;
    tidspunkt[0] = '\0';
    sql_stmt *q = conn_stmt(&r->c, SQ_HEV_LATEST);
    if (!q) return 503;
    int rc = sql_step(q);
    if (rc == SQL_ROW) {
        *sekvensnummer = sql_column_int64(q, 0);
        snprintf(tidspunkt, 40, "%s", sql_column_text(q, 1));
    }
    sql_reset(q);
    return rc == SQL_ROW || rc == SQL_DONE ? 0 : 503;
}

int store_latest(store_reader *r, int64_t *sekvensnummer, char tidspunkt[40])
{
    int st = reader_enter(r);
    if (st) return st;
    st = latest_locked(r, sekvensnummer, tidspunkt);
    reader_leave(r);
    return st;
}

/* Ends the snapshot's transaction unless the sweeper did (holding r). */
static void snapshot_end_locked(store_reader *r)
{
    if (!r->in_snapshot) return;
    r->in_snapshot = false;
    if (r->cut) {
        r->cut = false;
        return;
    }
    snapshot_leave(r);
    conn_exec(&r->c, "COMMIT");
}

int store_snapshot_begin(store_reader *r, int64_t *sekvensnummer)
{
    pthread_mutex_lock(&r->mu);
    snapshot_end_locked(r);
    int st = snapshot_admit(r);
    if (st == 0 && sql_begin_read(r->c.db) != SQL_OK) {
        snapshot_leave(r);
        st = 503;
    }
    if (st == 0) {
        r->in_snapshot = true;
        char tidspunkt[40];
        /* the first read fixes the snapshot */
        if (latest_locked(r, sekvensnummer, tidspunkt) != 0) {
            snapshot_end_locked(r);
            st = 503;
        }
    }
    pthread_mutex_unlock(&r->mu);
    return st;
}

void store_snapshot_end(store_reader *r)
{
    pthread_mutex_lock(&r->mu);
    snapshot_end_locked(r);
    pthread_mutex_unlock(&r->mu);
}

static int store_cursor_get_locked(store_reader *r, const char *consumer, int64_t *sekvensnummer)
{
    *sekvensnummer = 0;
    sql_stmt *q = conn_stmt(&r->c, SQ_CURSOR_GET);
    if (!q) return 503;
    bind_text(q, 1, consumer);
    int rc = sql_step(q);
    if (rc == SQL_ROW) *sekvensnummer = sql_column_int64(q, 0);
    sql_reset(q);
    return rc == SQL_ROW ? 0 : rc == SQL_DONE ? 404 : 503;
}

static int store_idem_get_locked(store_reader *r, const store_command *cmd, json_t **response,
                                 bool *same_body)
{
    *response = NULL;
    *same_body = false;
    uint8_t hash[32];
    store_idem_hash(cmd, hash);
    sql_stmt *q = conn_stmt(&r->c, SQ_IDEM_GET);
    if (!q) return 503;
    bind_text(q, 1, cmd->idem_client);
    bind_text(q, 2, cmd->idem_key);
    int rc = sql_step(q);
    int status = rc == SQL_DONE ? 404 : 503;
    if (rc == SQL_ROW && sql_column_int64(q, 3) >= store_now_ms(r->c.s) - IDEM_TTL_MS) {
        *same_body = sql_column_bytes(q, 0) == (int)sizeof hash &&
                     memcmp(sql_column_blob(q, 0), hash, sizeof hash) == 0;
        *response = column_json(q, 2);
        status = *response ? 0 : 503;
    } else if (rc == SQL_ROW) {
        status = 404;
    }
    sql_reset(q);
    return status;
}

int store_audit_verify(store_reader *r, audit_report *report)
{
    return audit_verify(r->c.db, r->c.s->key, report);
}

/* ---- the public reads: each holds the reader (see limits.c) ---------------------- */

int store_haendelser(store_reader *r, int64_t fra, size_t max, json_t **out)
{
    int st = reader_enter(r);
    if (st) return st;
    st = store_haendelser_locked(r, fra, max, out);
    reader_leave(r);
    return st;
}

int store_cursor_get(store_reader *r, const char *consumer, int64_t *sekvensnummer)
{
    int st = reader_enter(r);
    if (st) return st;
    st = store_cursor_get_locked(r, consumer, sekvensnummer);
    reader_leave(r);
    return st;
}

int store_idem_get(store_reader *r, const store_command *cmd, json_t **response, bool *same_body)
{
    int st = reader_enter(r);
    if (st) return st;
    st = store_idem_get_locked(r, cmd, response, same_body);
    reader_leave(r);
    return st;
}
