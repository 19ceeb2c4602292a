/*
 * apply.c -- writes one change the register decided: the current record,
 * its history, its hændelse and its audit row. Runs on the writer thread,
 * inside the command's savepoint; any failure is returned as the driver's code
 * and the caller rolls the savepoint back.
 *
 * History periods. Each version has its own virkning period: version 1
 * starts on the record's virkningFra; a later version starts on the day it
 * was registered (never before the record's virkningFra nor before the
 * version it replaces) and the replaced version ends there. A version
 * replaced on the day it started keeps an empty period: it was never the
 * version in force. Reads "as of D" pick the version whose period holds D.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

json_t *rec_stored(const json_t *rec)
{
    if (!json_is_object(rec)) return NULL;
    json_t *copy = json_copy((json_t *)rec);
    json_object_del(copy, "status");
    json_object_del(copy, "anvisningsenheder");
    json_object_del(copy, "alternativeAdresser");
    return copy;
}

static int int_field(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (int)json_integer_value(v) : 0;
}

void rec_cols_of(const json_t *rec, reg_level level, rec_cols *out)
{
    memset(out, 0, sizeof *out);
    const char *parent_field = reg_level_parent_field(level);
    if (parent_field) out->parent = json_string_value(json_object_get(rec, parent_field));
    out->virkning_fra = json_string_value(json_object_get(rec, "virkningFra"));
    out->virkning_til = json_string_value(json_object_get(rec, "virkningTil"));
    out->version = json_integer_value(json_object_get(rec, "version"));
    if (level == REG_DAGINSTITUTION)
        out->adm_kommune = int_field(rec, "admKommuneKode");
    else
        out->kommune = int_field(json_object_get(rec, "adresse"), "kommuneKode");
    if (level == REG_ANVISNINGSENHED) out->inst_type3 = int_field(rec, "instType3");
    out->p_nummer = json_string_value(json_object_get(rec, "pNummer"));
    out->cvr_nummer = json_string_value(json_object_get(rec, "cvrNummer"));
    out->navn_fold = store_fold(json_string_value(json_object_get(rec, "navn")));
}

void rec_cols_free(rec_cols *cols)
{
    free(cols->navn_fold);
    cols->navn_fold = NULL;
}

static void bind_code(sql_stmt *st, int i, int code)
{
    if (code)
        sql_bind_int64(st, i, code);
    else
        sql_bind_null(st, i);
}

/* Runs a write statement to its end; the driver's code (SQL_OK when done). */
static int step_done(sql_stmt *st)
{
    int rc = sql_step(st);
    sql_reset(st);
    return rc == SQL_DONE ? SQL_OK : rc;
}

static const char *later_day(const char *a, const char *b)
{
    if (!a) return b;
    if (!b) return a;
    return strcmp(a, b) >= 0 ? a : b;
}

/* The current record row (insert or update) and a new history version,
 * closing the version it replaces. */
