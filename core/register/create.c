/*
 * create.c -- REG_OP_CREATE: a daginstitution (optionally with its
 * anvisningsenheder, each optionally with its alternative adresser, created
 * atomically), an anvisningsenhed (optionally with alternative adresser) or
 * an alternativ adresse. Numbers are issued through reg_state.next_number,
 * parents before children; on import (keep_numbers) given numbers are kept
 * and a used or burnt number is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "register/internal.h"

#define IMPORT_DEFAULT_FRA "2019-08-30"

/* One record the create makes, with the records nested in it. */
typedef struct plan_node {
    reg_level level;
    char path[sizeof(((reg_error *)0)->felt)];
    json_t *clean;            /* validated fields; owned */
    const char *given_nummer; /* keep_numbers: the number in the body */
    const char *parent;       /* top-level child: the parent number in the body */
    const char *fra, *til;    /* borrowed: body, cmd or the parent node */
    char nummer[7];
    struct plan_node *kids;
    size_t n_kids;
} plan_node;

static void plan_free(plan_node *n)
{
    for (size_t i = 0; i < n->n_kids; i++)
        plan_free(&n->kids[i]);
    free(n->kids);
    json_decref(n->clean);
}

static const char *nested_key(reg_level level)
{
    switch (level) {
    case REG_DAGINSTITUTION:
        return "anvisningsenheder";
    case REG_ANVISNINGSENHED:
        return "alternativeAdresser";
    case REG_ALTERNATIV_ADRESSE:
        return NULL;
    }
    return NULL;
}

/* Reads one record of the create (phase: the fields on their own): its keys,
 * fields, dates and nested records. parent_fra is the default virkningFra of
 * a nested record (its parent's); NULL for the top record. */
static void plan_parse(reg_ctx *c, plan_node *n, reg_level level, const json_t *body,
                       const char *path, const char *parent_fra)
{
    reg_decision *d = c->d;
    memset(n, 0, sizeof *n);
    n->level = level;
    snprintf(n->path, sizeof n->path, "%s", path);
    if (!json_is_object(body)) {
        reg_fail(d, 422, "FORKERT_TYPE", path, "forventede et objekt");
        return;
    }
    const char *parent_field = reg_level_parent_field(level);
    const char *kids_key = nested_key(level);
    char felt[sizeof n->path];
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v)
    {
        reg_path(felt, sizeof felt, path, key);
        if (reg_is_field(level, key) || strcmp(key, "virkningFra") == 0 ||
            strcmp(key, "virkningTil") == 0)
            continue;
        if (strcmp(key, "nummer") == 0 && c->cmd->keep_numbers) continue;
        if (parent_field && strcmp(key, parent_field) == 0 && !parent_fra) continue;
        if (kids_key && strcmp(key, kids_key) == 0) continue;
        if (strcmp(key, "nummer") == 0 || strcmp(key, "status") == 0 ||
            strcmp(key, "version") == 0 || strcmp(key, "opdateret") == 0 ||
            (parent_field && strcmp(key, parent_field) == 0))
            reg_fail(d, 422, "SKRIVEBESKYTTET", felt, "feltet skrives kun af registeret");
        else
            reg_fail(d, 422, "UKENDT_FELT", felt, "ukendt felt");
    }
    n->clean = reg_clean_fields(level, body, path, d);
    if (c->cmd->keep_numbers)
        n->given_nummer = reg_check_nummer_field(body, "nummer", path, false, d);
    if (parent_field && !parent_fra)
        n->parent = reg_check_nummer_field(body, parent_field, path, true, d);

    bool fra_ok, til_ok;
    n->fra = reg_check_date_field(body, "virkningFra", path, d, &fra_ok);
    n->til = reg_check_date_field(body, "virkningTil", path, d, &til_ok);
    if (!n->fra && fra_ok)
        n->fra =
            parent_fra ? parent_fra : (c->cmd->keep_numbers ? IMPORT_DEFAULT_FRA : c->cmd->today);
    if (n->fra && n->til && strcmp(n->til, n->fra) <= 0) {
        reg_path(felt, sizeof felt, path, "virkningTil");
        reg_fail(d, 422, "UGYLDIG_DATO", felt, "virkningTil skal ligge efter virkningFra (%s)",
                 n->fra);
    }

    const json_t *kids = kids_key ? json_object_get(body, kids_key) : NULL;
    if (!kids || json_is_null(kids)) return;
    reg_path(felt, sizeof felt, path, kids_key);
    if (!json_is_array(kids)) {
        reg_fail(d, 422, "FORKERT_TYPE", felt, "forventede en liste");
        return;
    }
    n->n_kids = json_array_size(kids);
    n->kids = calloc(n->n_kids ? n->n_kids : 1, sizeof *n->kids);
    if (!n->kids) abort();
    for (size_t i = 0; i < n->n_kids; i++) {
        char kid_path[sizeof n->path];
        reg_path_index(kid_path, sizeof kid_path, path, kids_key, i);
        plan_parse(c, &n->kids[i], level + 1, json_array_get(kids, i), kid_path,
                   n->fra ? n->fra : c->cmd->today);
    }
}

