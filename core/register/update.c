/*
 * update.c -- REG_OP_UPDATE: an RFC 7396 merge patch of one record. A
 * daginstitution's patch may carry "anvisningsenheder": [{"nummer": ...,
 * ...merge patch}] that change those children in the same decision; the
 * whole is validated, authorized and cross-validated together and never
 * creates or removes a child. virkningFra, virkningTil, the parent number and
 * the register's own fields cannot be patched (SKRIVEBESKYTTET).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "register/internal.h"

/* One element of a daginstitution patch's "anvisningsenheder". */
typedef struct child_patch {
    char path[sizeof(((reg_error *)0)->felt)];
    const char *nummer; /* borrowed from the body; NULL when unreadable */
    json_t *stored;     /* the child as stored; NULL when it is not a child of the target */
    json_t *clean;      /* the child's fields after the patch */
} child_patch;

static bool is_read_only(reg_level level, const char *key)
{
    const char *parent_field = reg_level_parent_field(level);
    return strcmp(key, "nummer") == 0 || strcmp(key, "status") == 0 ||
           strcmp(key, "version") == 0 || strcmp(key, "opdateret") == 0 ||
           strcmp(key, "virkningFra") == 0 || strcmp(key, "virkningTil") == 0 ||
           (parent_field && strcmp(key, parent_field) == 0);
}

/* Judges the keys of a patch: fields are fine, the register's own fields
 * and the ones that change only through other operations are SKRIVEBESKYTTET
 * (on import a value equal to the stored one is let through, so a whole row
 * can be sent), anything else is UKENDT_FELT. A child patch names its child
 * by "nummer"; only the top patch of a daginstitution may nest children. */
static void check_patch_keys(reg_ctx *c, reg_level level, const json_t *patch, const json_t *stored,
                             const char *path, bool child)
{
    char felt[sizeof(((reg_error *)0)->felt)];
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)patch, key, v)
    {
        if (reg_is_field(level, key)) continue;
        if (child && strcmp(key, "nummer") == 0) continue;
        if (!child && level == REG_DAGINSTITUTION && strcmp(key, "anvisningsenheder") == 0)
            continue;
        reg_path(felt, sizeof felt, path, key);
        if (is_read_only(level, key)) {
            if (c->cmd->keep_numbers && stored && json_equal(v, json_object_get(stored, key)))
                continue;
            reg_fail(c->d, 422, "SKRIVEBESKYTTET", felt,
                     "feltet ændres ikke med PATCH (se nedlaeg, flyt)");
        } else {
            reg_fail(c->d, 422, "UKENDT_FELT", felt, "ukendt felt");
        }
    }
}

/* The record's writable fields with the patch merged in (RFC 7396): a key
 * set to null becomes null, "adresse" merges member by member. The result
 * goes through the same field validation as a create. */
static json_t *merge_patch(reg_level level, const json_t *stored, const json_t *patch)
{
    json_t *cand = json_object();
    for (const char *const *f = reg_field_names(level); *f; f++) {
        json_t *v = json_object_get(stored, *f);
        if (v) json_object_set_new(cand, *f, json_deep_copy(v));
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)patch, key, v)
    {
        if (!reg_is_field(level, key)) continue;
        json_t *target = json_object_get(cand, key);
        if (strcmp(key, "adresse") == 0 && json_is_object(v) && json_is_object(target)) {
            const char *k2;
            json_t *v2;
            json_object_foreach(v, k2, v2) json_object_set_new(target, k2, json_deep_copy(v2));
        } else {
            json_object_set_new(cand, key, json_deep_copy(v));
        }
    }
    return cand;
}

/* Reads the "anvisningsenheder" of a daginstitution patch into kids (the
 * phase of the fields on their own). A number that is not a child of the
 * target leaves stored NULL for the next phase to refuse. */
