/*
 * fuzz_register.c -- libFuzzer harness of the register's decisions (the
 * pure core/register/): a sequence of commands, each a target and a JSON
 * body, decided against an in-memory state and applied when accepted.
 *
 * Input: up to 8 commands separated by a 0xFF byte (never part of valid
 * UTF-8, so never inside a JSON text). Each command is 6 header bytes, then
 * its body as JSON text (empty: no body):
 *   [0] operation (mod 5: create, update, close, delete, move)
 *   [1] level (mod 3)
 *   [2] actor (mod 6: support, system, kommune 101, kommune 101+147,
 *       laeser, admin)
 *   [3] target: an index into the state's numbers (mod their count + 2;
 *       the last two are an unknown number and no number)
 *   [4] flags: bit 0 keep_numbers (import), bit 1 If-Match present, bits
 *       2..7 the If-Match version
 *   [5] today (mod 4 of a few days around the world's dates)
 *
 * Checked on every decision, not only "no crash":
 *   - a refusal has a documented status, at least one error with a kode and
 *     no changes, and the state and the body are unchanged by it;
 *   - an acceptance's changes are whole stored records: the right number and
 *     level, the version bumped by one, the writable fields unchanged by a
 *     second validation (reg_clean_fields finds nothing and changes nothing),
 *     the parent field naming a live record of the level above;
 *   - read back: after applying, the same record's writable fields sent
 *     again as a merge patch by support are accepted with no change (or, for
 *     a record closed by then, refused with 409 NEDLAGT).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "register/internal.h"

#define FZ_MAX 96

typedef struct fz_rec {
    reg_level level;
    json_t *rec;
    bool deleted;
} fz_rec;

typedef struct fz_state {
    fz_rec recs[FZ_MAX];
    size_t n;
    int next;
    reg_state st;
} fz_state;

static void fz_check(bool ok, const char *what)
{
    if (ok) return;
    fprintf(stderr, "fuzz_register: invariant broken: %s\n", what);
    abort();
}

static fz_rec *fz_find(fz_state *s, const char *nummer)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(json_string_value(json_object_get(s->recs[i].rec, "nummer")), nummer) == 0)
            return &s->recs[i];
    return NULL;
}

static json_t *fz_get(void *ctx, const char *nummer, reg_level *level, bool *deleted)
{
    fz_rec *r = fz_find(ctx, nummer);
    *deleted = false;
    if (!r) return NULL;
    *level = r->level;
    *deleted = r->deleted;
    return json_deep_copy(r->rec);
}

static json_t *fz_children(void *ctx, const char *nummer, reg_level level)
{
    fz_state *s = ctx;
    json_t *out = json_array();
    if (level >= REG_ALTERNATIV_ADRESSE) return out;
    const char *field = reg_level_parent_field((reg_level)(level + 1));
    for (size_t i = 0; i < s->n; i++) {
        fz_rec *r = &s->recs[i];
        const char *parent = json_string_value(json_object_get(r->rec, field));
        if (r->level == level + 1 && !r->deleted && parent && strcmp(parent, nummer) == 0)
            json_array_append_new(out, json_deep_copy(r->rec));
    }
    return out;
}

static bool fz_next_number(void *ctx, char out[7])
{
    fz_state *s = ctx;
    if (s->next > 99999 || s->n >= FZ_MAX - 8) return false;
    snprintf(out, 7, "G%05d", s->next++);
    return true;
}

static bool fz_is_burnt(void *ctx, const char *nummer)
{
    fz_rec *r = fz_find(ctx, nummer);
    return r && r->deleted;
}

static const int scope_101[] = {101};
static const int scope_101_147[] = {101, 147};
static const reg_actor actors[6] = {
    {"support-1", REG_ROLE_SUPPORT, NULL, 0}, {"system", REG_ROLE_SYSTEM, NULL, 0},
    {"kbh", REG_ROLE_KOMMUNE, scope_101, 1},  {"kbh-frb", REG_ROLE_KOMMUNE, scope_101_147, 2},
    {"laeser-1", REG_ROLE_LAESER, NULL, 0},   {"admin-1", REG_ROLE_ADMIN, NULL, 0},
};
static const char *const days[4] = {"2026-06-15", "2019-08-30", "2026-12-31", "2030-01-01"};
#define NOW "2026-06-15T10:00:00Z"

/* Every record of the state as one canonical text (the caller frees). */
static char *fz_dump(const fz_state *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n; i++)
        json_array_append_new(a, json_pack("{s:i, s:O, s:b}", "l", (int)s->recs[i].level, "r",
                                           s->recs[i].rec, "d", s->recs[i].deleted));
    char *t = json_dumps(a, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(a);
    return t;
}

