/*
 * count.c -- the anvisningsenheder in effect on a day, and their counts
 * (see statistik.h). stat_read_units reads on a pool thread through a
 * reader of its own; the rest is pure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "statistik.h"

#define STAT_PAGE 1000
#define STAT_BOM "\xEF\xBB\xBF"

void stat_units_free(stat_units *u)
{
    free(u->v);
    memset(u, 0, sizeof *u);
}

/* A daginstitution's ejerformKode on the day. */
typedef struct stat_owner {
    char nummer[7];
    int ejerform;
} stat_owner;

typedef struct stat_owners {
    stat_owner *v;
    size_t n, cap;
} stat_owners;

static int stat_int(const json_t *v)
{
    return json_is_integer(v) ? (int)json_integer_value(v) : STAT_MISSING;
}

static void stat_copy_nummer(char dst[7], const json_t *v)
{
    const char *s = json_string_value(v);
    snprintf(dst, 7, "%s", s ? s : "");
}

/* Calls take(item) for every record of the list q describes, page by
 * page. 0 or the failing read's status. */
static int stat_each(const dtr_host_api *api, dtr_reader *r, dtr_query *q,
                     void (*take)(void *ctx, const json_t *item), void *ctx)
{
    char after[7] = "";
    for (;;) {
        json_t *items = NULL;
        char next[7] = "";
        q->after = after[0] ? after : NULL;
        int rc = api->read_list(r, q, &items, next);
        if (rc != 0) return rc;
        size_t i;
        json_t *item;
        json_array_foreach(items, i, item)
        {
            take(ctx, item);
        }
        json_decref(items);
        if (!next[0]) return 0;
        memcpy(after, next, sizeof after);
    }
}

static void stat_take_owner(void *ctx, const json_t *item)
{
    stat_owners *o = ctx;
    if (o->n == o->cap) {
        o->cap = o->cap ? 2 * o->cap : 256;
        o->v = realloc(o->v, o->cap * sizeof *o->v);
        if (!o->v) abort();
    }
    stat_owner *w = &o->v[o->n++];
    stat_copy_nummer(w->nummer, json_object_get(item, "nummer"));
    w->ejerform = stat_int(json_object_get(item, "ejerformKode"));
}

static void stat_take_unit(void *ctx, const json_t *item)
{
    stat_units *u = ctx;
    if (u->n == u->cap) {
        u->cap = u->cap ? 2 * u->cap : 1024;
        u->v = realloc(u->v, u->cap * sizeof *u->v);
        if (!u->v) abort();
    }
    stat_unit *w = &u->v[u->n++];
    stat_copy_nummer(w->nummer, json_object_get(item, "nummer"));
    stat_copy_nummer(w->daginstitution, json_object_get(item, "daginstitutionsNummer"));
    w->value[STAT_KOMMUNE] =
        stat_int(json_object_get(json_object_get(item, "adresse"), "kommuneKode"));
    w->value[STAT_INSTTYPE] = stat_int(json_object_get(item, "instType3"));
    w->value[STAT_EJERFORM] = STAT_MISSING;
}

static int stat_owner_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const stat_owner *)elem)->nummer);
}

int stat_read_units(const dtr_host_api *api, dtr_reader *r, const char *day, stat_units *out)
{
    memset(out, 0, sizeof *out);
    int64_t seq = 0;
    int rc = api->snapshot_begin(r, &seq);
    if (rc != 0) return rc;
    stat_owners owners = {0};
    dtr_query q = {.level = DTR_LEVEL_DAGINSTITUTION, .virkningsdato = day, .limit = STAT_PAGE};
    rc = stat_each(api, r, &q, stat_take_owner, &owners);
    if (rc == 0) {
        q = (dtr_query){
            .level = DTR_LEVEL_ANVISNINGSENHED, .virkningsdato = day, .limit = STAT_PAGE};
        rc = stat_each(api, r, &q, stat_take_unit, out);
    }
    /* lists come ordered by nummer: the owners can be searched as they are */
    for (size_t i = 0; rc == 0 && i < out->n; i++) {
        stat_unit *w = &out->v[i];
        const stat_owner *o = owners.n ? bsearch(w->daginstitution, owners.v, owners.n,
                                                 sizeof *owners.v, stat_owner_cmp)
                                       : NULL;
        if (o) w->value[STAT_EJERFORM] = o->ejerform;
    }
    api->snapshot_end(r);
    free(owners.v);
    if (rc != 0) stat_units_free(out);
    return rc;
}

/* ---- counting ------------------------------------------------------------------------- */

/* The grouping of a count: the comparison qsort_r calls. */
typedef struct stat_grouping {
    const stat_field *fields;
    size_t n;
} stat_grouping;

static int stat_unit_cmp(const void *a, const void *b, void *ctx)
{
    const stat_unit *x = a, *y = b;
    const stat_grouping *g = ctx;
    for (size_t i = 0; i < g->n; i++) {
        int vx = x->value[g->fields[i]], vy = y->value[g->fields[i]];
        if (vx != vy) return vx < vy ? -1 : 1;
    }
    return 0;
}

static json_t *stat_value_json(int v)
{
    return v == STAT_MISSING ? json_null() : json_integer(v);
}

json_t *stat_count(stat_units *u, const stat_field *fields, size_t n)
{
    stat_grouping g = {fields, n};
    if (u->n > 1) qsort_r(u->v, u->n, sizeof *u->v, stat_unit_cmp, &g);
    json_t *rows = json_array();
    for (size_t i = 0; i < u->n;) {
        size_t j = i + 1;
        while (j < u->n && stat_unit_cmp(&u->v[i], &u->v[j], &g) == 0)
            j++;
        json_t *row = json_object();
        for (size_t k = 0; k < n; k++)
            json_object_set_new(row, stat_field_name(fields[k]),
                                stat_value_json(u->v[i].value[fields[k]]));
        json_object_set_new(row, "antal", json_integer((json_int_t)(j - i)));
        json_array_append_new(rows, row);
        i = j;
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

json_t *stat_units_json(const stat_units *u)
{
    json_t *list = json_array();
    for (size_t i = 0; i < u->n; i++) {
        const stat_unit *w = &u->v[i];
        json_t *o = json_object();
        json_object_set_new(o, "nummer", json_string(w->nummer));
        json_object_set_new(o, "daginstitutionsNummer", json_string(w->daginstitution));
        for (int f = 0; f < STAT_NFIELDS; f++)
            json_object_set_new(o, stat_field_name((stat_field)f), stat_value_json(w->value[f]));
        json_array_append_new(list, o);
    }
    return list;
}

char *stat_units_csv(const stat_units *u, size_t *len)
{
    stat_buf b = {0};
    stat_put(&b, STAT_BOM "nummer;daginstitutionsNummer;kommuneKode;instType3;ejerformKode\r\n");
    for (size_t i = 0; i < u->n; i++) {
        const stat_unit *w = &u->v[i];
        char line[128];
        char vals[STAT_NFIELDS][16];
        for (int f = 0; f < STAT_NFIELDS; f++) {
            if (w->value[f] == STAT_MISSING)
                vals[f][0] = '\0';
            else
                snprintf(vals[f], sizeof vals[f], "%d", w->value[f]);
        }
        snprintf(line, sizeof line, "%s;%s;%s;%s;%s\r\n", w->nummer, w->daginstitution, vals[0],
                 vals[1], vals[2]);
        stat_put(&b, line);
    }
    *len = b.len;
    return b.p;
}