/* Cross-validation inside the plan: the daginstitution's ejerform against
 * its lovgrundlag, and each nested anvisningsenhed's instType3 against the
 * lovgrundlag of the daginstitution it belongs to (dag). Records created
 * already closed are outside the rule. */
static void plan_cross_validate(reg_ctx *c, const plan_node *n, const json_t *dag)
{
    char felt[sizeof n->path];
    if (n->level == REG_DAGINSTITUTION) {
        int ejerform = reg_int_field(n->clean, "ejerformKode", 0);
        int lov = reg_int_field(n->clean, "lovgrundlagKode", 0);
        if (!reg_lovgrundlag_allowed(ejerform, lov)) {
            reg_path(felt, sizeof felt, n->path, "lovgrundlagKode");
            reg_fail(c->d, 422, "KRYDSVALIDERING", felt,
                     "lovgrundlag %d er ikke tilladt for ejerform %d", lov, ejerform);
        }
        dag = n->clean;
    } else if (n->level == REG_ANVISNINGSENHED && dag &&
               !(n->til && strcmp(n->til, c->cmd->today) <= 0)) {
        int lov = reg_int_field(dag, "lovgrundlagKode", 0);
        int type = reg_int_field(n->clean, "instType3", 0);
        if (!reg_insttype_allowed(lov, type)) {
            reg_path(felt, sizeof felt, n->path, "instType3");
            reg_fail(c->d, 422, "KRYDSVALIDERING", felt,
                     "institutionstype %d er ikke tilladt under lovgrundlag %d", type, lov);
        }
    }
    for (size_t i = 0; i < n->n_kids; i++)
        plan_cross_validate(c, &n->kids[i], dag);
}

/* The 409 rules of a plan: no record may stay in effect after its parent
 * closes (FORAELDER_NEDLAGT), and a kept number must be new (NUMMER_BRUGT). */
static void plan_check_state(reg_ctx *c, const plan_node *n, const json_t *parent_record)
{
    char felt[sizeof n->path];
    if (parent_record && reg_outlives_parent(n->til, parent_record)) {
        if (n->parent)
            reg_path(felt, sizeof felt, n->path, reg_level_parent_field(n->level));
        else
            snprintf(felt, sizeof felt, "%s", n->path);
        reg_fail(c->d, 409, "FORAELDER_NEDLAGT", felt, "forælderen er nedlagt pr. %s",
                 reg_record_date(parent_record, "virkningTil"));
    }
    if (n->given_nummer) {
        reg_level level;
        bool deleted = false;
        json_t *r =
            c->state->get ? c->state->get(c->state->ctx, n->given_nummer, &level, &deleted) : NULL;
        bool burnt =
            deleted || (c->state->is_burnt && c->state->is_burnt(c->state->ctx, n->given_nummer));
        reg_path(felt, sizeof felt, n->path, "nummer");
        if (r || burnt)
            reg_fail(c->d, 409, "NUMMER_BRUGT", felt, "nummeret %s er %s", n->given_nummer,
                     burnt ? "slettet og brændt" : "allerede i brug");
        json_decref(r);
    }
    json_t *self = NULL;
    if (n->n_kids) {
        self = json_object();
        json_object_set_new(self, "virkningTil", n->til ? json_string(n->til) : json_null());
    }
    for (size_t i = 0; i < n->n_kids; i++)
        plan_check_state(c, &n->kids[i], self);
    json_decref(self);
}

