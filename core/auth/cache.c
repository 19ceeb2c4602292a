/*
 * cache.c -- the server's cache of clients, for authenticating requests on
 * the loop thread without a database lookup per request.
 *
 * The cache holds every client of the table "client" in an array sorted by
 * id. Each check first asks its read-only connection whether anything was
 * committed since it last looked (PRAGMA data_version: a read of the WAL
 * index, no query); only when something was does it read the one-row
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth_int.h"

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
    sqlite3 *db; /* read-only, used on the loop thread only */
    sqlite3_stmt *st_data_version;
    sqlite3_stmt *st_generation;
    sqlite3_stmt *st_clients;
    uint8_t subkey[AUTH_KEY_BYTES];
    bool loaded;
    int64_t data_version; /* PRAGMA data_version when last looked */
    int64_t generation;   /* client_generation when last loaded */
    auth_entry **table;   /* the clients now, sorted by id */
    size_t n;
    auth_entry *all;
    uint64_t loads;
    char error[256];
};

__attribute__((format(printf, 2, 3))) static int cache_fail(auth_cache *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof c->error, fmt, ap);
    va_end(ap);
    return -1;
}

static char *dup_text(const unsigned char *s)
{
    char *copy = strdup(s ? (const char *)s : "");
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
static bool parse_kommuner_column(const unsigned char *text, int **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    json_t *arr = json_loads(text ? (const char *)text : "[]", 0, NULL);
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

/* The entry for the current row of st_clients (id, name, role, kommuner,
 * secret_hash, revoked): the old one when it describes the same client,
 * else a new one. NULL for a row no request can authenticate as (a bad
 * hash, an unknown role, a broken kommuner column): it is left out. */
static auth_entry *entry_for_row(auth_cache *c, sqlite3_stmt *st)
{
    const unsigned char *id = sqlite3_column_text(st, 0);
    const unsigned char *name = sqlite3_column_text(st, 1);
    const unsigned char *role = sqlite3_column_text(st, 2);
    const void *hash = sqlite3_column_blob(st, 4);
    int hash_len = sqlite3_column_bytes(st, 4);
    if (!id || !*id || strlen((const char *)id) > AUTH_ID_MAX || !name || !role || !hash ||
        hash_len != AUTH_HASH_BYTES || !auth_role_parse((const char *)role, NULL))
        return NULL;
    int *kommuner;
    size_t n;
    if (!parse_kommuner_column(sqlite3_column_text(st, 3), &kommuner, &n)) return NULL;

    auth_entry *e = find_entry(c->table, c->n, (const char *)id);
    if (e && same_client(e, (const char *)name, (const char *)role, kommuner, n)) {
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
    e->revoked = sqlite3_column_type(st, 5) != SQLITE_NULL;
    return e;
}

/* Reads every client into a new table and swaps it in. Entries of the old
 * table that are not in the new one are marked revoked (and kept). On a
 * read error the old table stays. */
static int reload(auth_cache *c)
{
    uint64_t stamp = c->loads + 1;
    size_t n = 0, cap = c->n + 16;
    auth_entry **table = malloc(cap * sizeof *table);
    if (!table) abort();
    sqlite3_stmt *st = c->st_clients;
    sqlite3_reset(st);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        auth_entry *e = entry_for_row(c, st);
        if (!e || e->seen == stamp) continue; /* left out, or a repeated id */
        e->seen = stamp;
        if (n == cap) {
            cap *= 2;
            table = realloc(table, cap * sizeof *table);
            if (!table) abort();
        }
        table[n++] = e;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(table);
        return cache_fail(c, "cannot read the clients: %s", sqlite3_errmsg(c->db));
    }
    qsort(table, n, sizeof *table, compare_entries);
    for (size_t i = 0; i < c->n; i++)
        if (c->table[i]->seen != stamp) c->table[i]->revoked = true;
    free(c->table);
    c->table = table;
    c->n = n;
    c->loads = stamp;
    return 0;
}

/* Reads one integer from a statement without parameters. */
static int step_int64(auth_cache *c, sqlite3_stmt *st, int64_t *out)
{
    sqlite3_reset(st);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) return cache_fail(c, "cannot read the clients: %s", sqlite3_errstr(rc));
    return 0;
}

/* Brings the table up to date with the database: see the top of the file.
 * The rows are read after the generation, so they are at least as new as
 * the generation recorded; a change in between only causes one more reload
 * later. */
static int refresh(auth_cache *c)
{
    int64_t data_version, generation;
    if (step_int64(c, c->st_data_version, &data_version) != 0) return -1;
    if (c->loaded && data_version == c->data_version) return 0;
    if (step_int64(c, c->st_generation, &generation) != 0) return -1;
    if (!c->loaded || generation != c->generation) {
        if (reload(c) != 0) return -1;
    }
    c->data_version = data_version;
    c->generation = generation;
    c->loaded = true;
    return 0;
}

auth_cache *auth_cache_open(const char *db_path, const uint8_t key[AUTH_KEY_BYTES], char *err,
                            size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium could not start");
        return NULL;
    }
    auth_cache *c = calloc(1, sizeof *c);
    if (!c) abort();
    auth_hash_subkey(key, c->subkey);
    int rc = sqlite3_open_v2(db_path, &c->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        /* a WAL reader waits only in rare moments (recovery); never long on the loop */
        sqlite3_busy_timeout(c->db, 1000);
        rc = sqlite3_prepare_v2(c->db, "PRAGMA data_version", -1, &c->st_data_version, NULL);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(c->db, "SELECT generation FROM client_generation WHERE id = 1", -1,
                                &c->st_generation, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(c->db,
                                "SELECT id, name, role, kommuner, secret_hash, revoked FROM client",
                                -1, &c->st_clients, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot read the clients: %s", db_path,
                 c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        auth_cache_close(c);
        return NULL;
    }
    if (refresh(c) != 0) {
        snprintf(err, errlen, "%s: %s", db_path, c->error);
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
    sqlite3_finalize(c->st_data_version);
    sqlite3_finalize(c->st_generation);
    sqlite3_finalize(c->st_clients);
    sqlite3_close(c->db);
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
