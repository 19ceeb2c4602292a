/*
 * cache.c -- the server's cache of clients, for authenticating requests on
 * the loop thread without a database lookup per request.
 *
 * The cache holds every client of the table "client" in an array sorted by
 * id. Each check first asks its read-only store connection whether anything
 * was committed since it last looked (store_db_version: for SQLite a read of
 * the WAL index, no query); only when something was does it read the one-row
 * client_generation counter, which triggers bump on every change of the
 * client table, and only when that moved does it reload the clients. So the
 * register's own writes cost one small read, and a `dtr client` change in
 * another process is seen by the next request.
 *
 * Clients handed out are never freed before auth_cache_close: a reload keeps
 * the entry of a client whose name, role and kommuner are unchanged (and
 * updates its secret hash and revocation in place), makes a new entry when
 * they changed (the old one is marked revoked and kept), so a auth_client a
 * request holds stays valid and its scope never changes under it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth_int.h"
#include "store/store_db.h"

typedef struct auth_entry {
    auth_client pub; /* what is handed out; points into the fields below */
    char *id;
    char *name;
    char *role;
    int *kommuner;
    size_t n_kommuner;
    uint8_t hash[AUTH_HASH_BYTES];
    bool revoked;
    uint64_t seen;           /* the load that last found it in the table */
    struct auth_entry *next; /* every entry this cache made, for auth_cache_close */
} auth_entry;

struct auth_cache {
    store_db *db; /* read-only, used on the loop thread only */
    uint8_t subkey[AUTH_KEY_BYTES];
    bool loaded;
    int64_t data_version; /* store_db_version when last looked */
    int64_t generation;   /* client_generation when last loaded */
    auth_entry **table;   /* the clients now, sorted by id */
    size_t n;
    auth_entry *all;
    uint64_t loads;
    char error[256];
};

static char *dup_text(const char *s)
{
    char *copy = strdup(s ? s : "");
    if (!copy) abort();
    return copy;
}

static int compare_entries(const void *a, const void *b)
{
    return strcmp((*(auth_entry *const *)a)->id, (*(auth_entry *const *)b)->id);
}

static auth_entry *find_entry(auth_entry **table, size_t n, const char *id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(id, table[mid]->id);
        if (cmp == 0) return table[mid];
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* Parses the kommuner column (a JSON array of integers) into a malloc'd
 * array. false when it is not one. */
static bool parse_kommuner_column(const char *text, int **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    json_t *arr = json_loads(text ? text : "[]", 0, NULL);
    bool ok = json_is_array(arr);
    size_t count = ok ? json_array_size(arr) : 0;
    int *codes = count ? calloc(count, sizeof *codes) : NULL;
    if (count && !codes) abort();
    for (size_t i = 0; ok && i < count; i++) {
        json_t *v = json_array_get(arr, i);
        ok = json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < 10000;
        if (ok) codes[i] = (int)json_integer_value(v);
    }
    json_decref(arr);
    if (!ok) {
        free(codes);
        return false;
    }
    *out = codes;
    *n = count;
    return true;
}

/* Whether an entry describes the same client as a row: same name, role and
 * kommuner (the secret hash and revocation may differ). */
static bool same_client(const auth_entry *e, const char *name, const char *role,
                        const int *kommuner, size_t n)
{
    return strcmp(e->name, name) == 0 && strcmp(e->role, role) == 0 && e->n_kommuner == n &&
           (n == 0 || memcmp(e->kommuner, kommuner, n * sizeof *kommuner) == 0);
}

/* The entry for a row of the client table: the old one when it describes the same client,
 * else a new one. NULL for a row no request can authenticate as (a bad
 * hash, an unknown role, a broken kommuner column): it is left out. */
static auth_entry *entry_for_row(auth_cache *c, const store_client_row *row)
{
    const char *id = row->id, *name = row->name, *role = row->role;
    const void *hash = row->secret_hash;
    if (!id || !*id || strlen(id) > AUTH_ID_MAX || !name || !role || !hash ||
        row->secret_hash_len != AUTH_HASH_BYTES || !auth_role_parse(role, NULL))
        return NULL;
    int *kommuner;
    size_t n;
    if (!parse_kommuner_column(row->kommuner, &kommuner, &n)) return NULL;

    auth_entry *e = find_entry(c->table, c->n, id);
    if (e && same_client(e, name, role, kommuner, n)) {
        free(kommuner);
    } else {
        e = calloc(1, sizeof *e);
        if (!e) abort();
        e->id = dup_text(id);
        e->name = dup_text(name);
        e->role = dup_text(role);
        e->kommuner = kommuner;
        e->n_kommuner = n;
        e->pub = (auth_client){.id = e->id,
                               .name = e->name,
                               .role = e->role,
                               .kommuner = e->kommuner,
                               .n_kommuner = e->n_kommuner};
        e->next = c->all;
        c->all = e;
    }
    memcpy(e->hash, hash, AUTH_HASH_BYTES);
    e->revoked = row->revoked != NULL;
    return e;
}

/* A reload in progress: the new table being filled. */
typedef struct reload_ctx {
    auth_cache *c;
    uint64_t stamp;
    auth_entry **table;
    size_t n, cap;
} reload_ctx;

static void reload_row(void *udata, const store_client_row *row)
{
    reload_ctx *r = udata;
    auth_entry *e = entry_for_row(r->c, row);
    if (!e || e->seen == r->stamp) return; /* left out, or a repeated id */
    e->seen = r->stamp;
    if (r->n == r->cap) {
        r->cap *= 2;
        r->table = realloc(r->table, r->cap * sizeof *r->table);
        if (!r->table) abort();
    }
    r->table[r->n++] = e;
}

/* Reads every client into a new table and swaps it in. Entries of the old
 * table that are not in the new one are marked revoked (and kept). On a
 * read error the old table stays. */
static int reload(auth_cache *c)
{
    uint64_t stamp = c->loads + 1;
    reload_ctx r = {.c = c, .stamp = stamp, .cap = c->n + 16};
    r.table = malloc(r.cap * sizeof *r.table);
    if (!r.table) abort();
    if (store_client_each(c->db, reload_row, &r, c->error, sizeof c->error) != 0) {
        free(r.table);
        return -1;
    }
    auth_entry **table = r.table;
    size_t n = r.n;
    qsort(table, n, sizeof *table, compare_entries);
    for (size_t i = 0; i < c->n; i++)
        if (c->table[i]->seen != stamp) c->table[i]->revoked = true;
    free(c->table);
    c->table = table;
    c->n = n;
    c->loads = stamp;
    return 0;
}

/* Brings the table up to date with the database: see the top of the file.
 * The rows are read after the generation, so they are at least as new as
 * the generation recorded; a change in between only causes one more reload
 * later. */
static int refresh(auth_cache *c)
{
    int64_t data_version, generation;
    if (store_db_version(c->db, &data_version, c->error, sizeof c->error) != 0) return -1;
    if (c->loaded && data_version == c->data_version) return 0;
    if (store_client_generation(c->db, &generation, c->error, sizeof c->error) != 0) return -1;
    if (!c->loaded || generation != c->generation) {
        if (reload(c) != 0) return -1;
    }
    c->data_version = data_version;
    c->generation = generation;
    c->loaded = true;
    return 0;
}

auth_cache *auth_cache_open(const char *data_dir, const uint8_t key[AUTH_KEY_BYTES], char *err,
                            size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium could not start");
        return NULL;
    }
    auth_cache *c = calloc(1, sizeof *c);
    if (!c) abort();
    auth_hash_subkey(key, c->subkey);
    /* a reader waits only in rare moments (recovery); never long on the loop */
    c->db = store_db_open(data_dir, false, 1000, err, errlen);
    if (!c->db) {
        auth_cache_close(c);
        return NULL;
    }
    if (refresh(c) != 0) {
        snprintf(err, errlen, "%s: %s", data_dir, c->error);
        auth_cache_close(c);
        return NULL;
    }
    return c;
}

