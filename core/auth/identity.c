/*
 * identity.c -- the registry of issued identities (identity.h).
 *
 * Every identity is in a small hash set keyed by its address, so checking a
 * pointer a plugin passes costs one lookup and reads nothing through the
 * pointer itself. Client identities are also found by their auth_client
 * entry, so each client has one identity however many requests it makes.
 */
#include "auth/identity.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define IDENT_BUCKETS 256

struct dtr_identity {
    struct dtr_identity *next_in_bucket;
    size_t refs;
    const auth_client *client; /* for a client's identity; NULL for a person */
    char *id;
    char *name;
    char *role;
    int *kommuner;
    size_t n_kommuner;
    bool person;
    bool permanent; /* a client's identity the registry keeps (ident_of_client) */
};

struct ident_registry {
    dtr_identity *buckets[IDENT_BUCKETS];
};

static size_t ident_bucket(const void *p)
{
    uintptr_t v = (uintptr_t)p;
    v ^= v >> 17;
    v *= 0x9E3779B97F4A7C15ULL;
    return (size_t)(v >> 40) % IDENT_BUCKETS;
}

static char *ident_strdup(const char *s)
{
    char *copy = strdup(s ? s : "");
    if (!copy) abort();
    return copy;
}

ident_registry *ident_registry_new(void)
{
    ident_registry *r = calloc(1, sizeof *r);
    if (!r) abort();
    return r;
}

static void ident_free(dtr_identity *id)
{
    free(id->id);
    free(id->name);
    free(id->role);
    free(id->kommuner);
    free(id);
}

void ident_registry_free(ident_registry *r)
{
    if (!r) return;
    for (size_t b = 0; b < IDENT_BUCKETS; b++) {
        while (r->buckets[b]) {
            dtr_identity *id = r->buckets[b];
            r->buckets[b] = id->next_in_bucket;
            ident_free(id);
        }
    }
    free(r);
}

static dtr_identity *ident_make(ident_registry *r, const char *id, const char *name,
                                const char *role, const int *kommuner, size_t n_kommuner,
                                bool person)
{
    dtr_identity *out = calloc(1, sizeof *out);
    if (!out) abort();
    out->refs = 1;
    out->id = ident_strdup(id);
    out->name = ident_strdup(name);
    out->role = ident_strdup(role);
    out->person = person;
    if (n_kommuner) {
        out->kommuner = malloc(n_kommuner * sizeof *out->kommuner);
        if (!out->kommuner) abort();
        memcpy(out->kommuner, kommuner, n_kommuner * sizeof *out->kommuner);
        out->n_kommuner = n_kommuner;
    }
    size_t b = ident_bucket(out);
    out->next_in_bucket = r->buckets[b];
    r->buckets[b] = out;
    return out;
}

const dtr_identity *ident_of_client(ident_registry *r, const auth_client *client)
{
    if (!client) return NULL;
    /* clients are few: one pass over the set finds an existing identity */
    for (size_t b = 0; b < IDENT_BUCKETS; b++)
        for (dtr_identity *id = r->buckets[b]; id; id = id->next_in_bucket)
            if (id->permanent && id->client == client) return id;
    dtr_identity *id = ident_make(r, client->id, client->name, client->role, client->kommuner,
                                  client->n_kommuner, false);
    id->client = client;
    id->permanent = true;
    return id;
}

const dtr_identity *ident_for_request(ident_registry *r, const auth_client *client)
{
    if (!client) return NULL;
    dtr_identity *id = ident_make(r, client->id, client->name, client->role, client->kommuner,
                                  client->n_kommuner, false);
    id->client = client;
    return id;
}

const dtr_identity *ident_new(ident_registry *r, const char *id, const char *name, const char *role,
                              const int *kommuner, size_t n_kommuner, bool person)
{
    return ident_make(r, id, name, role, kommuner, n_kommuner, person);
}

bool ident_valid(const ident_registry *r, const void *p)
{
    if (!r || !p) return false;
    for (const dtr_identity *id = r->buckets[ident_bucket(p)]; id; id = id->next_in_bucket)
        if ((const void *)id == p) return true;
    return false;
}

void ident_retain(ident_registry *r, const dtr_identity *id)
{
    if (ident_valid(r, id)) ((dtr_identity *)id)->refs++;
}

void ident_release(ident_registry *r, const dtr_identity *cid)
{
    if (!ident_valid(r, cid)) return;
    dtr_identity *id = (dtr_identity *)cid;
    if (id->permanent && id->refs == 1) return; /* the registry's own reference stays */
    if (--id->refs > 0) return;
    dtr_identity **p = &r->buckets[ident_bucket(id)];
    while (*p != id)
        p = &(*p)->next_in_bucket;
    *p = id->next_in_bucket;
    ident_free(id);
}

void ident_info(const dtr_identity *id, dtr_identity_info *out)
{
    *out = (dtr_identity_info){.id = id->id,
                               .name = id->name,
                               .role = id->role,
                               .kommuner = id->kommuner,
                               .n_kommuner = id->n_kommuner,
                               .person = id->person ? 1 : 0};
}

const auth_client *ident_client(const dtr_identity *id)
{
    return id->client;
}

int ident_actor(const dtr_identity *id, reg_actor *out)
{
    memset(out, 0, sizeof *out);
    out->id = id->id;
    out->kommuner = id->kommuner;
    out->n_kommuner = id->n_kommuner;
    return auth_role_parse(id->role, &out->role) ? 0 : -1;
}
