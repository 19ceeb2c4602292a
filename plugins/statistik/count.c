/*
 * count.c -- the anvisningsenheder in effect on a day a page at a time,
 * their counts, and their text (see statistik.h). The pager reads on a
 * pool thread through a reader of its own; the rest is pure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "statistik.h"

void stat_units_free(stat_units *u)
{
    free(u->v);
    memset(u, 0, sizeof *u);
}

static int stat_int(const json_t *v)
{
    return json_is_integer(v) ? (int)json_integer_value(v) : STAT_MISSING;
}

static void stat_copy_nummer(char dst[7], const json_t *v)
{
    const char *s = json_string_value(v);
    snprintf(dst, 7, "%s", s ? s : "");
}

/* ---- the pager ------------------------------------------------------------------------ */

void stat_pager_init(stat_pager *p, const dtr_host_api *api, dtr_reader *r, const char *day)
{
    memset(p, 0, sizeof *p);
    p->api = api;
    p->r = r;
    snprintf(p->day, sizeof p->day, "%s", day);
}

void stat_pager_free(stat_pager *p)
{
    free(p->owners);
    p->owners = NULL;
    p->nowners = p->cap = 0;
}

/* The ejerformKode of daginstitution nummer on the pager's day into *out:
 * looked up among the page's owners, else read (as of the day: a
 * daginstitution not in effect then, or deleted, has none) and kept, in
 * number order. DTR_OK, or the failing read's status. */
static dtr_status stat_owner_of(stat_pager *p, const char *nummer, int *out)
{
    size_t lo = 0, hi = p->nowners;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(nummer, p->owners[mid].nummer);
        if (c == 0) {
            *out = p->owners[mid].ejerform;
            return DTR_OK;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    json_t *rec = NULL;
    dtr_level level = DTR_LEVEL_DAGINSTITUTION;
    dtr_status rc =
        nummer[0] ? p->api->read_get(p->r, nummer, p->day, 0, &level, &rec) : DTR_NOT_FOUND;
    int ejerform = STAT_MISSING;
    if (rc == DTR_OK && level == DTR_LEVEL_DAGINSTITUTION)
        ejerform = stat_int(json_object_get(rec, "ejerformKode"));
    json_decref(rec);
    if (rc != DTR_OK && rc != DTR_NOT_FOUND && rc != DTR_GONE) return rc;
    if (p->nowners == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        p->owners = realloc(p->owners, p->cap * sizeof *p->owners);
        if (!p->owners) abort();
    }
    memmove(p->owners + lo + 1, p->owners + lo, (p->nowners - lo) * sizeof *p->owners);
    snprintf(p->owners[lo].nummer, sizeof p->owners[lo].nummer, "%s", nummer);
    p->owners[lo].ejerform = ejerform;
    p->nowners++;
    *out = ejerform;
    return DTR_OK;
}

dtr_status stat_pager_next(stat_pager *p, stat_units *page)
{
    page->n = 0;
    p->nowners = 0;
    if (p->last) return DTR_OK;
    dtr_query q;
    memset(&q, 0, sizeof q);
    q.level = DTR_LEVEL_ANVISNINGSENHED;
    q.virkningsdato = p->day;
    q.after = p->after[0] ? p->after : NULL;
    q.limit = STAT_PAGE;
    json_t *items = NULL;
    char next[7] = "";
    dtr_status rc = p->api->read_list(p->r, &q, &items, next);
    if (rc != DTR_OK) return rc;
    if (page->cap < json_array_size(items)) {
        page->cap = json_array_size(items);
        page->v = realloc(page->v, page->cap * sizeof *page->v);
        if (!page->v) abort();
    }
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        stat_unit *w = &page->v[page->n++];
        stat_copy_nummer(w->nummer, json_object_get(item, "nummer"));
        stat_copy_nummer(w->daginstitution, json_object_get(item, "daginstitutionsNummer"));
        w->value[STAT_KOMMUNE] =
            stat_int(json_object_get(json_object_get(item, "adresse"), "kommuneKode"));
        w->value[STAT_INSTTYPE] = stat_int(json_object_get(item, "instType3"));
        rc = stat_owner_of(p, w->daginstitution, &w->value[STAT_EJERFORM]);
        if (rc != DTR_OK) break;
    }
    json_decref(items);
    if (rc != DTR_OK) {
        page->n = 0;
        return rc;
    }
    memcpy(p->after, next, sizeof p->after);
    p->last = next[0] == '\0';
    return 0;
}

/* ---- counting ------------------------------------------------------------------------- */

void stat_tally_init(stat_tally *t, const stat_field *fields, size_t n)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < n && i < STAT_NFIELDS; i++)
        t->fields[t->nfields++] = fields[i];
}