/* Finds numbers given twice in one import request. */
static void plan_check_duplicates(reg_ctx *c, const plan_node *n, const char **seen, size_t *n_seen,
                                  size_t cap)
{
    if (n->given_nummer) {
        for (size_t i = 0; i < *n_seen; i++) {
            if (strcmp(seen[i], n->given_nummer) == 0) {
                char felt[sizeof n->path];
                reg_path(felt, sizeof felt, n->path, "nummer");
                reg_fail(c->d, 409, "NUMMER_BRUGT", felt, "nummeret %s gives to gange",
                         n->given_nummer);
                break;
            }
        }
        if (*n_seen < cap) seen[(*n_seen)++] = n->given_nummer;
    }
    for (size_t i = 0; i < n->n_kids; i++)
        plan_check_duplicates(c, &n->kids[i], seen, n_seen, cap);
}

static size_t plan_count(const plan_node *n)
{
    size_t total = 1;
    for (size_t i = 0; i < n->n_kids; i++)
        total += plan_count(&n->kids[i]);
    return total;
}

/* Issues the numbers (parents first) and appends one "oprettet" change per
 * record. Returns false when the number series are exhausted. */
static bool plan_commit(reg_ctx *c, plan_node *n, const char *parent_nummer)
{
    if (n->given_nummer) {
        snprintf(n->nummer, sizeof n->nummer, "%s", n->given_nummer);
    } else if (!c->state->next_number || !c->state->next_number(c->state->ctx, n->nummer)) {
        reg_fail(c->d, 503, "IKKE_KLAR", "", "der er ikke flere numre at udstede");
        return false;
    }
    n->nummer[6] = '\0';
    const char *parent = n->parent ? n->parent : parent_nummer;
    json_t *after =
        reg_build_record(n->level, n->nummer, parent, n->clean, n->fra, n->til, 1, c->cmd->now);
    reg_add_change(c, n->level, "oprettet", n->nummer, NULL, after);
    for (size_t i = 0; i < n->n_kids; i++)
        if (!plan_commit(c, &n->kids[i], n->nummer)) return false;
    return true;
}

void reg_decide_create(reg_ctx *c)
{
    reg_decision *d = c->d;
    reg_level level = c->cmd->level;
    plan_node root;
    plan_parse(c, &root, level, c->cmd->body, "", NULL);
    json_t *parent = NULL, *dag = NULL;
    if (d->status) goto done;

    /* The referenced parent exists. */
    if (level != REG_DAGINSTITUTION) {
        parent = reg_lookup(c, root.parent, level - 1);
        if (!parent) {
            reg_fail(d, 422, "FORAELDER_FINDES_IKKE", reg_level_parent_field(level),
                     "%s findes ikke som %s", root.parent, reg_level_name(level - 1));
            goto done;
        }
        dag = reg_owner_dag(c, level - 1, parent);
    } else {
        dag = json_incref(root.clean);
    }

    /* Authorization on the record as it will be; If-Match has no target. */
    if (!reg_authorize(c, dag, "daginstitutionen")) goto done;

    plan_cross_validate(c, &root, level == REG_ANVISNINGSENHED ? parent : NULL);
    if (d->status) goto done;

    plan_check_state(c, &root, parent);
    size_t total = plan_count(&root);
    const char **seen = calloc(total, sizeof *seen);
    if (!seen) abort();
    size_t n_seen = 0;
    plan_check_duplicates(c, &root, seen, &n_seen, total);
    free(seen);
    if (d->status) goto done;

    plan_commit(c, &root, NULL);
done:
    json_decref(parent);
    json_decref(dag);
    plan_free(&root);
}
