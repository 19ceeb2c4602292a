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

/* Whether a navn search can use the trigram index: three characters or
 * more (a trigram), counted in code points of the folded text. */
static bool navn_indexed(const char *navn)
{
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)navn; *p; p++)
        if ((*p & 0xc0) != 0x80) chars++;
    return chars >= 3;
}

/* The trigram index's query for a substring. SQLite (FTS5): one phrase,
 * quotes doubled. PostgreSQL (pg_trgm): a LIKE pattern, the substring
 * between % with its own %, _ and \ escaped. malloc'd. */
static char *navn_phrase(const char *folded, sql_dialect dialect)
{
    size_t n = strlen(folded);
    char *out = malloc(2 * n + 3), *p = out;
    if (!out) abort();
    bool pg = dialect == SQL_DIALECT_POSTGRESQL;
    *p++ = pg ? '%' : '"';
    for (const char *s = folded; *s; s++) {
        if (!pg && *s == '"') *p++ = '"';
        if (pg && (*s == '%' || *s == '_' || *s == '\\')) *p++ = '\\';
        *p++ = *s;
    }
    *p++ = pg ? '%' : '"';
    *p = '\0';
    return out;
}

/* Builds the list query. Parameters: ?1 level, ?2 the day, ?3 after, ?4
 * limit + 1, ?5..?11 the filters, ?12 the navn phrase for the trigram
 * index (use_fts), ?13 the last number of the window (windowed). */
static void list_sql(const store_query *q, bool use_fts, bool windowed, sql_dialect dialect,
                     char *sql, size_t size)
{
    bool pg = dialect == SQL_DIALECT_POSTGRESQL;
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
    } else if (use_fts) {
        /* the index's matches drive the query (CROSS JOIN keeps that order:
         * left to the planner it walks the whole level and checks each);
         * the matches are sorted by number without their JSON, and only the
         * page's rows are read whole */
        f = d = "x";
        snprintf(sql, size, "%s",
                 pg ? "SELECT t.nummer, t.level, t.json FROM record t WHERE t.id IN (SELECT x.id "
                      "FROM record x WHERE x.navn_fold LIKE ?12 ESCAPE '\\' AND x.level = ?1 AND "
                      "x.deleted = 0"
                    : "SELECT t.nummer, t.level, t.json FROM record t WHERE t.id IN (SELECT x.id "
                      "FROM record_navn m CROSS JOIN record x ON x.id = m.rowid WHERE "
                      "m.record_navn MATCH ?12 AND x.level = ?1 AND x.deleted = 0");
    } else {
        f = d = "t";
        snprintf(sql, size,
                 "SELECT t.nummer, t.level, t.json FROM record t WHERE t.level = ?1 AND "
                 "t.deleted = 0");
    }
    if (q->after) add(sql, size, "%s.nummer > ?3", f);
    if (windowed) add(sql, size, "%s.nummer <= ?13", f);
    if (q->adm_kommune) add(sql, size, "%s.adm_kommune = ?5", f);
    if (q->kommune) add(sql, size, "%s.kommune = ?6", f);
    if (q->inst_type3) add(sql, size, "%s.inst_type3 = ?7", f);
    if (q->parent) add(sql, size, "%s.parent = ?8", f);
    if (q->p_nummer) add(sql, size, "%s.p_nummer = ?9", f);
    if (q->cvr_nummer) add(sql, size, "%s.cvr_nummer = ?10", f);
    if (q->navn)
        add(sql, size, pg ? "strpos(%s.navn_fold, ?11) > 0" : "instr(%s.navn_fold, ?11) > 0", f);
    if (q->status && strcmp(q->status, "kommende") == 0)
        add(sql, size, "%s.virkning_fra > ?2", d);
    else if (q->status && strcmp(q->status, "aktiv") == 0)
        add(sql, size,
            "%s.virkning_fra <= ?2 AND (%s.virkning_til IS NULL OR %s.virkning_til > ?2)", d);
    else if (q->status && strcmp(q->status, "nedlagt") == 0)
        add(sql, size, "%s.virkning_til <= ?2", d);
    size_t len = strlen(sql);
    snprintf(sql + len, size - len, " ORDER BY %s.nummer LIMIT ?4", f);
    if (use_fts) {
        len = strlen(sql);
        snprintf(sql + len, size - len, ") ORDER BY t.nummer");
    }
}

