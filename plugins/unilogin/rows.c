/*
 * rows.c -- the unilogin list's rows and its change sets (see unilogin.h
 * for what they hold; stream.c writes the whole list). Pool thread: the
 * change sets read through the reader they are given, inside a snapshot
 * they begin and end themselves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unilogin.h"

#define UNI_PAGE 1000
#define UNI_EVENT_PAGE 10000

static int uni_fail(uni_error *e, int status, const char *kode, const char *fmt, int64_t a,
                    int64_t b)
{
    e->status = status;
    e->kode = kode;
    snprintf(e->tekst, sizeof e->tekst, fmt, (long long)a, (long long)b);
    return -1;
}

static int uni_store_fail(uni_error *e)
{
    return uni_fail(e, 503, "IKKE_KLAR", "registeret kunne ikke læses", 0, 0);
}

/* ---- one row --------------------------------------------------------------------- */

static bool uni_present(const json_t *v)
{
    return json_is_string(v) && json_string_length(v) > 0;
}

static bool uni_has_numbers(const json_t *rec)
{
    return uni_present(json_object_get(rec, "cvrNummer")) &&
           uni_present(json_object_get(rec, "pNummer"));
}

bool uni_listed_now(const json_t *rec)
{
    const char *status = json_string_value(json_object_get(rec, "status"));
    return status && strcmp(status, "aktiv") == 0 && uni_has_numbers(rec);
}

/* Sets key to a borrowed value, or null when there is none. */
static void uni_set(json_t *row, const char *key, json_t *value)
{
    json_object_set(row, key, value ? value : json_null());
}

json_t *uni_row(const json_t *rec, dtr_level level, const json_t *unit)
{
    json_t *rec_mut = (json_t *)rec;
    json_t *row = json_object();
    bool is_unit = level == DTR_LEVEL_ANVISNINGSENHED;
    uni_set(row, "institutionsnummer", json_object_get(rec_mut, "nummer"));
    uni_set(row, "navn", json_object_get(rec_mut, "navn"));
    json_object_set_new(row, "niveau",
                        json_string(is_unit ? "anvisningsenhed" : "alternativAdresse"));
    const json_t *owner = is_unit ? rec : unit;
    uni_set(row, "daginstitutionsNummer",
            owner ? json_object_get(owner, "daginstitutionsNummer") : NULL);
    uni_set(row, "anvisningsenhedsNummer",
            json_object_get(rec_mut, is_unit ? "nummer" : "anvisningsenhedsNummer"));
    json_t *adresse = json_object_get(rec_mut, "adresse");
    uni_set(row, "kommuneKode", json_object_get(adresse, "kommuneKode"));
    uni_set(row, "instType3", owner ? json_object_get(owner, "instType3") : NULL);
    uni_set(row, "cvrNummer", json_object_get(rec_mut, "cvrNummer"));
    uni_set(row, "pNummer", json_object_get(rec_mut, "pNummer"));
    uni_set(row, "adresse", adresse);
    return row;
}

/* ---- touched numbers ------------------------------------------------------------------- */

/* A number a range of hændelser touched. */
typedef struct uni_touch {
    char nummer[7];
    dtr_level level;
    int64_t seq;          /* the first hændelse of the range that touched it (0: none, it
                             is here as a touched unit's alternativ adresse) */
    int64_t prev_version; /* the version it had before that hændelse (0: none, it was
                             created in the range or is not touched itself) */
} uni_touch;

typedef struct uni_touched {
    uni_touch *v;
    size_t n, cap;
} uni_touched;

static void uni_touched_free(uni_touched *t)
{
    free(t->v);
    memset(t, 0, sizeof *t);
}

static void uni_touch_push(uni_touched *t, const char *nummer, dtr_level level, int64_t seq,
                           int64_t prev_version)
{
    if (!nummer || strlen(nummer) != 6) return;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 64;
        t->v = realloc(t->v, t->cap * sizeof *t->v);
        if (!t->v) abort();
    }
    uni_touch *u = &t->v[t->n++];
    memcpy(u->nummer, nummer, 7);
    u->level = level;
    u->seq = seq;
    u->prev_version = prev_version;
}

/* Adds the anvisningsenheder and alternative adresser of a /v1/haendelser
 * array to t, up to sekvensnummer til (daginstitutioner do not appear on
 * the list). */