void stat_tally_free(stat_tally *t)
{
    free(t->groups);
    free(t->counts);
    memset(t, 0, sizeof *t);
}

/* Orders two units by the tally's fields, in their order. */
static int stat_group_cmp(const stat_tally *t, const stat_unit *x, const stat_unit *y)
{
    for (size_t i = 0; i < t->nfields; i++) {
        int vx = x->value[t->fields[i]], vy = y->value[t->fields[i]];
        if (vx != vy) return vx < vy ? -1 : 1;
    }
    return 0;
}

void stat_tally_add(stat_tally *t, const stat_units *page)
{
    for (size_t k = 0; k < page->n; k++) {
        const stat_unit *w = &page->v[k];
        size_t lo = 0, hi = t->n;
        int c = 1;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            c = stat_group_cmp(t, w, &t->groups[mid]);
            if (c == 0) {
                lo = mid;
                break;
            }
            if (c < 0)
                hi = mid;
            else
                lo = mid + 1;
        }
        t->total++;
        if (c == 0 && lo < t->n) {
            t->counts[lo]++;
            continue;
        }
        if (t->n == t->cap) {
            t->cap = t->cap ? 2 * t->cap : 64;
            t->groups = realloc(t->groups, t->cap * sizeof *t->groups);
            t->counts = realloc(t->counts, t->cap * sizeof *t->counts);
            if (!t->groups || !t->counts) abort();
        }
        memmove(t->groups + lo + 1, t->groups + lo, (t->n - lo) * sizeof *t->groups);
        memmove(t->counts + lo + 1, t->counts + lo, (t->n - lo) * sizeof *t->counts);
        t->groups[lo] = *w;
        t->counts[lo] = 1;
        t->n++;
    }
}

static json_t *stat_value_json(int v)
{
    return v == STAT_MISSING ? json_null() : json_integer(v);
}

json_t *stat_tally_rows(const stat_tally *t)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < t->n; i++) {
        json_t *row = json_object();
        for (size_t k = 0; k < t->nfields; k++)
            json_object_set_new(row, stat_field_name(t->fields[k]),
                                stat_value_json(t->groups[i].value[t->fields[k]]));
        json_object_set_new(row, "antal", json_integer((json_int_t)t->counts[i]));
        json_array_append_new(rows, row);
    }
    return rows;
}

/* ---- CSV ----------------------------------------------------------------------------------- */

typedef struct stat_buf {
    char *p;
    size_t len, cap;
} stat_buf;

static void stat_put(stat_buf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        while (b->len + n + 1 > b->cap)
            b->cap = b->cap ? 2 * b->cap : 4096;
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

static void stat_put_int(stat_buf *b, const json_t *v)
{
    char num[24] = "";
    if (json_is_integer(v)) snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
    stat_put(b, num);
}

char *stat_rows_csv(const json_t *rows, const stat_field *fields, size_t n, size_t *len)
{
    stat_buf b = {0};
    stat_put(&b, STAT_BOM);
    for (size_t k = 0; k < n; k++) {
        stat_put(&b, stat_field_name(fields[k]));
        stat_put(&b, ";");
    }
    stat_put(&b, "antal\r\n");
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        for (size_t k = 0; k < n; k++) {
            stat_put_int(&b, json_object_get(row, stat_field_name(fields[k])));
            stat_put(&b, ";");
        }
        stat_put_int(&b, json_object_get(row, "antal"));
        stat_put(&b, "\r\n");
    }
    *len = b.len;
    return b.p;
}

char *stat_unit_json(const stat_unit *w)
{
    json_t *o = json_object();
    json_object_set_new(o, "nummer", json_string(w->nummer));
    json_object_set_new(o, "daginstitutionsNummer", json_string(w->daginstitution));
    for (int f = 0; f < STAT_NFIELDS; f++)
        json_object_set_new(o, stat_field_name((stat_field)f), stat_value_json(w->value[f]));
    char *text = json_dumps(o, DTR_JSON_WIRE);
    json_decref(o);
    return text;
}

size_t stat_unit_csv(const stat_unit *w, char line[STAT_CSV_LINE])
{
    char vals[STAT_NFIELDS][16];
    for (int f = 0; f < STAT_NFIELDS; f++) {
        if (w->value[f] == STAT_MISSING)
            vals[f][0] = '\0';
        else
            snprintf(vals[f], sizeof vals[f], "%d", w->value[f]);
    }
    int n = snprintf(line, STAT_CSV_LINE, "%s;%s;%s;%s;%s\r\n", w->nummer, w->daginstitution,
                     vals[0], vals[1], vals[2]);
    return n < 0 ? 0 : (size_t)n < STAT_CSV_LINE ? (size_t)n : STAT_CSV_LINE - 1;
}