/* The budget of a navn search's scan before it gives way to the index, in
 * calls of the progress handler (each after 1000 virtual machine steps):
 * a few milliseconds, a small part of a scan of 100,000 records. */
int store_navn_scan_budget = 50;

typedef struct scan_budget {
    int left;
    bool spent;
} scan_budget;

static bool scan_progress(void *udata)
{
    scan_budget *b = udata;
    if (--b->left > 0) return false;
    b->spent = true;
    return true; /* interrupts the statement */
}

/* One run of the list query; budget (when not NULL) bounds it; window
 * (when not NULL) is the last number it may read. */
static int list_run(store_reader *r, const store_query *q, const char *navn, bool use_fts,
                    scan_budget *budget, const char *window, size_t limit, json_t **items,
                    char next[7])
{
    char sql[2048];
    store_conn *c = &r->c;
    list_sql(q, use_fts, window != NULL, sql_dialect_of(c->db), sql, sizeof sql);
    sql_stmt *st = NULL;
    if (sql_prepare(c->db, sql, false, &st) != SQL_OK) {
        store_log(c->s, 3, "list query: %s", sql_errmsg(c->db));
        return 503;
    }
    char day[11];
    show_day(c, q->virkningsdato, day);
    sql_bind_int64(st, 1, (int)q->level);
    bind_text(st, 2, day);
    bind_text(st, 3, q->after);
    sql_bind_int64(st, 4, (int64_t)limit + 1);
    sql_bind_int64(st, 5, q->adm_kommune);
    sql_bind_int64(st, 6, q->kommune);
    sql_bind_int64(st, 7, q->inst_type3);
    bind_text(st, 8, q->parent);
    bind_text(st, 9, q->p_nummer);
    bind_text(st, 10, q->cvr_nummer);
    bind_text(st, 11, navn);
    char *phrase = use_fts ? navn_phrase(navn, sql_dialect_of(c->db)) : NULL;
    if (phrase) bind_text(st, 12, phrase);
    free(phrase);
    if (window) bind_text(st, 13, window);

    if (budget) sql_set_budget(c->db, scan_progress, budget);
    bool began = conn_read_begin(c);
    json_t *list = json_array();
    int status = 0, rc;
    size_t n = 0;
    while ((rc = sql_step(st)) == SQL_ROW) {
        if (n == limit) { /* one more exists: this page ends at the one before */
            json_t *last = json_array_get(list, limit - 1);
            snprintf(next, 7, "%s", json_string_value(json_object_get(last, "nummer")));
            break;
        }
        json_t *rec = column_json(st, 2);
        if (!rec) continue;
        if (!show_decorate(c, rec, (reg_level)sql_column_int(st, 1), day, q->virkningsdato,
                           q->flags)) {
            json_decref(rec);
            status = 503;
            break;
        }
        json_array_append_new(list, rec);
        n++;
    }
    if (rc != SQL_ROW && rc != SQL_DONE) status = 503;
    sql_finalize(st);
    conn_read_end(c, began);
    if (budget) sql_set_budget(c->db, NULL, NULL);
    if (budget && budget->spent) status = -1; /* the caller takes the index */
    if (status != 0) {
        json_decref(list);
        next[0] = '\0';
        return status;
    }
    *items = list;
    return 0;
}

/* The numbers a list page may read when no index serves its filter (a navn
 * under three characters, which has no trigram; an as-of day; a status)
 * and no other filter narrows it: a rare match would otherwise read the
 * whole level (a third of a second at 100,000 units) for one page. Past
 * it the page ends early, possibly empty, with naeste at the window's last
 * number (docs/api.md). */