static void uni_touched_add_events(uni_touched *t, const json_t *events, int64_t til)
{
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev)
    {
        if (json_integer_value(json_object_get(ev, "sekvensnummer")) > til) break;
        const char *entitet = json_string_value(json_object_get(ev, "entitet"));
        const char *op = json_string_value(json_object_get(ev, "operation"));
        dtr_level level;
        if (entitet && strcmp(entitet, "anvisningsenhed") == 0)
            level = DTR_LEVEL_ANVISNINGSENHED;
        else if (entitet && strcmp(entitet, "alternativAdresse") == 0)
            level = DTR_LEVEL_ALTERNATIV_ADRESSE;
        else
            continue;
        int64_t version = json_integer_value(json_object_get(ev, "version"));
        /* the version before this hændelse: none for a creation; a slettet
         * hændelse carries the last version, which is the one before it */
        int64_t prev = 0;
        if (op && strcmp(op, "oprettet") == 0)
            prev = 0;
        else if (op && strcmp(op, "slettet") == 0)
            prev = version;
        else
            prev = version - 1;
        uni_touch_push(t, json_string_value(json_object_get(ev, "nummer")), level,
                       json_integer_value(json_object_get(ev, "sekvensnummer")), prev);
    }
}

/* By number; for one number, its own hændelser first (earliest first),
 * then the entries it got as a touched unit's child. */
