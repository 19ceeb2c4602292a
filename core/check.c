/*
 * check.c -- the consistency report of `dtr check` (see check.h). Pages
 * through one read snapshot of the store, a thousand records at a time,
 * writing each finding as it is found.
 */
#include "check.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "audit/audit.h"
#include "dtr/plugin.h"
#include "register/register.h"
#include "store/store.h"

typedef struct check_writer {
    FILE *out;
    size_t found; /* findings in the current array */
    size_t total;
} check_writer;

/* One finding as an element of the array being written. */
static void check_emit(check_writer *w, json_t *finding)
{
    char *text = json_dumps(finding, DTR_JSON_WIRE);
    fprintf(w->out, "%s\n    %s", w->found ? "," : "", text ? text : "null");
    free(text);
    json_decref(finding);
    w->found++;
    w->total++;
}

static bool check_any_child_in_effect(const json_t *dag)
{
    size_t i;
    json_t *child;
    json_array_foreach(json_object_get(dag, "anvisningsenheder"), i, child)
    {
        const char *status = json_string_value(json_object_get(child, "status"));
        if (status && strcmp(status, "aktiv") == 0) return true;
    }
    return false;
}

/* Pages through one level's records in effect today; for each calls fn,
 * which may emit findings. 0, or the store's status. */
static int check_level(store_reader *r, reg_level level, unsigned flags,
                       void (*fn)(check_writer *w, reg_level level, const json_t *rec),
                       check_writer *w)
{
    char after[7] = "";
    for (;;) {
        store_query q = {.level = level,
                         .status = "aktiv",
                         .after = after[0] ? after : NULL,
                         .limit = 1000,
                         .flags = flags};
        json_t *items = NULL;
        char next[7] = "";
        int st = store_list(r, &q, &items, next);
        if (st != 0) {
            json_decref(items);
            return st;
        }
        size_t i;
        json_t *rec;
        json_array_foreach(items, i, rec) fn(w, level, rec);
        json_decref(items);
        if (!next[0]) return 0;
        memcpy(after, next, sizeof after);
    }
}

static void check_daginstitution(check_writer *w, reg_level level, const json_t *dag)
{
    (void)level;
    if (check_any_child_in_effect(dag)) return;
    check_emit(w, json_pack("{s:O, s:O, s:O}", "nummer", json_object_get(dag, "nummer"), "navn",
                            json_object_get(dag, "navn"), "admKommuneKode",
                            json_object_get(dag, "admKommuneKode")));
}

static void check_p_nummer(check_writer *w, reg_level level, const json_t *rec)
{
    if (json_is_string(json_object_get(rec, "pNummer"))) return;
    json_t *adresse = json_object_get(rec, "adresse");
    check_emit(w, json_pack("{s:O, s:s, s:O, s:O}", "nummer", json_object_get(rec, "nummer"),
                            "niveau", reg_level_name(level), "navn", json_object_get(rec, "navn"),
                            "kommuneKode", json_object_get(adresse, "kommuneKode")));
}

static void check_log(void *udata, int level, const char *msg)
{
    (void)udata;
    if (level >= 2) fprintf(stderr, "dtr check: store: %s\n", msg);
}

int check_register(const char *data_dir, FILE *out, char *err, size_t errlen)
{
    uint8_t key[AUDIT_KEY_BYTES];
    if (audit_load_or_create_key(data_dir, key, err, errlen) != 0) return -1;
    store_options so = {.data_dir = data_dir, .audit_key = key, .log = check_log};
    store *s = NULL;
    int rc = store_open(&so, &s, err, errlen);
    sodium_memzero(key, sizeof key);
    if (rc != 0) return -1;
    store_reader *r = store_reader_open(s, err, errlen);
    int64_t seq = 0;
    if (!r || store_snapshot_begin(r, &seq) != 0) {
        if (r) snprintf(err, errlen, "the register could not be read");
        store_reader_close(r);
        store_close(s);
        return -1;
    }
    check_writer w = {.out = out};
    fprintf(out, "{\n  \"sekvensnummer\": %lld,\n  \"daginstitutionerUdenAktivAnvisningsenhed\": [",
            (long long)seq);
    int st = check_level(r, REG_DAGINSTITUTION, STORE_NESTED, check_daginstitution, &w);
    fprintf(out, "%s],\n  \"enhederUdenPNummer\": [", w.found ? "\n  " : "");
    w.found = 0;
    if (st == 0) st = check_level(r, REG_ANVISNINGSENHED, 0, check_p_nummer, &w);
    if (st == 0) st = check_level(r, REG_ALTERNATIV_ADRESSE, 0, check_p_nummer, &w);
    fprintf(out, "%s],\n  \"fund\": %zu\n}\n", w.found ? "\n  " : "", w.total);
    store_snapshot_end(r);
    store_reader_close(r);
    store_close(s);
    if (st != 0) {
        snprintf(err, errlen, "the register could not be read (status %d)", st);
        return -1;
    }
    return w.total ? 1 : 0;
}
