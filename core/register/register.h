/*
 * register.h -- the register's domain rules, pure: state and command in,
 * decision out. No I/O, no SQL, no HTTP, no JSON text.
 *
 * Records are jansson objects (json_t) with the field names of API.md
 * ("nummer", "navn", "ejerformKode", "adresse": {...}, "virkningFra", ...):
 * the same shape the REST API reads and writes, the store keeps and the feed
 * carries. register/ never parses or prints JSON text; it only inspects and
 * builds json_t values (see docs/decisions.md).
 *
 * A stored record always carries every field of its level (null where
 * empty), plus "nummer", the parent number ("daginstitutionsNummer" or
 * "anvisningsenhedsNummer"), "virkningFra", "virkningTil", "version",
 * "opdateret". "status" is not stored: it is derived from the dates and
 * today (reg_status) when a record is shown.
 *
 * Who calls it: the store's writer thread, inside the write transaction
 * (reg_decide), and read paths (reg_status, the code lists). It is
 * reentrant: no globals but constant tables.
 */
#ifndef DTR_REGISTER_H
#define DTR_REGISTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* ---- levels, operations, roles ---------------------------------------- */

typedef enum reg_level {
    REG_DAGINSTITUTION = 0,
    REG_ANVISNINGSENHED = 1,
    REG_ALTERNATIV_ADRESSE = 2
} reg_level;

typedef enum reg_op {
    REG_OP_CREATE, /* body: the new record (a daginstitution may nest "anvisningsenheder",
                      an anvisningsenhed "alternativeAdresser", at any depth below) */
    REG_OP_UPDATE, /* body: a merge patch (a daginstitution's may carry "anvisningsenheder"
                      elements, each a merge patch of the child named by its "nummer") */
    REG_OP_CLOSE,  /* body: {"virkningTil": "YYYY-MM-DD"} */
    REG_OP_DELETE, /* body: NULL or {} */
    REG_OP_MOVE,   /* body: {"daginstitutionsNummer": ...} or {"anvisningsenhedsNummer": ...} */
    REG_OP_REOPEN  /* genåbn, support only: body NULL or {}; virkningTil back to null */
} reg_op;

typedef enum reg_role {
    REG_ROLE_KOMMUNE,
    REG_ROLE_SUPPORT,
    REG_ROLE_LAESER,
    REG_ROLE_ADMIN,
    REG_ROLE_SYSTEM, /* the register itself (timed changes) and the initial import */
} reg_role;

/* Who asks. Borrowed by reg_decide. */
typedef struct reg_actor {
    const char *id; /* client id, "system", "import" */
    reg_role role;
    const int *kommuner; /* the kommune role's scope */
    size_t n_kommuner;
} reg_actor;

/* ---- the command and the state it is decided against -------------------- */

typedef struct reg_command {
    reg_op op;
    reg_level level;
    const char *nummer; /* the target; NULL on create */
    const json_t *body; /* borrowed; see reg_op */
    int64_t if_match;   /* the version If-Match names; -1 when absent */
    const char *today;  /* "YYYY-MM-DD" in Europe/Copenhagen: the day of the request */
    const char *now;    /* RFC 3339 UTC timestamp of the decision, for "opdateret" */
    bool keep_numbers;  /* import: numbers given in the body are kept (a used or
                           burnt one: 409 NUMMER_BRUGT), virkningFra defaults to
                           2019-08-30, and in an update a read-only field equal to
                           the stored value is let through (a whole row may be sent);
                           otherwise "nummer" in a body is SKRIVEBESKYTTET */
} reg_command;

/* What reg_decide may ask about the current state. The store implements it
 * with reads inside the write transaction; tests implement it in memory.
 * Returned records are new references the caller (register) releases. */
typedef struct reg_state {
    void *ctx;
    /* The current record with that number at any level; NULL when unknown.
     * *level is set; *deleted is true for a deleted (burnt) number, and then
     * the returned record is the last version before deletion (or NULL). */
    json_t *(*get)(void *ctx, const char *nummer, reg_level *level, bool *deleted);
    /* The current children of a daginstitution or anvisningsenhed (an array,
     * new reference; never NULL), not including deleted ones. */
    json_t *(*children)(void *ctx, const char *nummer, reg_level level);
    /* Issues the next number of the series (G00001 ...): written into out
     * (7 bytes). Returns false when the series are exhausted (503 IKKE_KLAR).
     * Called only for records the decision creates. */
    bool (*next_number)(void *ctx, char out[7]);
    /* Import only: is this number burnt (ever deleted)? May be NULL. */
    bool (*is_burnt)(void *ctx, const char *nummer);
} reg_state;

