/*
 * show.c -- records as GET shows them: the stored record plus "status" for
 * the day, and with STORE_NESTED its children (a daginstitution's
 * "anvisningsenheder", each with its "alternativeAdresser"), current or as
 * of a virkningsdato. Used by the readers and, inside the write transaction,
 * by the writer for the record a command's answer carries.
 */
#include <string.h>

#include "store/store_int.h"

void show_day(store_conn *c, const char *asof, char out[11])
{
    if (asof) {
        memcpy(out, asof, 10);
        out[10] = '\0';
    } else {
        store_day(store_now_ms(c->s), out);
    }
}

static const char *children_key(reg_level level)
{
    return level == REG_DAGINSTITUTION    ? "anvisningsenheder"
           : level == REG_ANVISNINGSENHED ? "alternativeAdresser"
                                          : NULL;
}

/* The children of nummer (current, or as of asof) as a new array of stored
 * records; NULL on a read error. The statement is done with before the
 * caller looks at grandchildren (they use the same statement). */
static json_t *children_of(store_conn *c, const char *nummer, const char *asof)
{
    sql_stmt *q = conn_stmt(c, asof ? SQ_ASOF_CHILDREN : SQ_REC_CHILDREN);
    if (!q) return NULL;
    bind_text(q, 1, nummer);
    if (asof) bind_text(q, 2, asof);
    json_t *kids = json_array();
    int rc;
    while ((rc = sql_step(q)) == SQL_ROW) {
        json_t *kid = column_json(q, 1);
        if (kid) json_array_append_new(kids, kid);
    }
    sql_reset(q);
    if (rc != SQL_DONE) {
        json_decref(kids);
        return NULL;
    }
    return kids;
}

bool show_decorate(store_conn *c, json_t *rec, reg_level level, const char *day, const char *asof,
                   unsigned flags)
{
    json_object_set_new(rec, "status", json_string(reg_status(rec, day)));
    const char *key = children_key(level);
    if (!(flags & STORE_NESTED) || !key) return true;
    json_t *kids = children_of(c, json_string_value(json_object_get(rec, "nummer")), asof);
    if (!kids) return false;
    size_t i;
    json_t *kid;
    json_array_foreach(kids, i, kid)
    {
        if (!show_decorate(c, kid, level + 1, day, asof, flags)) {
            json_decref(kids);
            return false;
        }
    }
    json_object_set_new(rec, key, kids);
    return true;
}

int show_record(store_conn *c, const char *nummer, const char *asof, unsigned flags,
                reg_level *level, json_t **out)
{
    *out = NULL;
    bool began = conn_read_begin(c);
    int status = 503;
    json_t *rec = NULL;
    sql_stmt *q = conn_stmt(c, SQ_REC_GET);
    if (!q) goto done;
    bind_text(q, 1, nummer);
    int rc = sql_step(q);
    if (rc == SQL_DONE) {
        status = 404;
    } else if (rc == SQL_ROW) {
        *level = (reg_level)sql_column_int(q, 0);
        if (sql_column_int(q, 1))
            status = 410;
        else if (!asof)
            rec = column_json(q, 2);
    }
    sql_reset(q);
    if (rc != SQL_ROW || status == 410) goto done;

    if (asof) {
        q = conn_stmt(c, SQ_ASOF_GET);
        if (!q) goto done;
        bind_text(q, 1, nummer);
        bind_text(q, 2, asof);
        rc = sql_step(q);
        if (rc == SQL_ROW) rec = column_json(q, 1);
        sql_reset(q);
        if (rc == SQL_DONE) {
            status = 404;
            goto done;
        }
    }
    if (!rec) goto done;
    char day[11];
    show_day(c, asof, day);
    if (show_decorate(c, rec, *level, day, asof, flags)) {
        *out = rec;
        rec = NULL;
        status = 0;
    }
done:
    json_decref(rec);
    conn_read_end(c, began);
    return status;
}
