/*
 * read.c -- readers: one record, lists with filters and cursor pagination
 * (current, or as of a virkningsdato), a record's history.
 *
 * A list "as of D" reads the history table: each record that was in effect
 * on D (by its current dates: as the register knows it today) in the
 * version whose own virkning period holds D (apply.c explains the periods).
 * The filters then apply to that version (the type, kommune and name it had
 * on D).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

store_reader *store_reader_open(store *s, char *err, size_t errlen)
{
    store_reader *r = calloc(1, sizeof *r);
    if (!r) abort();
    if (conn_open(&r->c, s, true, err, errlen) != 0) {
        free(r);
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    return r;
}

void store_reader_close(store_reader *r)
{
    if (!r) return;
    store_snapshot_end(r);
    conn_close(&r->c);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static int store_get_locked(store_reader *r, const char *nummer, const char *virkningsdato,
                            unsigned flags, reg_level *level, json_t **out)
{
    *out = NULL;
    if (!nummer) return 404;
    if (virkningsdato && !store_is_day(virkningsdato)) return 400;
    return show_record(&r->c, nummer, virkningsdato, flags, level, out);
}

/* Appends " AND <clause>" to the query text; every %s in the clause is
 * the alias. */
static void add(char *sql, size_t size, const char *fmt, const char *alias)
{
    size_t len = strlen(sql);
    snprintf(sql + len, size - len, " AND ");
    len = strlen(sql);
    snprintf(sql + len, size - len, fmt, alias, alias, alias);
}

/* Builds the list query. Parameters: ?1 level, ?2 the day, ?3 after, ?4
 * limit + 1, ?5..?11 the filters. */
static void list_sql(const store_query *q, char *sql, size_t size)
{
    const char *f; /* the alias of the row the filters see */
    const char *d; /* the alias of the current record (dates, status) */
    if (q->virkningsdato) {
        f = "h";
        d = "r";
        snprintf(sql, size,
                 "SELECT h.nummer, h.level, h.json FROM history h JOIN record r ON r.nummer = "
                 "h.nummer WHERE h.level = ?1 AND r.deleted = 0 AND r.virkning_fra <= ?2 AND "
                 "(r.virkning_til IS NULL OR r.virkning_til > ?2) AND h.virkning_fra <= ?2 AND "
                 "(h.virkning_til IS NULL OR h.virkning_til > ?2)");
    } else {
        f = d = "t";
        snprintf(sql, size,
                 "SELECT t.nummer, t.level, t.json FROM record t WHERE t.level = ?1 AND "
                 "t.deleted = 0");
    }
    if (q->after) add(sql, size, "%s.nummer > ?3", f);
    if (q->adm_kommune) add(sql, size, "%s.adm_kommune = ?5", f);
    if (q->kommune) add(sql, size, "%s.kommune = ?6", f);
    if (q->inst_type3) add(sql, size, "%s.inst_type3 = ?7", f);
    if (q->parent) add(sql, size, "%s.parent = ?8", f);
    if (q->p_nummer) add(sql, size, "%s.p_nummer = ?9", f);
    if (q->cvr_nummer) add(sql, size, "%s.cvr_nummer = ?10", f);
    if (q->navn) add(sql, size, "instr(%s.navn_fold, ?11) > 0", f);
    if (q->status && strcmp(q->status, "kommende") == 0)
        add(sql, size, "%s.virkning_fra > ?2", d);
    else if (q->status && strcmp(q->status, "aktiv") == 0)
        add(sql, size,
            "%s.virkning_fra <= ?2 AND (%s.virkning_til IS NULL OR %s.virkning_til > ?2)", d);
    else if (q->status && strcmp(q->status, "nedlagt") == 0)
        add(sql, size, "%s.virkning_til <= ?2", d);
    size_t len = strlen(sql);
    snprintf(sql + len, size - len, " ORDER BY %s.nummer LIMIT ?4", f);
}

