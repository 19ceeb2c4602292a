/*
 * test_register_fixture.h -- an in-memory reg_state for the register's unit
 * tests: a flat table of records (any level, deleted ones kept as burnt),
 * numbers issued G00001, G00002, ..., and helpers to build records, run
 * reg_decide on a JSON text body and apply an accepted decision.
 * Included by the test_register_*.c files (header-only: static inline).
 */
#ifndef TEST_REGISTER_FIXTURE_H
#define TEST_REGISTER_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "register/register.h"

#define FX_MAX 128
#define FX_TODAY "2026-06-15"
#define FX_NOW "2026-06-15T10:00:00Z"

typedef struct fx_record {
    reg_level level;
    json_t *rec;
    bool deleted;
} fx_record;

typedef struct fx_state {
    fx_record recs[FX_MAX];
    size_t n;
    int next;       /* the next G-number to issue */
    bool exhausted; /* next_number fails */
    int last;       /* when not 0: the last number next_number issues */
    reg_state st;
} fx_state;

static inline fx_record *fx_find(fx_state *fx, const char *nummer)
{
    for (size_t i = 0; i < fx->n; i++)
        if (strcmp(json_string_value(json_object_get(fx->recs[i].rec, "nummer")), nummer) == 0)
            return &fx->recs[i];
    return NULL;
}

static inline json_t *fx_get(void *ctx, const char *nummer, reg_level *level, bool *deleted)
{
    fx_record *r = fx_find(ctx, nummer);
    *deleted = false;
    if (!r) return NULL;
    *level = r->level;
    *deleted = r->deleted;
    return json_deep_copy(r->rec);
}

static inline json_t *fx_children(void *ctx, const char *nummer, reg_level level)
{
    fx_state *fx = ctx;
    json_t *out = json_array();
    const char *field = reg_level_parent_field((reg_level)(level + 1));
    for (size_t i = 0; field && i < fx->n; i++) {
        fx_record *r = &fx->recs[i];
        const char *parent = json_string_value(json_object_get(r->rec, field));
        if (r->level == level + 1 && !r->deleted && parent && strcmp(parent, nummer) == 0)
            json_array_append_new(out, json_deep_copy(r->rec));
    }
    return out;
}

static inline bool fx_next_number(void *ctx, char out[7])
{
    fx_state *fx = ctx;
    if (fx->exhausted || (fx->last && fx->next > fx->last)) return false;
    snprintf(out, 7, "G%05d", fx->next++);
    return true;
}

static inline bool fx_is_burnt(void *ctx, const char *nummer)
{
    fx_record *r = fx_find(ctx, nummer);
    return r && r->deleted;
}

static inline void fx_init(fx_state *fx)
{
    memset(fx, 0, sizeof *fx);
    fx->next = 1;
    fx->st = (reg_state){fx, fx_get, fx_children, fx_next_number, fx_is_burnt};
}

static inline void fx_free(fx_state *fx)
{
    for (size_t i = 0; i < fx->n; i++)
        json_decref(fx->recs[i].rec);
    fx->n = 0;
}

/* Stores a record as it is (takes the reference). */
static inline void fx_put(fx_state *fx, reg_level level, json_t *rec)
{
    assert_true(fx->n < FX_MAX);
    fx->recs[fx->n++] = (fx_record){level, rec, false};
}

static inline json_t *fx_adresse(int kommune)
{
    return json_pack("{s:s, s:s, s:n, s:n, s:s, s:s, s:n, s:i, s:n, s:f, s:f}", "vejNavn",
                     "Rømersgade", "husNummer", "27", "etage", "doer", "postNummer", "1362",
                     "byNavn", "København K", "supplerendeBynavn", "kommuneKode", kommune, "dawaId",
                     "geoBredde", 55.68525, "geoLaengde", 12.57013);
}

/* A stored daginstitution (til may be NULL). */
static inline void fx_dag(fx_state *fx, const char *nummer, int ejerform, int lov, int kommune,
                          const char *fra, const char *til)
{
    fx_put(fx, REG_DAGINSTITUTION,
           json_pack("{s:s, s:s, s:i, s:i, s:i, s:s, s:s?, s:i, s:s}", "nummer", nummer, "navn",
                     "Dagtilbud", "ejerformKode", ejerform, "lovgrundlagKode", lov,
                     "admKommuneKode", kommune, "virkningFra", fra, "virkningTil", til, "version",
                     1, "opdateret", "2020-01-01T00:00:00Z"));
}

static inline void fx_unit(fx_state *fx, const char *nummer, const char *parent, int type,
                           const char *fra, const char *til)
{
    fx_put(fx, REG_ANVISNINGSENHED,
           json_pack("{s:s, s:s, s:s, s:i, s:o, s:n, s:n, s:s, s:s, s:s, s:s?, s:i, s:s}", "nummer",
                     nummer, "daginstitutionsNummer", parent, "navn", "Enhed", "instType3", type,
                     "adresse", fx_adresse(101), "email", "telefonNummer", "cvrNummer", "74467334",
                     "pNummer", "1482983425", "virkningFra", fra, "virkningTil", til, "version", 1,
                     "opdateret", "2020-01-01T00:00:00Z"));
}