static int write_version(apply_ctx *a, const reg_change *ch, const char *stored,
                         const rec_cols *cols)
{
    store_conn *c = a->c;
    sql_stmt *q = conn_stmt(c, SQ_REC_PUT);
    if (!q) return SQL_ERROR;
    bind_text(q, 1, ch->nummer);
    sql_bind_int64(q, 2, (int)ch->level);
    bind_text(q, 3, cols->parent);
    sql_bind_int64(q, 4, cols->version);
    bind_text(q, 5, cols->virkning_fra);
    bind_text(q, 6, cols->virkning_til);
    bind_text(q, 7, a->today);
    bind_code(q, 8, cols->adm_kommune);
    bind_code(q, 9, cols->kommune);
    bind_code(q, 10, cols->inst_type3);
    bind_text(q, 11, cols->p_nummer);
    bind_text(q, 12, cols->cvr_nummer);
    bind_text(q, 13, cols->navn_fold);
    sql_bind_text_ref(q, 14, stored, -1);
    int rc = step_done(q);
    if (rc != SQL_OK) return rc;

    /* the day this version starts to be the one in force */
    char start[11];
    snprintf(start, sizeof start, "%s", cols->virkning_fra ? cols->virkning_fra : a->today);
    if (strcmp(ch->operation, "oprettet") != 0) {
        q = conn_stmt(c, SQ_HIST_OPEN);
        if (!q) return SQL_ERROR;
        bind_text(q, 1, ch->nummer);
        char prev_start[11] = "";
        rc = sql_step(q);
        if (rc == SQL_ROW) snprintf(prev_start, sizeof prev_start, "%s", sql_column_text(q, 1));
        sql_reset(q);
        if (rc != SQL_ROW && rc != SQL_DONE) return rc;
        snprintf(start, sizeof start, "%s",
                 later_day(later_day(a->today, cols->virkning_fra), prev_start));
        q = conn_stmt(c, SQ_HIST_CLOSE);
        if (!q) return SQL_ERROR;
        bind_text(q, 1, ch->nummer);
        bind_text(q, 2, a->now);
        bind_text(q, 3, start);
        if ((rc = step_done(q)) != SQL_OK) return rc;
    }

    q = conn_stmt(c, SQ_HIST_INSERT);
    if (!q) return SQL_ERROR;
    bind_text(q, 1, ch->nummer);
    sql_bind_int64(q, 2, cols->version);
    sql_bind_int64(q, 3, (int)ch->level);
    bind_text(q, 4, cols->parent);
    bind_text(q, 5, a->now);
    bind_text(q, 6, start);
    bind_text(q, 7, a->actor);
    bind_code(q, 8, cols->adm_kommune);
    bind_code(q, 9, cols->kommune);
    bind_code(q, 10, cols->inst_type3);
    bind_text(q, 11, cols->p_nummer);
    bind_text(q, 12, cols->cvr_nummer);
    bind_text(q, 13, cols->navn_fold);
    sql_bind_text_ref(q, 14, stored, -1);
    return step_done(q);
}

/* A deletion: the row stays (deleted, its last version kept), the open
 * history version ends its registration, and the number is burnt. */
static int write_delete(apply_ctx *a, const reg_change *ch)
{
    store_conn *c = a->c;
    sql_stmt *q = conn_stmt(c, SQ_REC_DELETE);
    if (!q) return SQL_ERROR;
    bind_text(q, 1, ch->nummer);
    bind_text(q, 2, a->today);
    int rc = step_done(q);
    if (rc != SQL_OK) return rc;
    if (sql_changes(c->db) != 1) return SQL_NOTFOUND;
    q = conn_stmt(c, SQ_HIST_CLOSE);
    if (!q) return SQL_ERROR;
    bind_text(q, 1, ch->nummer);
    bind_text(q, 2, a->now);
    if ((rc = step_done(q)) != SQL_OK) return rc;
    q = conn_stmt(c, SQ_BURNT_PUT);
    if (!q) return SQL_ERROR;
    bind_text(q, 1, ch->nummer);
    bind_text(q, 2, a->now);
    return step_done(q);
}

/* The hændelse's data: the record as stored with "status" (the record's
 * status on the day of the change) as its last member, compact. When the
 * stored text is at hand it is reused: jansson writes members in insertion
 * order, so the text with ,"status":"..." before its closing brace is the
 * bytes a dump of the record plus status would give. malloc'd. */
static char *haendelse_data(const json_t *stored, const char *text, const char *status)
{
    size_t len = text ? strlen(text) : 0;
    if (len < 2 || text[len - 1] != '}' || json_object_get(stored, "status")) {
        json_t *data = json_copy((json_t *)stored);
        json_object_set_new(data, "status", json_string(status));
        char *out = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(data);
        return out;
    }
    /* the status is one of the register's plain ASCII words */
    size_t slen = strlen(status);
    bool empty = json_object_size(stored) == 0;
    char *out = malloc(len + slen + 16);
    if (!out) return NULL;
    memcpy(out, text, len - 1);
    snprintf(out + len - 1, slen + 17, "%s\"status\":\"%s\"}", empty ? "" : ",", status);
    return out;
}

