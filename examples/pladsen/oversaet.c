/*
 * oversaet.c -- Pladsen's field names and the register's, both ways.
 *
 * One table per level says which Pladsen key is which register field; a key
 * whose value is itself an object (adresse) or a list of objects (stuer,
 * ekstraAdresser) names the table of what it holds. The same tables turn a
 * Pladsen document into a register command's body, a register record back
 * into Pladsen's shape, and the register's fejl paths ("felt") into
 * Pladsen's, so the vendor's system can show each error next to its own
 * field.
 *
 * The adapter decides nothing about the register's rules: it renames, and
 * the register checks (types, codes, lengths, cross-validation,
 * authorization). Only a key Pladsen does not have is refused here, since
 * passing it on would let a vendor's key reach a register field by accident.
 */
#include <stdio.h>
#include <string.h>

#include "pladsen.h"

typedef struct felt_map felt_map;
struct felt_map {
    const char *pladsen;   /* Pladsen's key */
    const char *register_; /* the register's field */
    const felt_map *sub;   /* the table of the object (or list items) it holds; NULL: a value */
    int liste;             /* 1: a list of objects of sub */
};

static const felt_map adresse_felter[] = {
    {"vej", "vejNavn", NULL, 0},
    {"husnr", "husNummer", NULL, 0},
    {"etage", "etage", NULL, 0},
    {"doer", "doer", NULL, 0},
    {"postnr", "postNummer", NULL, 0},
    {"by", "byNavn", NULL, 0},
    {"supplerendeBy", "supplerendeBynavn", NULL, 0},
    {"kommune", "kommuneKode", NULL, 0},
    {"dawaId", "dawaId", NULL, 0},
    {"bredde", "geoBredde", NULL, 0},
    {"laengde", "geoLaengde", NULL, 0},
    {NULL, NULL, NULL, 0},
};

/* What every level shares: the number, the register's own fields, the period. */
#define FAELLES_FELTER                                                                             \
    {"nummer", "nummer", NULL, 0}, {"status", "status", NULL, 0}, {"version", "version", NULL, 0}, \
        {"startdato", "virkningFra", NULL, 0}, {"slutdato", "virkningTil", NULL, 0},               \
    {                                                                                              \
        "opdateret", "opdateret", NULL, 0                                                          \
    }

static const felt_map ekstra_felter[] = {
    FAELLES_FELTER,
    {"navn", "navn", NULL, 0},
    {"adresse", "adresse", adresse_felter, 0},
    {"cvr", "cvrNummer", NULL, 0},
    {"pnr", "pNummer", NULL, 0},
    {"stue", "anvisningsenhedsNummer", NULL, 0},
    {NULL, NULL, NULL, 0},
};

static const felt_map stue_felter[] = {
    FAELLES_FELTER,
    {"navn", "navn", NULL, 0},
    {"type", "instType3", NULL, 0},
    {"adresse", "adresse", adresse_felter, 0},
    {"email", "email", NULL, 0},
    {"telefon", "telefonNummer", NULL, 0},
    {"cvr", "cvrNummer", NULL, 0},
    {"pnr", "pNummer", NULL, 0},
    {"institution", "daginstitutionsNummer", NULL, 0},
    {"ekstraAdresser", "alternativeAdresser", ekstra_felter, 1},
    {NULL, NULL, NULL, 0},
};

static const felt_map institution_felter[] = {
    FAELLES_FELTER,
    {"navn", "navn", NULL, 0},
    {"ejerform", "ejerformKode", NULL, 0},
    {"lovgrundlag", "lovgrundlagKode", NULL, 0},
    {"kommune", "admKommuneKode", NULL, 0},
    {NULL, NULL, NULL, 0},
};

/* The top of Pladsen's document: the institution's stuer beside it. */
static const felt_map dokument_stuer[] = {
    {"stuer", "anvisningsenheder", stue_felter, 1},
    {NULL, NULL, NULL, 0},
};

static const felt_map *tabel(const char *niveau)
{
    return strcmp(niveau, "stue") == 0 ? stue_felter : institution_felter;
}

static const felt_map *find_pladsen(const felt_map *t, const char *key)
{
    for (; t->pladsen; t++)
        if (strcmp(t->pladsen, key) == 0) return t;
    return NULL;
}

static const felt_map *find_register(const felt_map *t, const char *key, size_t n)
{
    for (; t->pladsen; t++)
        if (strlen(t->register_) == n && strncmp(t->register_, key, n) == 0) return t;
    return NULL;
}

json_t *pladsen_fejl(const char *kode, const char *felt, const char *tekst)
{
    return json_pack("{s:s, s:s?, s:s}", "kode", kode, "felt", felt, "tekst", tekst);
}

static json_t *til(const felt_map *t, const json_t *v, const char *path, json_t *fejl);

/* A list of objects of table t, each translated; anything else is passed on
 * as it is (the register names its type as wrong, and the path maps back). */
static json_t *til_liste(const felt_map *t, const json_t *v, const char *path, json_t *fejl)
{
    if (!json_is_array(v)) return json_deep_copy(v);
    json_t *out = json_array();
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item)
    {
        char sub[256];
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        json_array_append_new(out, til(t, item, sub, fejl));
    }
    return out;
}