/* ---- the decision ------------------------------------------------------ */

/* One error: kode from API.md's table, felt the JSON path of the field
 * ("adresse.postNummer", "anvisningsenheder[1].instType3"), or "" for none. */
typedef struct reg_error {
    char kode[32];
    char felt[96];
    char tekst[256];
} reg_error;

/* One record changed. Owned by the decision. */
typedef struct reg_change {
    reg_level level;
    const char *operation; /* "oprettet", "aendret", "flyttet", "nedlagt", "slettet" */
    char nummer[7];
    json_t *before; /* the stored record; NULL on create */
    json_t *after;  /* the full record after the change, version bumped; on delete NULL */
} reg_change;

#define REG_MAX_ERRORS 32

typedef struct reg_decision {
    int status; /* 0: accepted (apply changes); else the HTTP status of the refusal:
                   400, 403, 404, 409, 410, 412, 422, 503 */
    size_t n_errors;
    reg_error errors[REG_MAX_ERRORS];
    size_t n_changes;
    reg_change *changes; /* in the order to apply (parents before children) */
    const char *primary; /* the nummer of the record the command targets or the top
                            record a create made. Points into changes[] when that
                            record changed, else it is cmd->nummer (borrowed from the
                            command); NULL for a refused create */
} reg_decision;

/* Decides a command against the state. Always fills *out (call
 * reg_decision_clear after). A refusal carries one or more errors and no
 * changes; an acceptance carries the exact changes to make, possibly none
 * (a PATCH that changes nothing, a close to the date already set, a move to
 * the current parent: status 0, n_changes 0, versions unchanged). Checks run in API.md's order:
 * target exists (404/410), fields on their own (422), referenced parent
 * exists (422 FORAELDER_FINDES_IKKE), authorization on the stored record and
 * on the record after the change (403), If-Match (412), cross-validation
 * (422 KRYDSVALIDERING) and the 409 rules. */
void reg_decide(const reg_command *cmd, const reg_state *state, const reg_actor *actor,
                reg_decision *out);
void reg_decision_clear(reg_decision *d);

/* The timed changes of a record on day today: a future close that has
 * arrived ("nedlagt") or a future virkningFra that has arrived ("aendret").
 * Returns the change (after = version + 1, opdateret = now; the store records
 * actor system) or false when none; release it with reg_change_clear. The
 * store calls it at start and every minute for records whose dates fall
 * between the last check and today. A date is due when it is not after today
 * and after both last_checked_day (may be NULL) and the Copenhagen day of
 * the record's own "opdateret": so a close registered for today (already a
 * "nedlagt" change) is never repeated, and calling it again after the timed
 * version is written gives false. */
bool reg_timed_change(const json_t *record, reg_level level, const char *last_checked_day,
                      const char *today, const char *now, reg_change *out);
/* Releases a change's records (as reg_timed_change filled it) and zeroes it. */
void reg_change_clear(reg_change *c);

/* ---- derived values and code lists ------------------------------------- */

/* "kommende", "aktiv" or "nedlagt" for a record on day (YYYY-MM-DD). */
const char *reg_status(const json_t *record, const char *day);
/* Whether the record is in effect on day. */
bool reg_in_effect(const json_t *record, const char *day);

const char *reg_level_name(reg_level level);         /* "daginstitution", ... "alternativAdresse" */
const char *reg_level_parent_field(reg_level level); /* NULL, "daginstitutionsNummer", ... */

typedef struct reg_code {
    int kode;
    const char *tekst;
} reg_code;

/* The code lists (exact texts of kodetekster.csv / kommuner.csv). */
const reg_code *reg_kommuner(size_t *n);
const reg_code *reg_ejerformer(size_t *n);
const reg_code *reg_lovgrundlag(size_t *n);
const reg_code *reg_institutionstyper(size_t *n);
/* The text of a code; NULL when unknown. */
const char *reg_code_text(const reg_code *list, size_t n, int kode);
/* The text of a code in the list named as the plugin ABI names them
 * ("kommune", "ejerform", "lovgrundlag", "institutionstype"); NULL for an
 * unknown list or code. */
const char *reg_code_text_by_list(const char *list, int kode);

/* The series order G H J K L M N P R S T U V W X Y Z; returns the index of a
 * number's letter in it (0 for G), or -1 for a letter outside (A-numre). */
int reg_series_index(char letter);

/* Today in Europe/Copenhagen as YYYY-MM-DD (out: 11 bytes) for the given
 * UNIX time. Pure: computes the CET/CEST rule itself. */
void reg_day_of(int64_t unix_seconds, char out[11]);

#endif /* DTR_REGISTER_H */