/* The change's hændelse with the next sekvensnummer. data carries the
 * record with its status on the day of the change; text is the stored
 * record's compact dump (NULL for a deletion). */
static int write_haendelse(apply_ctx *a, const reg_change *ch, const json_t *stored,
                           const char *text, int64_t version, int64_t *seq)
{
    store_conn *c = a->c;
    sql_stmt *q = conn_stmt(c, SQ_HEV_NEXT);
    if (!q) return SQL_ERROR;
    int rc = sql_step(q);
    int64_t next = rc == SQL_ROW ? sql_column_int64(q, 0) : 0;
    sql_reset(q);
    if (rc != SQL_ROW) return rc;

    char *data = haendelse_data(stored, text, reg_status(stored, a->today));
    if (!data) return SQL_NOMEM;
    q = conn_stmt(c, SQ_HEV_INSERT);
    if (!q) {
        free(data);
        return SQL_ERROR;
    }
    sql_bind_int64(q, 1, next);
    bind_text(q, 2, a->now);
    bind_text(q, 3, ch->operation);
    bind_text(q, 4, reg_level_name(ch->level));
    bind_text(q, 5, ch->nummer);
    sql_bind_int64(q, 6, version);
    sql_bind_text_ref(q, 7, data, -1);
    rc = step_done(q);
    sql_clear_bindings(q); /* data goes now */
    free(data);
    if (rc == SQL_OK) *seq = next;
    return rc;
}

/* The audit row of a change: before as the register read it, after as it
 * was stored (the text written to the record). */
static int write_audit(apply_ctx *a, const reg_change *ch, const char *after)
{
    if (a->audit_trail) {
        json_t *stored_after = after ? json_loads(after, 0, NULL) : NULL;
        int rc =
            json_array_append_new(
                a->audit_trail, json_pack("{s:s, s:s, s:s, s:O?, s:o?}", "operation", ch->operation,
                                          "niveau", reg_level_name(ch->level), "nummer", ch->nummer,
                                          "before", ch->before, "after", stored_after)) == 0
                ? SQL_OK
                : SQL_NOMEM;
        return rc;
    }
    char *before = ch->before ? json_dumps(ch->before, JSON_COMPACT) : NULL;
    audit_entry e = {
        .tidspunkt = a->now,
        .actor = a->actor,
        .request_id = a->request_id,
        .operation = ch->operation,
        .level = reg_level_name(ch->level),
        .nummer = ch->nummer,
        .before = before,
        .after = after,
    };
    int rc = audit_writer_append(&a->c->audit, a->c->s->key, &e, NULL);
    free(before);
    return rc;
}

int apply_change(apply_ctx *a, const reg_change *ch, int64_t *seq)
{
    bool deletion = strcmp(ch->operation, "slettet") == 0;
    const json_t *rec = deletion ? ch->before : ch->after;
    json_t *stored = rec_stored(rec);
    if (!stored) return SQL_MISUSE;
    rec_cols cols;
    rec_cols_of(stored, ch->level, &cols);
    char *text = deletion ? NULL : json_dumps(stored, JSON_COMPACT);
    int rc = deletion ? write_delete(a, ch) : text ? write_version(a, ch, text, &cols) : SQL_NOMEM;
    if (rc == SQL_OK && strcmp(ch->operation, "oprettet") == 0)
        rc = alloc_note_number(a->c, ch->nummer);
    if (rc == SQL_OK) rc = write_haendelse(a, ch, stored, text, cols.version, seq);
    if (rc == SQL_OK && !a->no_audit) rc = write_audit(a, ch, text);
    free(text);
    rec_cols_free(&cols);
    json_decref(stored);
    return rc;
}