static void parse_child_patches(reg_ctx *c, const json_t *dag, const json_t *body,
                                child_patch **out, size_t *n_out)
{
    const json_t *arr = json_object_get(body, "anvisningsenheder");
    if (!arr) return;
    if (!json_is_array(arr)) {
        reg_fail(c->d, 422, "FORKERT_TYPE", "anvisningsenheder", "forventede en liste");
        return;
    }
    size_t n = json_array_size(arr);
    child_patch *kids = calloc(n ? n : 1, sizeof *kids);
    if (!kids) abort();
    const char *dag_nummer = reg_str_field(dag, "nummer");
    for (size_t i = 0; i < n; i++) {
        child_patch *k = &kids[i];
        const json_t *el = json_array_get(arr, i);
        reg_path_index(k->path, sizeof k->path, "", "anvisningsenheder", i);
        if (!json_is_object(el)) {
            reg_fail(c->d, 422, "FORKERT_TYPE", k->path, "forventede et objekt");
            continue;
        }
        k->nummer = reg_check_nummer_field(el, "nummer", k->path, true, c->d);
        for (size_t j = 0; k->nummer && j < i; j++) {
            if (kids[j].nummer && strcmp(kids[j].nummer, k->nummer) == 0) {
                char felt[sizeof k->path];
                reg_path(felt, sizeof felt, k->path, "nummer");
                reg_fail(c->d, 422, "UGYLDIGT_FORMAT", felt, "%s er nævnt to gange", k->nummer);
                k->nummer = NULL;
            }
        }
        json_t *child = k->nummer ? reg_lookup(c, k->nummer, REG_ANVISNINGSENHED) : NULL;
        const char *parent = reg_str_field(child, "daginstitutionsNummer");
        if (child && (!parent || !dag_nummer || strcmp(parent, dag_nummer) != 0)) {
            json_decref(child);
            child = NULL;
        }
        k->stored = child;
        check_patch_keys(c, REG_ANVISNINGSENHED, el, child, k->path, true);
        if (!child) continue;
        json_t *cand = merge_patch(REG_ANVISNINGSENHED, child, el);
        k->clean = reg_clean_fields(REG_ANVISNINGSENHED, cand, k->path, c->d);
        json_decref(cand);
    }
    *out = kids;
    *n_out = n;
}

static const child_patch *find_child_patch(const child_patch *kids, size_t n, const char *nummer)
{
    for (size_t i = 0; i < n && nummer; i++)
        if (kids[i].stored && kids[i].nummer && strcmp(kids[i].nummer, nummer) == 0)
            return &kids[i];
    return NULL;
}

/* Cross-validation of a daginstitution as it will be: its ejerform against
 * its lovgrundlag, and the lovgrundlag against the instType3 of each child
 * not closed today (as patched in the same request where named). */
static void cross_validate_dag(reg_ctx *c, const json_t *stored, const json_t *clean,
                               const child_patch *kids, size_t n_kids)
{
    int ejerform = reg_int_field(clean, "ejerformKode", 0);
    int lov = reg_int_field(clean, "lovgrundlagKode", 0);
    if (!reg_lovgrundlag_allowed(ejerform, lov))
        reg_fail(c->d, 422, "KRYDSVALIDERING", "lovgrundlagKode",
                 "lovgrundlag %d er ikke tilladt for ejerform %d", lov, ejerform);
    json_t *children = reg_children_of(c, reg_str_field(stored, "nummer"), REG_DAGINSTITUTION);
    size_t i;
    json_t *child;
    json_array_foreach(children, i, child)
    {
        if (reg_closed_on(child, c->cmd->today)) continue;
        const char *nummer = reg_str_field(child, "nummer");
        const child_patch *k = find_child_patch(kids, n_kids, nummer);
        int type = reg_int_field(k ? k->clean : child, "instType3", 0);
        if (reg_insttype_allowed(lov, type)) continue;
        char felt[sizeof(((reg_error *)0)->felt)];
        if (k)
            reg_path(felt, sizeof felt, k->path, "instType3");
        else
            snprintf(felt, sizeof felt, "lovgrundlagKode");
        reg_fail(c->d, 422, "KRYDSVALIDERING", felt,
                 "anvisningsenhed %s har institutionstype %d, som ikke er tilladt under "
                 "lovgrundlag %d",
                 nummer ? nummer : "?", type, lov);
    }
    json_decref(children);
}

