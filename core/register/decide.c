/*
 * decide.c -- reg_decide: finds the command's target (404 FINDES_IKKE, 410
 * SLETTET), hands the command to its rule file (create.c, update.c,
 * lifecycle.c) and owns what they share: errors and JSON paths, lookups
 * through the caller's reg_state, the canonical stored record, the list of
 * changes, the authorization and If-Match steps, and the decision's memory.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "register/internal.h"

void reg_fail(reg_decision *d, int status, const char *kode, const char *felt, const char *fmt, ...)
{
    if (d->status == 0) d->status = status;
    if (d->n_errors >= REG_MAX_ERRORS) return;
    reg_error *e = &d->errors[d->n_errors++];
    snprintf(e->kode, sizeof e->kode, "%s", kode);
    snprintf(e->felt, sizeof e->felt, "%s", felt ? felt : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->tekst, sizeof e->tekst, fmt, ap);
    va_end(ap);
}

/* Appends src to out[*len..size) like snprintf would (truncated, always
 * terminated). */
static void reg_path_append(char *out, size_t size, size_t *len, const char *src)
{
    size_t n = strlen(src);
    if (*len + n >= size) n = size - 1 - *len;
    memcpy(out + *len, src, n);
    *len += n;
    out[*len] = '\0';
}

/* Called for every field of every record the writer decides, so it avoids
 * snprintf: the path is only read when the field is refused. */
void reg_path(char *out, size_t size, const char *prefix, const char *name)
{
    size_t len = 0;
    if (!size) return;
    out[0] = '\0';
    if (prefix && *prefix) {
        reg_path_append(out, size, &len, prefix);
        reg_path_append(out, size, &len, ".");
    }
    reg_path_append(out, size, &len, name);
}

void reg_path_index(char *out, size_t size, const char *prefix, const char *name, size_t index)
{
    if (prefix && *prefix)
        snprintf(out, size, "%s.%s[%zu]", prefix, name, index);
    else
        snprintf(out, size, "%s[%zu]", name, index);
}

void reg_decision_clear(reg_decision *d)
{
    for (size_t i = 0; i < d->n_changes; i++)
        reg_change_clear(&d->changes[i]);
    free(d->changes);
    memset(d, 0, sizeof *d);
}

json_t *reg_lookup(reg_ctx *c, const char *nummer, reg_level level)
{
    if (!nummer || !c->state->get) return NULL;
    reg_level found = level;
    bool deleted = false;
    json_t *r = c->state->get(c->state->ctx, nummer, &found, &deleted);
    if (r && (deleted || found != level || !json_is_object(r))) {
        json_decref(r);
        return NULL;
    }
    return r;
}

json_t *reg_owner_dag(reg_ctx *c, reg_level level, const json_t *record)
{
    if (level == REG_DAGINSTITUTION) return json_incref((json_t *)record);
    const char *parent = reg_str_field(record, reg_level_parent_field(level));
    if (level == REG_ANVISNINGSENHED) return reg_lookup(c, parent, REG_DAGINSTITUTION);
    json_t *unit = reg_lookup(c, parent, REG_ANVISNINGSENHED);
    if (!unit) return NULL;
    json_t *dag = reg_owner_dag(c, REG_ANVISNINGSENHED, unit);
    json_decref(unit);
    return dag;
}

json_t *reg_children_of(reg_ctx *c, const char *nummer, reg_level level)
{
    json_t *kids = c->state->children ? c->state->children(c->state->ctx, nummer, level) : NULL;
    if (!json_is_array(kids)) {
        json_decref(kids);
        kids = json_array();
    }
    return kids;
}

json_t *reg_build_record(reg_level level, const char *nummer, const char *parent,
                         const json_t *clean, const char *fra, const char *til, int64_t version,
                         const char *now)
{
    json_t *r = json_object();
    json_object_set_new(r, "nummer", json_string(nummer));
    const char *parent_field = reg_level_parent_field(level);
    if (parent_field)
        json_object_set_new(r, parent_field, parent ? json_string(parent) : json_null());
    for (const char *const *f = reg_field_names(level); *f; f++) {
        json_t *v = json_object_get(clean, *f);
        json_object_set_new(r, *f, v ? json_deep_copy(v) : json_null());
    }
    json_object_set_new(r, "virkningFra", fra ? json_string(fra) : json_null());
    json_object_set_new(r, "virkningTil", til ? json_string(til) : json_null());
    json_object_set_new(r, "version", json_integer(version));
    json_object_set_new(r, "opdateret", now ? json_string(now) : json_null());
    return r;
}

void reg_add_change(reg_ctx *c, reg_level level, const char *operation, const char *nummer,
                    json_t *before, json_t *after)
{
    reg_decision *d = c->d;
    if (d->n_changes == c->cap_changes) {
        size_t cap = c->cap_changes ? c->cap_changes * 2 : 4;
        reg_change *grown = realloc(d->changes, cap * sizeof *grown);
        if (!grown) abort();
        d->changes = grown;
        c->cap_changes = cap;
    }
    reg_change *ch = &d->changes[d->n_changes++];
    memset(ch, 0, sizeof *ch);
    ch->level = level;
    ch->operation = operation;
    snprintf(ch->nummer, sizeof ch->nummer, "%s", nummer ? nummer : "");
    ch->before = before;
    ch->after = after;
}