/* An object of table t in the register's names. */
static json_t *til(const felt_map *t, const json_t *v, const char *path, json_t *fejl)
{
    if (!json_is_object(v)) return json_deep_copy(v);
    json_t *out = json_object();
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)v, key, val)
    {
        char sub[256];
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
        const felt_map *m = find_pladsen(t, key);
        if (!m) {
            json_array_append_new(fejl,
                                  pladsen_fejl("UKENDT_FELT", sub, "Pladsen kender ikke feltet"));
            continue;
        }
        json_t *x;
        if (m->liste)
            x = til_liste(m->sub, val, sub, fejl);
        else if (m->sub)
            x = til(m->sub, val, sub, fejl);
        else
            x = json_deep_copy(val);
        json_object_set_new(out, m->register_, x);
    }
    return out;
}

json_t *pladsen_objekt_til_register(const char *niveau, const json_t *obj, const char *prefix,
                                    json_t *fejl)
{
    return til(tabel(niveau), obj, prefix, fejl);
}

json_t *pladsen_til_register(const json_t *dok, json_t *fejl)
{
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)dok, key, val)
    {
        if (strcmp(key, "institution") != 0 && strcmp(key, "stuer") != 0)
            json_array_append_new(fejl,
                                  pladsen_fejl("UKENDT_FELT", key, "Pladsen kender ikke feltet"));
    }
    const json_t *inst = json_object_get(dok, "institution");
    if (!inst) {
        json_array_append_new(fejl,
                              pladsen_fejl("MANGLER_FELT", "institution", "institutionen mangler"));
        return json_object();
    }
    if (!json_is_object(inst)) {
        json_array_append_new(
            fejl, pladsen_fejl("FORKERT_TYPE", "institution", "institution skal være et objekt"));
        return json_object();
    }
    json_t *out = til(institution_felter, inst, "institution", fejl);
    const json_t *stuer = json_object_get(dok, "stuer");
    if (stuer)
        json_object_set_new(out, "anvisningsenheder", til_liste(stue_felter, stuer, "stuer", fejl));
    return out;
}

static json_t *fra(const felt_map *t, const json_t *rec);

/* A record of table t in Pladsen's names; fields Pladsen has no key for
 * are left out. */
static json_t *fra(const felt_map *t, const json_t *rec)
{
    json_t *out = json_object();
    for (; t->pladsen; t++) {
        const json_t *v = json_object_get(rec, t->register_);
        if (!v) continue;
        if (t->sub && !t->liste && json_is_object(v)) {
            json_object_set_new(out, t->pladsen, fra(t->sub, v));
        } else if (t->liste && json_is_array(v)) {
            json_t *list = json_array();
            size_t i;
            const json_t *item;
            json_array_foreach(v, i, item) json_array_append_new(list, fra(t->sub, item));
            json_object_set_new(out, t->pladsen, list);
        } else {
            json_object_set_new(out, t->pladsen, json_deep_copy(v));
        }
    }
    return out;
}

json_t *pladsen_objekt_fra_register(const char *niveau, const json_t *rec)
{
    return fra(tabel(niveau), rec);
}

json_t *pladsen_fra_register(const json_t *rec)
{
    json_t *stuer = json_array();
    const json_t *enheder = json_object_get(rec, "anvisningsenheder");
    size_t i;
    const json_t *item;
    json_array_foreach(enheder, i, item) json_array_append_new(stuer, fra(stue_felter, item));
    return json_pack("{s:o, s:o}", "institution", fra(institution_felter, rec), "stuer", stuer);
}

/* Appends s to out (size outlen, NUL-terminated), cutting it short if full. */
static void tilfoej(char *out, size_t outlen, const char *s, size_t n)
{
    size_t have = strlen(out);
    if (have + 1 >= outlen) return;
    if (n > outlen - have - 1) n = outlen - have - 1;
    memcpy(out + have, s, n);
    out[have + n] = '\0';
}

/* Translates felt segment by segment through table t: "name" or
 * "name[index]", separated by dots. A segment the table does not know is
 * kept as it is, with the rest of the path. */
static void sti(const felt_map *t, const char *felt, char *out, size_t outlen)
{
    while (*felt) {
        size_t n = strcspn(felt, ".[");
        const felt_map *m = t ? find_register(t, felt, n) : NULL;
        if (!m) {
            tilfoej(out, outlen, felt, strlen(felt));
            return;
        }
        tilfoej(out, outlen, m->pladsen, strlen(m->pladsen));
        felt += n;
        if (*felt == '[') {
            size_t k = strcspn(felt, "]");
            tilfoej(out, outlen, felt, k + (felt[k] == ']'));
            felt += k + (felt[k] == ']');
        }
        t = m->sub;
        if (*felt == '.') {
            tilfoej(out, outlen, ".", 1);
            felt++;
        }
    }
}

void pladsen_felt(const char *niveau, const char *felt, const char *prefix, char *out,
                  size_t outlen)
{
    out[0] = '\0';
    tilfoej(out, outlen, prefix, strlen(prefix));
    if (!felt || !*felt) return;
    const felt_map *t = tabel(niveau);
    /* a daginstitution's children sit beside "institution" in Pladsen's
     * document, not inside it */
    if (t == institution_felter && strncmp(felt, "anvisningsenheder", 17) == 0 &&
        strcmp(prefix, "institution") == 0) {
        out[0] = '\0';
        t = dokument_stuer;
    } else if (*out) {
        tilfoej(out, outlen, ".", 1);
    }
    sti(t, felt, out, outlen);
}
