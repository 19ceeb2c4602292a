/*
 * lifecycle.c -- the operations that change a record's place in time and in
 * the hierarchy: REG_OP_CLOSE (nedlæg: set virkningTil, no cascade),
 * REG_OP_DELETE (an erroneous registration, never while children exist) and
 * REG_OP_MOVE (an anvisningsenhed to another daginstitution, an alternativ
 * adresse to another anvisningsenhed, within one administrating kommune) and
 * REG_OP_REOPEN (genåbn: a record closed in error in effect again).
 */
#include <stdio.h>
#include <string.h>

#include "register/internal.h"

/* Refuses every key of body but the allowed one (NULL: none). */
static void only_key(reg_ctx *c, const json_t *body, const char *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v)
    {
        if (allowed && strcmp(key, allowed) == 0) continue;
        reg_fail(c->d, 422, "UKENDT_FELT", key, "ukendt felt");
    }
}

/* The stored record rebuilt in canonical form with a new parent and/or
 * virkningTil, version + 1 and opdateret = now. */
static json_t *next_version(reg_ctx *c, reg_level level, const json_t *stored, const char *parent,
                            const char *til)
{
    json_int_t version = json_integer_value(json_object_get(stored, "version"));
    return reg_build_record(level, reg_str_field(stored, "nummer"), parent, stored,
                            reg_record_date(stored, "virkningFra"), til, version + 1, c->cmd->now);
}

static const char *parent_of(reg_level level, const json_t *record)
{
    const char *field = reg_level_parent_field(level);
    return field ? reg_str_field(record, field) : NULL;
}

/* Appends the numbers of the records in list to buf (for texts). */
static void list_numbers(char *buf, size_t size, const char *const *numbers, size_t n)
{
    size_t used = strlen(buf);
    for (size_t i = 0; i < n && used + 8 < size; i++) {
        snprintf(buf + used, size - used, "%s%s", i ? ", " : "", numbers[i] ? numbers[i] : "?");
        used = strlen(buf);
    }
}

void reg_decide_close(reg_ctx *c, json_t *stored)
{
    reg_decision *d = c->d;
    reg_level level = c->cmd->level;
    const json_t *body = c->cmd->body;
    json_t *dag = NULL;
    if (!json_is_object(body)) {
        reg_fail(d, 422, "MANGLER_FELT", "virkningTil", "nedlæg kræver virkningTil");
        return;
    }
    only_key(c, body, "virkningTil");
    bool ok;
    const char *til = reg_check_date_field(body, "virkningTil", "", d, &ok);
    const char *fra = reg_record_date(stored, "virkningFra");
    if (!til && ok) reg_fail(d, 422, "MANGLER_FELT", "virkningTil", "nedlæg kræver virkningTil");
    if (til && fra && strcmp(til, fra) <= 0)
        reg_fail(d, 422, "UGYLDIG_DATO", "virkningTil",
                 "virkningTil skal ligge efter virkningFra (%s)", fra);
    if (d->status) return;

    dag = reg_owner_dag(c, level, stored);
    if (!reg_authorize(c, dag, "daginstitutionen")) goto done;
    if (!reg_check_if_match(c, stored)) goto done;

    if (reg_closed_on(stored, c->cmd->today))
        reg_fail(d, 409, "NEDLAGT", "", "%s er allerede nedlagt pr. %s", c->cmd->nummer,
                 reg_record_date(stored, "virkningTil"));
    if (level != REG_ALTERNATIV_ADRESSE) {
        /* No cascade: every child must be out of effect by that date. */
        json_t *children = reg_children_of(c, c->cmd->nummer, level);
        const char *active[8];
        size_t n_active = 0, n_total = 0, i;
        json_t *child;
        json_array_foreach(children, i, child)
        {
            const char *child_til = reg_record_date(child, "virkningTil");
            if (child_til && strcmp(child_til, til) <= 0) continue;
            if (n_active < 8) active[n_active++] = reg_str_field(child, "nummer");
            n_total++;
        }
        if (n_total) {
            char tekst[200] = "";
            list_numbers(tekst, sizeof tekst, active, n_active);
            reg_fail(d, 409, "HAR_AKTIVE_BOERN", "virkningTil",
                     "%zu underliggende er i kraft efter %s: %s%s", n_total, til, tekst,
                     n_total > n_active ? ", ..." : "");
        }
        json_decref(children);
    }
    if (d->status) goto done;

    const char *old_til = reg_record_date(stored, "virkningTil");
    if (old_til && strcmp(old_til, til) == 0) goto done; /* already so */
    const char *operation = strcmp(til, c->cmd->today) <= 0 ? "nedlagt" : "aendret";
    reg_add_change(c, level, operation, c->cmd->nummer, json_deep_copy(stored),
                   next_version(c, level, stored, parent_of(level, stored), til));
done:
    json_decref(dag);
}