/* Checks one change of an accepted decision against the state before it is
 * applied. */
static void fz_check_change(fz_state *s, const reg_change *ch)
{
    fz_check(ch->level <= REG_ALTERNATIV_ADRESSE, "change level");
    fz_check(reg_nummer_valid(ch->nummer), "change nummer is a number");
    fz_rec *old = fz_find(s, ch->nummer);
    if (strcmp(ch->operation, "slettet") == 0) {
        fz_check(old && !old->deleted && old->level == ch->level, "deleted record existed");
        fz_check(ch->after == NULL, "a deletion has no after");
        return;
    }
    fz_check(json_is_object(ch->after), "after is a record");
    fz_check(strcmp(json_string_value(json_object_get(ch->after, "nummer")), ch->nummer) == 0,
             "after carries its nummer");
    json_int_t version = json_integer_value(json_object_get(ch->after, "version"));
    if (strcmp(ch->operation, "oprettet") == 0) {
        fz_check(old == NULL, "created number was free");
        fz_check(version == 1, "created at version 1");
    } else {
        fz_check(old && !old->deleted && old->level == ch->level, "changed record existed");
        fz_check(version == json_integer_value(json_object_get(old->rec, "version")) + 1,
                 "version bumped by one");
    }
    /* the fields validate again and come out the same */
    reg_decision d;
    memset(&d, 0, sizeof d);
    json_t *clean = reg_clean_fields(ch->level, ch->after, "", &d);
    fz_check(d.n_errors == 0 && d.status == 0, "stored fields validate again");
    const char *const *names = reg_field_names(ch->level);
    for (size_t i = 0; names[i]; i++) {
        json_t *a = json_object_get(ch->after, names[i]), *b = json_object_get(clean, names[i]);
        fz_check(a && b && json_equal(a, b), "stored field unchanged by validation");
    }
    json_decref(clean);
    reg_decision_clear(&d);
    const char *dato = reg_record_date(ch->after, "virkningFra");
    fz_check(dato && reg_date_valid(dato), "virkningFra is a date");
    const char *til = reg_record_date(ch->after, "virkningTil");
    fz_check(!til || reg_date_valid(til), "virkningTil is a date or null");
    const char *pf = reg_level_parent_field(ch->level);
    if (pf)
        fz_check(reg_nummer_valid(json_string_value(json_object_get(ch->after, pf))),
                 "parent field is a number");
}

/* Applies an accepted decision as the store would. */
static void fz_apply(fz_state *s, const reg_decision *d)
{
    for (size_t i = 0; i < d->n_changes; i++) {
        const reg_change *ch = &d->changes[i];
        fz_rec *r = fz_find(s, ch->nummer);
        if (strcmp(ch->operation, "oprettet") == 0) {
            if (s->n >= FZ_MAX) abort();
            s->recs[s->n++] = (fz_rec){ch->level, json_deep_copy(ch->after), false};
        } else if (strcmp(ch->operation, "slettet") == 0) {
            r->deleted = true;
        } else {
            json_decref(r->rec);
            r->rec = json_deep_copy(ch->after);
        }
    }
}

/* After applying: every live record's parent is a live record of the level
 * above. */
static void fz_check_tree(fz_state *s)
{
    for (size_t i = 0; i < s->n; i++) {
        fz_rec *r = &s->recs[i];
        const char *pf = reg_level_parent_field(r->level);
        if (r->deleted || !pf) continue;
        fz_rec *p = fz_find(s, json_string_value(json_object_get(r->rec, pf)));
        fz_check(p && !p->deleted && p->level == r->level - 1, "live record has a live parent");
    }
}