static inline void fx_alt(fx_state *fx, const char *nummer, const char *parent, const char *fra,
                          const char *til)
{
    fx_put(fx, REG_ALTERNATIV_ADRESSE,
           json_pack("{s:s, s:s, s:s, s:o, s:n, s:n, s:s, s:s?, s:i, s:s}", "nummer", nummer,
                     "anvisningsenhedsNummer", parent, "navn", "Filial", "adresse", fx_adresse(101),
                     "cvrNummer", "pNummer", "virkningFra", fra, "virkningTil", til, "version", 1,
                     "opdateret", "2020-01-01T00:00:00Z"));
}

static inline json_t *fx_rec(fx_state *fx, const char *nummer)
{
    fx_record *r = fx_find(fx, nummer);
    assert_non_null(r);
    return r->rec;
}

/* Applies an accepted decision to the table, as the store would. */
static inline void fx_apply(fx_state *fx, const reg_decision *d)
{
    assert_int_equal(d->status, 0);
    for (size_t i = 0; i < d->n_changes; i++) {
        const reg_change *ch = &d->changes[i];
        fx_record *r = fx_find(fx, ch->nummer);
        if (strcmp(ch->operation, "oprettet") == 0) {
            assert_null(r);
            fx_put(fx, ch->level, json_deep_copy(ch->after));
        } else if (strcmp(ch->operation, "slettet") == 0) {
            assert_non_null(r);
            r->deleted = true;
        } else {
            assert_non_null(r);
            json_decref(r->rec);
            r->rec = json_deep_copy(ch->after);
        }
    }
}

/* Marks a stored record deleted (burnt). */
static inline void fx_delete(fx_state *fx, const char *nummer)
{
    fx_record *r = fx_find(fx, nummer);
    assert_non_null(r);
    r->deleted = true;
}

/* The standard world of the decision tests (today FX_TODAY = 2026-06-15):
 *   G40001 kommunal dag in 101 (lov 1) with units G23152 (6011, with alt
 *          G50001) and G23153 (6012)
 *   G40002 kommunal dag in 101, no children
 *   G40003 kommunal dag in 147 with unit G23160 (6011, alt G50002)
 *   G40004 dag in 101 closed 2026-01-01 (unit G23170 closed 2025-12-01)
 *   G40005 dag in 101 closing 2026-12-31
 *   G40006 dagpleje dag in 101 (lov 5) with unit G23180 (6013)
 *   G40007 private dag in 101 (ejerform 3, lov 4) with unit G23190 (6011)
 *   G40008 kommende dag in 101 (from 2026-09-01)
 *   G40009 deleted dag
 *   G40010 selvejende dag in 101 (ejerform 2, lov 2) */
static inline void fx_world(fx_state *fx)
{
    fx_init(fx);
    fx_dag(fx, "G40001", 1, 1, 101, "2019-08-30", NULL);
    fx_unit(fx, "G23152", "G40001", 6011, "2019-08-30", NULL);
    fx_alt(fx, "G50001", "G23152", "2019-08-30", NULL);
    fx_unit(fx, "G23153", "G40001", 6012, "2019-08-30", NULL);
    fx_dag(fx, "G40002", 1, 1, 101, "2019-08-30", NULL);
    fx_dag(fx, "G40003", 1, 1, 147, "2019-08-30", NULL);
    fx_unit(fx, "G23160", "G40003", 6011, "2019-08-30", NULL);
    fx_alt(fx, "G50002", "G23160", "2019-08-30", NULL);
    fx_dag(fx, "G40004", 1, 1, 101, "2019-08-30", "2026-01-01");
    fx_unit(fx, "G23170", "G40004", 6011, "2019-08-30", "2025-12-01");
    fx_dag(fx, "G40005", 1, 1, 101, "2019-08-30", "2026-12-31");
    fx_dag(fx, "G40006", 1, 5, 101, "2019-08-30", NULL);
    fx_unit(fx, "G23180", "G40006", 6013, "2019-08-30", NULL);
    fx_dag(fx, "G40007", 3, 4, 101, "2019-08-30", NULL);
    fx_unit(fx, "G23190", "G40007", 6011, "2019-08-30", NULL);
    fx_dag(fx, "G40008", 1, 1, 101, "2026-09-01", NULL);
    fx_dag(fx, "G40009", 1, 1, 101, "2019-08-30", NULL);
    fx_delete(fx, "G40009");
    fx_dag(fx, "G40010", 2, 2, 101, "2019-08-30", NULL);
}

static const int fx_scope_101[] = {101};
static const int fx_scope_101_147[] = {101, 147};
static const reg_actor FX_SUPPORT = {"support-1", REG_ROLE_SUPPORT, NULL, 0};
static const reg_actor FX_SYSTEM = {"system", REG_ROLE_SYSTEM, NULL, 0};
static const reg_actor FX_LAESER = {"laeser-1", REG_ROLE_LAESER, NULL, 0};
static const reg_actor FX_ADMIN = {"admin-1", REG_ROLE_ADMIN, NULL, 0};
static const reg_actor FX_K101 = {"kbh", REG_ROLE_KOMMUNE, fx_scope_101, 1};
static const reg_actor FX_K101_147 = {"kbh-frb", REG_ROLE_KOMMUNE, fx_scope_101_147, 2};