dtr_status auth_cache_check(auth_cache *c, const char *authorization, const auth_client **out)
{
    static const uint8_t no_hash[AUTH_HASH_BYTES];
    *out = NULL;
    c->error[0] = '\0';
    if (!authorization) return DTR_OK;
    char id[AUTH_ID_MAX + 1], secret[AUTH_SECRET_MAX + 1];
    if (!auth_parse_basic(authorization, id, secret)) return DTR_DECLINED;
    if (refresh(c) != 0) {
        sodium_memzero(secret, sizeof secret);
        return DTR_ERROR;
    }
    auth_entry *e = find_entry(c->table, c->n, id);
    uint8_t hash[AUTH_HASH_BYTES];
    auth_secret_hash_subkey(c->subkey, id, secret, hash);
    sodium_memzero(secret, sizeof secret);
    /* an unknown id costs the same hash and comparison as a known one */
    bool match = sodium_memcmp(hash, e ? e->hash : no_hash, AUTH_HASH_BYTES) == 0;
    if (!e || !match || e->revoked) return DTR_DECLINED;
    *out = &e->pub;
    return DTR_OK;
}

dtr_status auth_cache_find(auth_cache *c, const char *id, const auth_client **out)
{
    *out = NULL;
    c->error[0] = '\0';
    if (!id) return DTR_DECLINED;
    if (refresh(c) != 0) return DTR_ERROR;
    auth_entry *e = find_entry(c->table, c->n, id);
    if (!e || e->revoked) return DTR_DECLINED;
    *out = &e->pub;
    return DTR_OK;
}

bool auth_cache_current(auth_cache *c, const auth_client *client)
{
    const auth_client *now = NULL;
    return client && auth_cache_find(c, client->id, &now) == DTR_OK && now == client;
}

size_t auth_cache_size(const auth_cache *c)
{
    return c->n;
}

uint64_t auth_cache_loads(const auth_cache *c)
{
    return c->loads;
}

const char *auth_cache_error(const auth_cache *c)
{
    return c->error;
}

void auth_cache_close(auth_cache *c)
{
    if (!c) return;
    store_db_close(c->db);
    while (c->all) {
        auth_entry *e = c->all;
        c->all = e->next;
        free(e->id);
        free(e->name);
        free(e->role);
        free(e->kommuner);
        free(e);
    }
    free(c->table);
    sodium_memzero(c->subkey, sizeof c->subkey);
    free(c);
}