/* Read back: the record's writable fields as they are, sent again as a
 * merge patch by support, are accepted and change nothing. */
static void fz_read_back(fz_state *s, const char *nummer, const char *today)
{
    fz_rec *r = fz_find(s, nummer);
    if (!r || r->deleted) return;
    json_t *patch = json_object();
    const char *const *names = reg_field_names(r->level);
    for (size_t i = 0; names[i]; i++)
        json_object_set(patch, names[i], json_object_get(r->rec, names[i]));
    reg_command cmd = {.op = REG_OP_UPDATE,
                       .level = r->level,
                       .nummer = nummer,
                       .body = patch,
                       .if_match = -1,
                       .today = today,
                       .now = NOW};
    reg_decision d;
    reg_decide(&cmd, &s->st, &actors[0], &d);
    bool closed = reg_closed_on(r->rec, today);
    if (closed && d.status == 409 && strcmp(d.errors[0].kode, "NEDLAGT") == 0) {
        /* a closed record takes no patch at all: refused, as documented */
    } else if (d.status != 0 || d.n_changes != 0) {
        fprintf(stderr, "read back of %s: status %d, %zu changes, %s %s\n", nummer, d.status,
                d.n_changes, d.n_errors ? d.errors[0].kode : "",
                d.n_errors ? d.errors[0].tekst : "");
        fz_check(false, "unchanged record patched with itself is a no-op");
    }
    reg_decision_clear(&d);
    json_decref(patch);
}