static int uni_touch_cmp(const void *a, const void *b)
{
    const uni_touch *x = a, *y = b;
    int c = strcmp(x->nummer, y->nummer);
    if (c) return c;
    if ((x->seq == 0) != (y->seq == 0)) return x->seq == 0 ? 1 : -1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorts and keeps one entry per number: its first hændelse. */
static void uni_touched_normalize(uni_touched *t)
{
    if (t->n == 0) return;
    qsort(t->v, t->n, sizeof *t->v, uni_touch_cmp);
    size_t w = 0;
    for (size_t i = 0; i < t->n; i++)
        if (w == 0 || strcmp(t->v[w - 1].nummer, t->v[i].nummer) != 0) t->v[w++] = t->v[i];
    t->n = w;
}

/* Adds the current alternative adresser of every touched anvisningsenhed. */
static int uni_add_children(const dtr_host_api *api, dtr_reader *r, uni_touched *t, uni_error *e)
{
    size_t units = t->n;
    for (size_t i = 0; i < units; i++) {
        if (t->v[i].level != DTR_LEVEL_ANVISNINGSENHED) continue;
        char parent[7], after[7] = "";
        memcpy(parent, t->v[i].nummer, 7);
        dtr_query q = {.level = DTR_LEVEL_ALTERNATIV_ADRESSE, .parent = parent, .limit = UNI_PAGE};
        for (;;) {
            json_t *items = NULL;
            char next[7] = "";
            q.after = after[0] ? after : NULL;
            if (api->read_list(r, &q, &items, next) != DTR_OK) return uni_store_fail(e);
            size_t j;
            json_t *alt;
            json_array_foreach(items, j, alt)
            {
                uni_touch_push(t, json_string_value(json_object_get(alt, "nummer")),
                               DTR_LEVEL_ALTERNATIV_ADRESSE, 0, 0);
            }
            json_decref(items);
            if (!next[0]) break;
            memcpy(after, next, sizeof after);
        }
    }
    uni_touched_normalize(t);
    return 0;
}

/* ---- was it on the list before? ------------------------------------------------------------ */

/* Whether the version a number had before the range was on the list: it
 * had both numbers and was in effect on the day it took effect (a version
 * that stopped being in effect later was followed by a "nedlagt" version
 * of the register's own). 1 yes, 0 no, -1 on a read error. */
static int uni_was_listed(const dtr_host_api *api, dtr_reader *r, const uni_touch *u, uni_error *e)
{
    if (u->prev_version <= 0) return 0;
    json_t *history = NULL;
    dtr_status rc = api->read_history(r, u->nummer, &history);
    if (rc == DTR_NOT_FOUND) return 0;
    if (rc != DTR_OK) return uni_store_fail(e);
    int listed = 0;
    size_t i;
    json_t *h;
    json_array_foreach(history, i, h)
    {
        if (json_integer_value(json_object_get(h, "version")) != u->prev_version) continue;
        const json_t *data = json_object_get(h, "data");
        const char *day = json_string_value(json_object_get(h, "virkningFra"));
        const char *fra = json_string_value(json_object_get(data, "virkningFra"));
        const char *til = json_string_value(json_object_get(data, "virkningTil"));
        bool in_effect = day && (!fra || strcmp(fra, day) <= 0) && (!til || strcmp(til, day) > 0);
        listed = in_effect && uni_has_numbers(data);
        break;
    }
    json_decref(history);
    return listed;
}

/* ---- change sets ------------------------------------------------------------------------------
 */

/* Reads every touched number as the register holds it now and sorts it
 * into aendret (rows) or fjernet (numbers). */
static int uni_build(const dtr_host_api *api, dtr_reader *r, const uni_touched *t, json_t *aendret,
                     json_t *fjernet, uni_error *e)
{
    json_t *unit = NULL; /* the last anvisningsenhed read for its alternative adresser */
    char unit_nummer[7] = "";
    int result = 0;
    for (size_t i = 0; i < t->n && result == 0; i++) {
        const uni_touch *u = &t->v[i];
        json_t *rec = NULL;
        dtr_level level;
        dtr_status rc = api->read_get(r, u->nummer, NULL, 0, &level, &rec);
        if (rc != DTR_OK && rc != DTR_NOT_FOUND && rc != DTR_GONE) {
            result = uni_store_fail(e);
        } else if (rc == DTR_OK && uni_listed_now(rec)) {
            if (level == DTR_LEVEL_ALTERNATIV_ADRESSE) {
                const char *parent =
                    json_string_value(json_object_get(rec, "anvisningsenhedsNummer"));
                if (parent && strcmp(parent, unit_nummer) != 0) {
                    json_decref(unit);
                    unit = NULL;
                    dtr_level ignored;
                    snprintf(unit_nummer, sizeof unit_nummer, "%s", parent);
                    dtr_status prc = api->read_get(r, parent, NULL, 0, &ignored, &unit);
                    if (prc != DTR_OK && prc != DTR_NOT_FOUND && prc != DTR_GONE)
                        result = uni_store_fail(e);
                }
            }
            if (result == 0) json_array_append_new(aendret, uni_row(rec, level, unit));
        } else {
            int was = uni_was_listed(api, r, u, e);
            if (was < 0)
                result = -1;
            else if (was)
                json_array_append_new(fjernet, json_string(u->nummer));
        }
        json_decref(rec);
    }
    json_decref(unit);
    return result;
}

/* The change set of t (normalized here) as of a snapshot on r. */
static int uni_changes_in_snapshot(const dtr_host_api *api, dtr_reader *r, uni_touched *t,
                                   int64_t fra, int64_t til, json_t **out, uni_error *e)
{
    uni_touched_normalize(t);
    if (uni_add_children(api, r, t, e) != 0) return -1;
    json_t *aendret = json_array(), *fjernet = json_array();
    if (uni_build(api, r, t, aendret, fjernet, e) != 0) {
        json_decref(aendret);
        json_decref(fjernet);
        return -1;
    }
    *out = json_pack("{s:I, s:I, s:o, s:o}", "fra", (json_int_t)fra, "til", (json_int_t)til,
                     "aendret", aendret, "fjernet", fjernet);
    return 0;
}

int uni_changes_since(const dtr_host_api *api, dtr_reader *r, int64_t efter, int64_t max_events,
                      json_t **out, uni_error *e)
{
    *out = NULL;
    int64_t newest = 0;
    if (api->snapshot_begin(r, &newest) != DTR_OK) return uni_store_fail(e);
    if (efter > newest) {
        api->snapshot_end(r);
        return uni_fail(e, 400, "UGYLDIG_PARAMETER",
                        "efter (%lld) er efter det nyeste sekvensnummer (%lld)", efter, newest);
    }
    int64_t til = newest;
    if (max_events > 0 && newest - efter > max_events) til = efter + max_events;
    uni_touched t = {0};
    int rc = 0;
    for (int64_t from = efter + 1; from <= til;) {
        json_t *events = NULL;
        if (api->read_haendelser(r, from, UNI_EVENT_PAGE, &events) != DTR_OK) {
            rc = uni_store_fail(e);
            break;
        }
        size_t n = json_array_size(events);
        if (n > 0) {
            uni_touched_add_events(&t, events, til);
            from = json_integer_value(
                       json_object_get(json_array_get(events, n - 1), "sekvensnummer")) +
                   1;
        }
        json_decref(events);
        if (n == 0) break;
    }
    if (rc == 0) rc = uni_changes_in_snapshot(api, r, &t, efter + 1, til, out, e);
    api->snapshot_end(r);
    uni_touched_free(&t);
    return rc;
}

bool uni_changes_empty(const json_t *changes)
{
    return json_array_size(json_object_get(changes, "aendret")) == 0 &&
           json_array_size(json_object_get(changes, "fjernet")) == 0;
}