/* Appends an "aendret" change when the patched fields differ. */
static void change_if_differs(reg_ctx *c, reg_level level, const json_t *stored,
                              const json_t *clean)
{
    if (!reg_fields_differ(level, clean, stored)) return;
    const char *nummer = reg_str_field(stored, "nummer");
    const char *parent_field = reg_level_parent_field(level);
    json_int_t version = json_integer_value(json_object_get(stored, "version"));
    json_t *after =
        reg_build_record(level, nummer, parent_field ? reg_str_field(stored, parent_field) : NULL,
                         clean, reg_record_date(stored, "virkningFra"),
                         reg_record_date(stored, "virkningTil"), version + 1, c->cmd->now);
    reg_add_change(c, level, "aendret", nummer, json_deep_copy(stored), after);
}

void reg_decide_update(reg_ctx *c, json_t *stored)
{
    reg_decision *d = c->d;
    reg_level level = c->cmd->level;
    const json_t *body = c->cmd->body;
    json_t *clean = NULL, *dag = NULL;
    child_patch *kids = NULL;
    size_t n_kids = 0;
    if (!json_is_object(body)) {
        reg_fail(d, 422, "FORKERT_TYPE", "", "en PATCH skal være et JSON-objekt");
        return;
    }

    /* The fields on their own. */
    check_patch_keys(c, level, body, stored, "", false);
    json_t *cand = merge_patch(level, stored, body);
    clean = reg_clean_fields(level, cand, "", d);
    json_decref(cand);
    if (level == REG_DAGINSTITUTION) parse_child_patches(c, stored, body, &kids, &n_kids);
    if (d->status) goto done;

    /* The referenced records exist: each named child belongs to the target. */
    for (size_t i = 0; i < n_kids; i++) {
        if (kids[i].stored) continue;
        char felt[sizeof kids[i].path];
        reg_path(felt, sizeof felt, kids[i].path, "nummer");
        reg_fail(d, 422, "FORAELDER_FINDES_IKKE", felt, "%s er ikke en anvisningsenhed under %s",
                 kids[i].nummer, c->cmd->nummer);
    }
    if (d->status) goto done;

    /* Authorization on the stored record and on the record after. */
    dag = reg_owner_dag(c, level, stored);
    if (!reg_authorize(c, dag, "daginstitutionen")) goto done;
    if (level == REG_DAGINSTITUTION && !reg_authorize(c, clean, "daginstitutionen efter ændringen"))
        goto done;

    if (!reg_check_if_match(c, stored)) goto done;

    /* Cross-validation. */
    if (level == REG_DAGINSTITUTION) {
        cross_validate_dag(c, stored, clean, kids, n_kids);
    } else if (level == REG_ANVISNINGSENHED && dag && !reg_closed_on(stored, c->cmd->today)) {
        int lov = reg_int_field(dag, "lovgrundlagKode", 0);
        int type = reg_int_field(clean, "instType3", 0);
        if (!reg_insttype_allowed(lov, type))
            reg_fail(d, 422, "KRYDSVALIDERING", "instType3",
                     "institutionstype %d er ikke tilladt under daginstitutionens lovgrundlag %d",
                     type, lov);
    }
    if (d->status) goto done;

    /* A closed record cannot change. */
    if (reg_closed_on(stored, c->cmd->today))
        reg_fail(d, 409, "NEDLAGT", "", "%s er nedlagt pr. %s", c->cmd->nummer,
                 reg_record_date(stored, "virkningTil"));
    for (size_t i = 0; i < n_kids; i++)
        if (reg_closed_on(kids[i].stored, c->cmd->today))
            reg_fail(d, 409, "NEDLAGT", kids[i].path, "%s er nedlagt pr. %s", kids[i].nummer,
                     reg_record_date(kids[i].stored, "virkningTil"));
    if (d->status) goto done;

    change_if_differs(c, level, stored, clean);
    for (size_t i = 0; i < n_kids; i++)
        change_if_differs(c, REG_ANVISNINGSENHED, kids[i].stored, kids[i].clean);
done:
    for (size_t i = 0; i < n_kids; i++) {
        json_decref(kids[i].stored);
        json_decref(kids[i].clean);
    }
    free(kids);
    json_decref(clean);
    json_decref(dag);
}