/* Decides one command and checks the invariants; applies it when accepted. */
static void fz_run(fz_state *s, const uint8_t *h, const char *text, size_t len)
{
    reg_op op = (reg_op)(h[0] % 5);
    reg_level level = (reg_level)(h[1] % 3);
    const reg_actor *actor = &actors[h[2] % 6];
    size_t t = h[3] % (s->n + 2);
    const char *nummer = t < s->n ? json_string_value(json_object_get(s->recs[t].rec, "nummer"))
                                  : (t == s->n ? "G99999" : NULL);
    json_t *body = NULL;
    if (len) {
        body = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (!body) return;
    }
    char *body_before = body ? json_dumps(body, JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    char *state_before = fz_dump(s);
    char target[8] = "";
    if (nummer) snprintf(target, sizeof target, "%s", nummer);
    const char *today = days[h[5] % 4];
    reg_command cmd = {.op = op,
                       .level = level,
                       .nummer = nummer ? target : NULL,
                       .body = body,
                       .if_match = (h[4] & 2) ? (int64_t)(h[4] >> 2) : -1,
                       .today = today,
                       .now = NOW,
                       .keep_numbers = h[4] & 1};
    reg_decision d;
    reg_decide(&cmd, &s->st, actor, &d);

    char *state_after = fz_dump(s);
    fz_check(strcmp(state_before, state_after) == 0, "deciding changes no stored record");
    if (body) {
        char *body_after = json_dumps(body, JSON_SORT_KEYS | JSON_ENCODE_ANY);
        fz_check(strcmp(body_before, body_after) == 0, "deciding leaves the body alone");
        free(body_after);
    }
    if (d.status != 0) {
        static const int documented[] = {400, 403, 404, 409, 410, 412, 422, 503};
        bool known = false;
        for (size_t i = 0; i < sizeof documented / sizeof *documented; i++)
            known |= d.status == documented[i];
        fz_check(known, "refusal status is documented");
        fz_check(d.n_errors >= 1 && d.errors[0].kode[0], "refusal names a kode");
        fz_check(d.n_changes == 0, "a refusal changes nothing");
    } else {
        for (size_t i = 0; i < d.n_changes; i++)
            fz_check_change(s, &d.changes[i]);
        fz_apply(s, &d);
        fz_check_tree(s);
        for (size_t i = 0; i < d.n_changes; i++)
            fz_read_back(s, d.changes[i].nummer, today);
    }
    free(state_before);
    free(state_after);
    free(body_before);
    reg_decision_clear(&d);
    json_decref(body);
}

/* The starting state, made by the register itself: two daginstitutioner in
 * 101 and 147, with units and an alternative address, one closing, one
 * deleted. */
static void fz_world(fz_state *s)
{
    static const char *const creates[] = {
        "{\"navn\":\"Solsikken\",\"ejerformKode\":1,\"lovgrundlagKode\":1,\"admKommuneKode\":101,"
        "\"anvisningsenheder\":[{\"navn\":\"Solsikkens Børnehave\",\"instType3\":6011,"
        "\"adresse\":{\"vejNavn\":\"Rømersgade\",\"husNummer\":\"27\",\"postNummer\":\"1362\","
        "\"byNavn\":\"København K\",\"kommuneKode\":101,\"geoBredde\":55.68525,"
        "\"geoLaengde\":12.57013},\"alternativeAdresser\":[{\"navn\":\"Skovgruppen\","
        "\"adresse\":{\"vejNavn\":\"Skovvej\",\"husNummer\":\"2\",\"postNummer\":\"2800\","
        "\"byNavn\":\"Kongens Lyngby\",\"kommuneKode\":173}}]},{\"navn\":\"Vuggestuen\","
        "\"instType3\":6012,\"adresse\":{\"vejNavn\":\"Nørregade\",\"husNummer\":\"1\","
        "\"postNummer\":\"1165\",\"byNavn\":\"København K\",\"kommuneKode\":101}}]}",
        "{\"navn\":\"Mælkebøtten\",\"ejerformKode\":1,\"lovgrundlagKode\":1,"
        "\"admKommuneKode\":147,\"virkningTil\":\"2026-12-31\",\"anvisningsenheder\":[{\"navn\":"
        "\"Fritter\",\"instType3\":6011,\"virkningTil\":\"2026-12-31\",\"adresse\":{\"vejNavn\":"
        "\"Falkoner Allé\",\"husNummer\":"
        "\"1\",\"postNummer\":\"2000\",\"byNavn\":\"Frederiksberg\",\"kommuneKode\":147}}]}",
        "{\"navn\":\"Dagplejen\",\"ejerformKode\":1,\"lovgrundlagKode\":5,\"admKommuneKode\":101}",
        "{\"navn\":\"Væk\",\"ejerformKode\":1,\"lovgrundlagKode\":1,\"admKommuneKode\":101}",
    };
    memset(s, 0, sizeof *s);
    s->next = 1;
    s->st = (reg_state){s, fz_get, fz_children, fz_next_number, fz_is_burnt};
    for (size_t i = 0; i < sizeof creates / sizeof *creates; i++) {
        json_t *body = json_loads(creates[i], 0, NULL);
        reg_command cmd = {.op = REG_OP_CREATE,
                           .level = REG_DAGINSTITUTION,
                           .body = body,
                           .if_match = -1,
                           .today = "2019-08-30",
                           .now = NOW};
        reg_decision d;
        reg_decide(&cmd, &s->st, &actors[1], &d);
        if (d.status != 0) {
            fprintf(stderr, "fuzz_register: world create %zu refused: %s %s\n", i,
                    d.n_errors ? d.errors[0].kode : "", d.n_errors ? d.errors[0].tekst : "");
            abort();
        }
        fz_apply(s, &d);
        reg_decision_clear(&d);
        json_decref(body);
    }
    fz_find(s, "G00007")->deleted = true; /* "Væk" */
}

static fz_state world; /* made once; each input starts from a copy */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_world(&world);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_state s = world;
    s.st.ctx = &s;
    for (size_t i = 0; i < s.n; i++)
        s.recs[i].rec = json_deep_copy(world.recs[i].rec);
    size_t off = 0;
    for (int k = 0; k < 8 && off + 6 <= size; k++) {
        const uint8_t *end = memchr(data + off, 0xFF, size - off);
        size_t stop = end ? (size_t)(end - data) : size;
        if (stop - off >= 6) fz_run(&s, data + off, (const char *)data + off + 6, stop - off - 6);
        off = stop + 1;
    }
    for (size_t i = 0; i < s.n; i++)
        json_decref(s.recs[i].rec);
    return 0;
}