static int store_list_locked(store_reader *r, const store_query *q, json_t **items, char next[7])
{
    *items = NULL;
    next[0] = '\0';
    size_t limit = q->limit ? q->limit : 100;
    if (limit > 1000 || (q->virkningsdato && !store_is_day(q->virkningsdato)) ||
        (q->status && strcmp(q->status, "kommende") != 0 && strcmp(q->status, "aktiv") != 0 &&
         strcmp(q->status, "nedlagt") != 0) ||
        q->level < REG_DAGINSTITUTION || q->level > REG_ALTERNATIV_ADRESSE)
        return 400;
    char sql[2048];
    list_sql(q, sql, sizeof sql);
    store_conn *c = &r->c;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        store_log(c->s, 3, "list query: %s", sqlite3_errmsg(c->db));
        return 503;
    }
    char day[11];
    show_day(c, q->virkningsdato, day);
    char *navn = store_fold(q->navn);
    sqlite3_bind_int(st, 1, (int)q->level);
    bind_text(st, 2, day);
    bind_text(st, 3, q->after);
    sqlite3_bind_int64(st, 4, (int64_t)limit + 1);
    sqlite3_bind_int(st, 5, q->adm_kommune);
    sqlite3_bind_int(st, 6, q->kommune);
    sqlite3_bind_int(st, 7, q->inst_type3);
    bind_text(st, 8, q->parent);
    bind_text(st, 9, q->p_nummer);
    bind_text(st, 10, q->cvr_nummer);
    bind_text(st, 11, navn);
    free(navn);

    bool began = conn_read_begin(c);
    json_t *list = json_array();
    int status = 0, rc;
    size_t n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == limit) { /* one more exists: this page ends at the one before */
            json_t *last = json_array_get(list, limit - 1);
            snprintf(next, 7, "%s", json_string_value(json_object_get(last, "nummer")));
            break;
        }
        json_t *rec = column_json(st, 2);
        if (!rec) continue;
        if (!show_decorate(c, rec, (reg_level)sqlite3_column_int(st, 1), day, q->virkningsdato,
                           q->flags)) {
            json_decref(rec);
            status = 503;
            break;
        }
        json_array_append_new(list, rec);
        n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) status = 503;
    sqlite3_finalize(st);
    conn_read_end(c, began);
    if (status != 0) {
        json_decref(list);
        next[0] = '\0';
        return status;
    }
    *items = list;
    return 0;
}

static json_t *text_or_null(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? json_string(s) : json_null();
}

static int store_history_locked(store_reader *r, const char *nummer, json_t **out)
{
    *out = NULL;
    sqlite3_stmt *q = conn_stmt(&r->c, SQ_HIST_LIST);
    if (!q) return 503;
    bind_text(q, 1, nummer);
    json_t *list = json_array();
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        json_t *data = column_json(q, 6);
        json_array_append_new(
            list, json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "version",
                            (json_int_t)sqlite3_column_int64(q, 0), "registreringFra",
                            text_or_null(q, 1), "registreringTil", text_or_null(q, 2),
                            "virkningFra", text_or_null(q, 3), "virkningTil", text_or_null(q, 4),
                            "aktoer", text_or_null(q, 5), "data", data ? data : json_null()));
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return 503;
    }
    if (json_array_size(list) == 0) {
        json_decref(list);
        return 404;
    }
    *out = list;
    return 0;
}

/* ---- the public reads: each holds the reader (see limits.c) ---------------------- */

int store_get(store_reader *r, const char *nummer, const char *virkningsdato, unsigned flags,
              reg_level *level, json_t **out)
{
    int st = reader_enter(r);
    if (st) return st;
    st = store_get_locked(r, nummer, virkningsdato, flags, level, out);
    reader_leave(r);
    return st;
}

int store_list(store_reader *r, const store_query *q, json_t **items, char next[7])
{
    int st = reader_enter(r);
    if (st) return st;
    st = store_list_locked(r, q, items, next);
    reader_leave(r);
    return st;
}

int store_history(store_reader *r, const char *nummer, json_t **out)
{
    int st = reader_enter(r);
    if (st) return st;
    st = store_history_locked(r, nummer, out);
    reader_leave(r);
    return st;
}