void reg_decide_delete(reg_ctx *c, json_t *stored)
{
    reg_decision *d = c->d;
    reg_level level = c->cmd->level;
    const json_t *body = c->cmd->body;
    json_t *dag = NULL;
    if (body && !json_is_null(body)) {
        if (!json_is_object(body))
            reg_fail(d, 422, "FORKERT_TYPE", "", "forventede intet eller et tomt objekt");
        else
            only_key(c, body, NULL);
    }
    if (d->status) return;

    dag = reg_owner_dag(c, level, stored);
    if (!reg_authorize(c, dag, "daginstitutionen")) goto done;
    if (!reg_check_if_match(c, stored)) goto done;

    if (level != REG_ALTERNATIV_ADRESSE) {
        json_t *children = reg_children_of(c, c->cmd->nummer, level);
        size_t n = json_array_size(children);
        if (n)
            reg_fail(d, 409, "HAR_BOERN", "", "%s har %zu underliggende; slet eller flyt dem først",
                     c->cmd->nummer, n);
        json_decref(children);
    }
    if (d->status) goto done;

    reg_add_change(c, level, "slettet", c->cmd->nummer, json_deep_copy(stored), NULL);
done:
    json_decref(dag);
}

void reg_decide_move(reg_ctx *c, json_t *stored)
{
    reg_decision *d = c->d;
    reg_level level = c->cmd->level;
    const json_t *body = c->cmd->body;
    json_t *new_parent = NULL, *old_dag = NULL, *new_dag = NULL;
    if (level == REG_DAGINSTITUTION) {
        reg_fail(d, 400, "UGYLDIG_FORESPOERGSEL", "", "en daginstitution kan ikke flyttes");
        return;
    }
    const char *parent_field = reg_level_parent_field(level);
    if (!json_is_object(body)) {
        reg_fail(d, 422, "MANGLER_FELT", parent_field, "flyt kræver %s", parent_field);
        return;
    }
    only_key(c, body, parent_field);
    const char *target = reg_check_nummer_field(body, parent_field, "", true, d);
    if (d->status) return;

    new_parent = reg_lookup(c, target, level - 1);
    if (!new_parent) {
        reg_fail(d, 422, "FORAELDER_FINDES_IKKE", parent_field, "%s findes ikke som %s", target,
                 reg_level_name(level - 1));
        goto done;
    }

    /* Both ends of the move must be the actor's. */
    old_dag = reg_owner_dag(c, level, stored);
    new_dag = reg_owner_dag(c, level - 1, new_parent);
    if (!reg_authorize(c, old_dag, "den nuværende daginstitution") ||
        !reg_authorize(c, new_dag, "den nye daginstitution"))
        goto done;
    if (!reg_check_if_match(c, stored)) goto done;

    bool closed = reg_closed_on(stored, c->cmd->today);
    if (level == REG_ANVISNINGSENHED && !closed) {
        int lov = reg_int_field(new_dag, "lovgrundlagKode", 0);
        int type = reg_int_field(stored, "instType3", 0);
        if (!reg_insttype_allowed(lov, type))
            reg_fail(d, 422, "KRYDSVALIDERING", parent_field,
                     "institutionstype %d er ikke tilladt under %s's lovgrundlag %d", type, target,
                     lov);
    }
    if (d->status) goto done;

    if (closed)
        reg_fail(d, 409, "NEDLAGT", "", "%s er nedlagt pr. %s", c->cmd->nummer,
                 reg_record_date(stored, "virkningTil"));
    if (reg_outlives_parent(reg_record_date(stored, "virkningTil"), new_parent))
        reg_fail(d, 409, "FORAELDER_NEDLAGT", parent_field, "%s er nedlagt pr. %s", target,
                 reg_record_date(new_parent, "virkningTil"));
    if (reg_int_field(old_dag, "admKommuneKode", -1) !=
        reg_int_field(new_dag, "admKommuneKode", -2))
        reg_fail(d, 409, "FLYT_PAA_TVAERS", parent_field,
                 "flyt kun inden for samme administrerende kommune (%d -> %d)",
                 reg_int_field(old_dag, "admKommuneKode", -1),
                 reg_int_field(new_dag, "admKommuneKode", -1));
    if (d->status) goto done;

    const char *old_parent = parent_of(level, stored);
    if (old_parent && strcmp(old_parent, target) == 0) goto done; /* already there */
    reg_add_change(c, level, "flyttet", c->cmd->nummer, json_deep_copy(stored),
                   next_version(c, level, stored, target, reg_record_date(stored, "virkningTil")));
done:
    json_decref(new_parent);
    json_decref(old_dag);
    json_decref(new_dag);
}