bool reg_authorize(reg_ctx *c, const json_t *dag, const char *what)
{
    if (reg_may_write(c->actor, dag)) return true;
    if (!reg_role_writes(c->actor))
        reg_fail(c->d, 403, "IKKE_TILLADT", "", "rollen må ikke ændre registerets data");
    else
        reg_fail(c->d, 403, "IKKE_TILLADT", "", "%s ligger uden for klientens område", what);
    return false;
}

bool reg_check_if_match(reg_ctx *c, const json_t *stored)
{
    if (c->cmd->if_match < 0) return true;
    json_int_t version = json_integer_value(json_object_get(stored, "version"));
    if (version == c->cmd->if_match) return true;
    reg_fail(c->d, 412, "VERSIONSKONFLIKT", "",
             "If-Match nævner version %" PRId64 ", men den gældende er %" JSON_INTEGER_FORMAT,
             c->cmd->if_match, version);
    return false;
}

/* Equality of stored values as the register sees them: numbers by value
 * (56 and 56.0 are one coordinate), objects member by member with an absent
 * member equal to null (a store may leave nulls out), the rest as jansson. */
static bool same_value(const json_t *a, const json_t *b)
{
    if (!a) a = json_null();
    if (!b) b = json_null();
    if (json_is_number(a) && json_is_number(b)) return json_number_value(a) == json_number_value(b);
    if (json_is_object(a) && json_is_object(b)) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)a, key,
                            v) if (!same_value(v, json_object_get(b, key))) return false;
        json_object_foreach((json_t *)b, key,
                            v) if (!json_object_get(a, key) && !json_is_null(v)) return false;
        return true;
    }
    return json_equal(a, b);
}

bool reg_fields_differ(reg_level level, const json_t *clean, const json_t *stored)
{
    for (const char *const *f = reg_field_names(level); *f; f++)
        if (!same_value(json_object_get(clean, *f), json_object_get(stored, *f))) return true;
    return false;
}

/* Finds the target of a command on an existing record: 404 FINDES_IKKE for
 * an unknown number (or one of another level), 410 SLETTET for a deleted
 * one. Returns a new reference or NULL after refusing. */
static json_t *find_target(reg_ctx *c)
{
    const reg_command *cmd = c->cmd;
    if (!cmd->nummer || !reg_nummer_valid(cmd->nummer) || !c->state->get) {
        reg_fail(c->d, 404, "FINDES_IKKE", "", "%s findes ikke", cmd->nummer ? cmd->nummer : "");
        return NULL;
    }
    reg_level level = cmd->level;
    bool deleted = false;
    json_t *r = c->state->get(c->state->ctx, cmd->nummer, &level, &deleted);
    if (deleted) {
        json_decref(r);
        reg_fail(c->d, 410, "SLETTET", "", "%s er slettet", cmd->nummer);
        return NULL;
    }
    if (!r || level != cmd->level || !json_is_object(r)) {
        json_decref(r);
        reg_fail(c->d, 404, "FINDES_IKKE", "", "%s findes ikke som %s", cmd->nummer,
                 reg_level_name(cmd->level));
        return NULL;
    }
    return r;
}

void reg_decide(const reg_command *cmd, const reg_state *state, const reg_actor *actor,
                reg_decision *out)
{
    memset(out, 0, sizeof *out);
    reg_ctx c = {.cmd = cmd, .state = state, .actor = actor, .d = out, .cap_changes = 0};
    if (!cmd->today || !reg_date_valid(cmd->today) || !cmd->now) {
        reg_fail(out, 400, "UGYLDIG_FORESPOERGSEL", "", "kommandoen mangler dagens dato");
        return;
    }
    if (cmd->op == REG_OP_CREATE) {
        reg_decide_create(&c);
    } else {
        json_t *stored = find_target(&c);
        if (stored) {
            switch (cmd->op) {
            case REG_OP_UPDATE:
                reg_decide_update(&c, stored);
                break;
            case REG_OP_CLOSE:
                reg_decide_close(&c, stored);
                break;
            case REG_OP_DELETE:
                reg_decide_delete(&c, stored);
                break;
            case REG_OP_MOVE:
                reg_decide_move(&c, stored);
                break;
            case REG_OP_REOPEN:
                reg_decide_reopen(&c, stored);
                break;
            case REG_OP_CREATE:
                break;
            }
            json_decref(stored);
        }
    }
    if (out->status != 0) {
        for (size_t i = 0; i < out->n_changes; i++)
            reg_change_clear(&out->changes[i]);
        out->n_changes = 0;
        free(out->changes);
        out->changes = NULL;
    }
    /* The primary record: the target, or the top record a create made. */
    out->primary = cmd->op == REG_OP_CREATE ? NULL : cmd->nummer;
    if (out->n_changes > 0 && cmd->op == REG_OP_CREATE) out->primary = out->changes[0].nummer;
    for (size_t i = 0; i < out->n_changes && cmd->op != REG_OP_CREATE; i++)
        if (cmd->nummer && strcmp(out->changes[i].nummer, cmd->nummer) == 0)
            out->primary = out->changes[i].nummer;
}