typedef struct fx_cmd {
    const char *today;
    int64_t if_match;
    bool keep_numbers;
} fx_cmd;

/* Runs reg_decide on a body given as JSON text (NULL: no body) with the
 * options in opt (NULL: today FX_TODAY, no If-Match). Returns d->status. */
static inline int fx_decide_opt(fx_state *fx, reg_op op, reg_level level, const char *nummer,
                                const char *body_text, const reg_actor *actor, const fx_cmd *opt,
                                reg_decision *d)
{
    json_t *body = NULL;
    if (body_text) {
        json_error_t err;
        body = json_loads(body_text, JSON_ALLOW_NUL, &err);
        if (!body) fail_msg("bad test JSON: %s: %s", err.text, body_text);
    }
    reg_command cmd = {
        .op = op,
        .level = level,
        .nummer = nummer,
        .body = body,
        .if_match = opt ? opt->if_match : -1,
        .today = opt && opt->today ? opt->today : FX_TODAY,
        .now = FX_NOW,
        .keep_numbers = opt ? opt->keep_numbers : false,
    };
    reg_decide(&cmd, &fx->st, actor, d);
    json_decref(body);
    return d->status;
}

/* As fx_decide_opt with a body built in C (the reference is taken). */
static inline int fx_decide_body(fx_state *fx, reg_op op, reg_level level, const char *nummer,
                                 json_t *body, const reg_actor *actor, const fx_cmd *opt,
                                 reg_decision *d)
{
    reg_command cmd = {
        .op = op,
        .level = level,
        .nummer = nummer,
        .body = body,
        .if_match = opt ? opt->if_match : -1,
        .today = opt && opt->today ? opt->today : FX_TODAY,
        .now = FX_NOW,
        .keep_numbers = opt ? opt->keep_numbers : false,
    };
    reg_decide(&cmd, &fx->st, actor, d);
    json_decref(body);
    return d->status;
}

/* Valid create bodies of each level. */
static inline json_t *fx_dag_body(void)
{
    return json_pack("{s:s, s:i, s:i, s:i}", "navn", "Solsikken", "ejerformKode", 1,
                     "lovgrundlagKode", 1, "admKommuneKode", 101);
}

static inline json_t *fx_unit_body(const char *parent)
{
    json_t *b = json_pack("{s:s, s:i, s:o}", "navn", "Solsikkens Børnehave", "instType3", 6011,
                          "adresse", fx_adresse(101));
    if (parent) json_object_set_new(b, "daginstitutionsNummer", json_string(parent));
    return b;
}

static inline json_t *fx_alt_body(const char *parent)
{
    json_t *b = json_pack("{s:s, s:o}", "navn", "Skovgruppen", "adresse", fx_adresse(101));
    if (parent) json_object_set_new(b, "anvisningsenhedsNummer", json_string(parent));
    return b;
}

static inline int fx_decide(fx_state *fx, reg_op op, reg_level level, const char *nummer,
                            const char *body_text, const reg_actor *actor, reg_decision *d)
{
    return fx_decide_opt(fx, op, level, nummer, body_text, actor, NULL, d);
}

/* Whether the decision carries an error with that code (and field, unless
 * felt is NULL). */
static inline bool fx_has(const reg_decision *d, const char *kode, const char *felt)
{
    for (size_t i = 0; i < d->n_errors; i++)
        if (strcmp(d->errors[i].kode, kode) == 0 && (!felt || strcmp(d->errors[i].felt, felt) == 0))
            return true;
    return false;
}

/* Prints the errors (for a failing assertion's context). */
static inline void fx_print(const reg_decision *d)
{
    for (size_t i = 0; i < d->n_errors; i++)
        print_message("  %s %s: %s\n", d->errors[i].kode, d->errors[i].felt, d->errors[i].tekst);
}

#define assert_refused(d, st, kode, felt)                                                          \
    do {                                                                                           \
        if ((d)->status != (st) || !fx_has((d), (kode), (felt))) fx_print(d);                      \
        assert_int_equal((d)->status, (st));                                                       \
        assert_true(fx_has((d), (kode), (felt)));                                                  \
        assert_int_equal((d)->n_changes, 0);                                                       \
    } while (0)

#define assert_accepted(d)                                                                         \
    do {                                                                                           \
        if ((d)->status != 0) fx_print(d);                                                         \
        assert_int_equal((d)->status, 0);                                                          \
    } while (0)

/* A valid anvisningsenhed body (JSON text) under a parent, with a type. */
#define FX_ADRESSE_JSON                                                                            \
    "{\"vejNavn\": \"Rømersgade\", \"husNummer\": \"27\", \"postNummer\": \"1362\", "             \
    "\"byNavn\": \"København K\", \"kommuneKode\": 101}"

#endif /* TEST_REGISTER_FIXTURE_H */