/* Genåbn (DOMAIN.md): a record closed in error gets a new version with
 * virkningTil null and an "aendret" hændelse. Support only (a kommune asks
 * support); refused while the parent has a virkningTil of its own
 * (FORAELDER_NEDLAGT), since the reopened record would outlive it. A record
 * that is not closed (no virkningTil) is left as it is: accepted, nothing
 * changed, like a close to the date already set. */
void reg_decide_reopen(reg_ctx *c, json_t *stored)
{
    reg_decision *d = c->d;
    reg_level level = c->cmd->level;
    const json_t *body = c->cmd->body;
    json_t *dag = NULL, *parent = NULL;
    if (body && !json_is_null(body)) {
        if (!json_is_object(body))
            reg_fail(d, 422, "FORKERT_TYPE", "", "forventede intet eller et tomt objekt");
        else
            only_key(c, body, NULL);
    }
    if (d->status) return;

    if (c->actor->role != REG_ROLE_SUPPORT && c->actor->role != REG_ROLE_SYSTEM) {
        reg_fail(d, 403, "IKKE_TILLADT", "",
                 "kun STIL support kan genåbne en registrering; en kommune beder support");
        return;
    }
    dag = reg_owner_dag(c, level, stored);
    if (!reg_authorize(c, dag, "daginstitutionen")) goto done;
    if (!reg_check_if_match(c, stored)) goto done;

    if (level != REG_DAGINSTITUTION) {
        const char *parent_nummer = parent_of(level, stored);
        parent = reg_lookup(c, parent_nummer, level - 1);
        if (parent && reg_outlives_parent(NULL, parent))
            reg_fail(d, 409, "FORAELDER_NEDLAGT", reg_level_parent_field(level),
                     "%s er nedlagt pr. %s; genåbn den først", parent_nummer,
                     reg_record_date(parent, "virkningTil"));
    }
    if (d->status) goto done;

    if (!reg_record_date(stored, "virkningTil")) goto done; /* not closed: nothing to do */
    reg_add_change(c, level, "aendret", c->cmd->nummer, json_deep_copy(stored),
                   next_version(c, level, stored, parent_of(level, stored), NULL));
done:
    json_decref(dag);
    json_decref(parent);
}