int store_list_window = 20000;

static bool list_needs_window(const store_query *q, const char *navn, bool indexed)
{
    if (indexed || q->parent || q->p_nummer || q->cvr_nummer || q->adm_kommune || q->kommune ||
        q->inst_type3)
        return false;
    return navn || q->virkningsdato || q->status;
}

/* The number that ends the window after q->after: the window's last
 * number of the level (deleted ones count: they are read too), or ""
 * when fewer are left (no window needed). 0 or 503. */
static int list_window_end(store_reader *r, const store_query *q, char end[7])
{
    end[0] = '\0';
    sql_stmt *st = NULL;
    if (sql_prepare(r->c.db,
                    "SELECT nummer FROM record WHERE level = ?1 AND nummer > ?2 "
                    "ORDER BY nummer LIMIT 1 OFFSET ?3",
                    false, &st) != SQL_OK)
        return 503;
    sql_bind_int64(st, 1, (int)q->level);
    bind_text(st, 2, q->after ? q->after : "");
    sql_bind_int64(st, 3, store_list_window - 1);
    bool began = conn_read_begin(&r->c);
    int rc = sql_step(st);
    if (rc == SQL_ROW) {
        const char *n = sql_column_text(st, 0);
        snprintf(end, 7, "%s", n ? n : "");
    }
    sql_finalize(st);
    conn_read_end(&r->c, began);
    return rc == SQL_ROW || rc == SQL_DONE ? 0 : 503;
}

/* A navn search of three characters or more first scans the level in
 * number order within a small budget: a common name fills its page long
 * before that. When the budget is spent (a rare name: the scan would read
 * the whole level), the trigram index finds the candidates instead, which
 * are then sorted (cheap for a rare name, dear for a common one: hence the
 * scan first). */
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
    char *navn = store_fold(q->navn);
    bool indexed = navn && !q->virkningsdato && navn_indexed(navn);
    char window[7] = "";
    if (store_list_window > 0 && list_needs_window(q, navn, indexed) &&
        list_window_end(r, q, window) != 0) {
        free(navn);
        return 503;
    }
    const char *w = window[0] ? window : NULL;
    scan_budget budget = {.left = store_navn_scan_budget};
    /* PostgreSQL: no scan first (its budget cannot stop a statement half-way;
     * the planner weighs the trigram index itself) */
    if (sql_dialect_of(r->c.db) == SQL_DIALECT_POSTGRESQL) budget.left = 0;
    int st = indexed && budget.left <= 0
                 ? -1
                 : list_run(r, q, navn, false, indexed ? &budget : NULL, w, limit, items, next);
    if (st == -1) st = list_run(r, q, navn, true, NULL, NULL, limit, items, next);
    if (st == 0 && w && !next[0]) memcpy(next, window, 7); /* the page ended at the window */
    free(navn);
    return st;
}

static json_t *text_or_null(sql_stmt *st, int i)
{
    const char *s = sql_column_text(st, i);
    return s ? json_string(s) : json_null();
}

static int store_history_locked(store_reader *r, const char *nummer, json_t **out)
{
    *out = NULL;
    sql_stmt *q = conn_stmt(&r->c, SQ_HIST_LIST);
    if (!q) return 503;
    bind_text(q, 1, nummer);
    json_t *list = json_array();
    int rc;
    while ((rc = sql_step(q)) == SQL_ROW) {
        json_t *data = column_json(q, 6);
        json_array_append_new(
            list, json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "version",
                            (json_int_t)sql_column_int64(q, 0), "registreringFra",
                            text_or_null(q, 1), "registreringTil", text_or_null(q, 2),
                            "virkningFra", text_or_null(q, 3), "virkningTil", text_or_null(q, 4),
                            "aktoer", text_or_null(q, 5), "data", data ? data : json_null()));
    }
    sql_reset(q);
    if (rc != SQL_DONE) {
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
