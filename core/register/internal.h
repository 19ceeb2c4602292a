/*
 * internal.h -- what the files of register/ share among themselves and no
 * other module sees: error reporting into a decision, dates, the field
 * validator, the cross-validation matrices and the authorization rule.
 */
#ifndef DTR_REGISTER_INTERNAL_H
#define DTR_REGISTER_INTERNAL_H

#include "register/register.h"

/* ---- errors (decide.c) --------------------------------------------------- */

/* Adds one error to the decision (dropped past REG_MAX_ERRORS) and sets its
 * status when none is set yet. felt may be NULL or "" for no field. */
void reg_fail(reg_decision *d, int status, const char *kode, const char *felt, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Joins a JSON path: "" + "navn" -> "navn", "adresse" + "vejNavn" ->
 * "adresse.vejNavn". out has room for sizeof(reg_error.felt). */
void reg_path(char *out, size_t size, const char *prefix, const char *name);
/* "anvisningsenheder" + 2 -> "anvisningsenheder[2]" under prefix. */
void reg_path_index(char *out, size_t size, const char *prefix, const char *name, size_t index);

/* ---- dates (time.c) -------------------------------------------------------- */

/* Whether s is a real calendar date written YYYY-MM-DD. */
bool reg_date_valid(const char *s);
/* The date of a record field as a string, or NULL when absent/null. */
const char *reg_record_date(const json_t *record, const char *field);
/* The Copenhagen day (YYYY-MM-DD) of an RFC 3339 timestamp; false when it
 * cannot be read. */
bool reg_day_of_timestamp(const char *timestamp, char out[11]);
/* Whether the record is closed on day: virkningTil set and not after day. */
bool reg_closed_on(const json_t *record, const char *day);
/* Whether a period [fra, til) reaches past the end of a parent's period:
 * the parent has a virkningTil and the child's is open or later. */
bool reg_outlives_parent(const char *child_til, const json_t *parent);

/* ---- codes (codes.c) ------------------------------------------------------- */

/* The cross-validation matrices of DOMAIN.md. */
bool reg_lovgrundlag_allowed(int ejerform, int lovgrundlag);
bool reg_insttype_allowed(int lovgrundlag, int insttype);
/* Whether s is a number ^[A-Z][0-9]{5}$. */
bool reg_nummer_valid(const char *s);

/* ---- fields (validate.c) --------------------------------------------------- */

/* Whether key names a writable field of the level ("navn", "adresse", ...). */
bool reg_is_field(reg_level level, const char *key);
/* The names of the level's writable fields, NULL-terminated. */
const char *const *reg_field_names(reg_level level);

/* Validates the writable fields of a level found in candidate (an object;
 * other keys are left to the caller) and returns a new object holding every
 * writable field in canonical order, texts NFC-normalized, null where empty.
 * Errors go into d with paths under prefix; the result is still returned
 * (NULL only when candidate is not an object) so that all errors of a request
 * are found at once. */
json_t *reg_clean_fields(reg_level level, const json_t *candidate, const char *prefix,
                         reg_decision *d);

/* Validates a date-valued field (YYYY-MM-DD or null/absent). Returns the date
 * or NULL when absent; errors into d. */
const char *reg_check_date_field(const json_t *obj, const char *key, const char *prefix,
                                 reg_decision *d, bool *ok);

/* Validates a number-valued reference field (parent numbers, nummer on
 * import): string of the form ^[A-Z][0-9]{5}$. Returns it or NULL when
 * absent; errors into d (MANGLER_FELT when required). */
const char *reg_check_nummer_field(const json_t *obj, const char *key, const char *prefix,
                                   bool required, reg_decision *d);

/* ---- authorization (authz.c) ------------------------------------------------ */

/* Whether the actor may write register data belonging to the daginstitution
 * dag (a record of that level; NULL when it is unknown, which only system and
 * support pass). */
bool reg_may_write(const reg_actor *actor, const json_t *dag);
/* Whether the actor may write register data at all (not laeser, not admin). */
bool reg_role_writes(const reg_actor *actor);

/* ---- deciding (decide.c, create.c, update.c, lifecycle.c) ------------------ */

/* One reg_decide call: the command, the state, the actor and the decision
 * being filled. */
typedef struct reg_ctx {
    const reg_command *cmd;
    const reg_state *state;
    const reg_actor *actor;
    reg_decision *d;
    size_t cap_changes;
} reg_ctx;

/* Looks up a number of a given level: a new reference to its current record,
 * or NULL when it is unknown, deleted or of another level. */
json_t *reg_lookup(reg_ctx *c, const char *nummer, reg_level level);
/* The daginstitution a record belongs to (itself, its parent or its
 * grandparent): a new reference, or NULL when the chain is broken. */
json_t *reg_owner_dag(reg_ctx *c, reg_level level, const json_t *record);
/* The current children of a record (new reference, never NULL). */
json_t *reg_children_of(reg_ctx *c, const char *nummer, reg_level level);
/* Builds a stored record in canonical order: nummer, parent number, the
 * level's fields (from clean), virkningFra, virkningTil, version, opdateret. */
json_t *reg_build_record(reg_level level, const char *nummer, const char *parent,
                         const json_t *clean, const char *fra, const char *til, int64_t version,
                         const char *now);
/* Appends a change; takes over before and after. */
void reg_add_change(reg_ctx *c, reg_level level, const char *operation, const char *nummer,
                    json_t *before, json_t *after);
/* Whether the actor may write data owned by dag; reports 403 when not. */
bool reg_authorize(reg_ctx *c, const json_t *dag, const char *what);
/* Reports 412 when If-Match names another version than the stored one. */
bool reg_check_if_match(reg_ctx *c, const json_t *stored);
/* Whether any writable field of clean differs from the stored record. */
bool reg_fields_differ(reg_level level, const json_t *clean, const json_t *stored);

void reg_decide_create(reg_ctx *c);
void reg_decide_update(reg_ctx *c, json_t *stored);
void reg_decide_close(reg_ctx *c, json_t *stored);
void reg_decide_delete(reg_ctx *c, json_t *stored);
void reg_decide_reopen(reg_ctx *c, json_t *stored);
void reg_decide_move(reg_ctx *c, json_t *stored);

/* ---- records ------------------------------------------------------------------ */

/* An integer field of a record, or def when absent or not an integer. */
int reg_int_field(const json_t *record, const char *key, int def);
/* A string field of a record, or NULL. */
const char *reg_str_field(const json_t *record, const char *key);

#endif /* DTR_REGISTER_INTERNAL_H */
