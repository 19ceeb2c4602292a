/*
 * cache.c -- the answers of GET /v1/<collection>/{nummer} kept as JSON
 * bytes, so that a read of an unchanged record costs a lookup instead of a
 * store read and a JSON dump (DESIGN.md: "Serialized JSON of an entity
 * version may be cached and reused").
 *
 * Correctness rests on the change feed. Every committed change has a
 * sekvensnummer, and the cache remembers the one it is up to date with.
 * Before each lookup rest_cache_sync asks the store for the newest
 * sekvensnummer (one prepared statement); when it moved, the hændelser in
 * between are read and every cached answer that shows a changed record is
 * dropped. An answer shows more than its own record: a daginstitution's
 * nests its anvisningsenheder and their alternative adresser. So each entry
 * lists the numbers its document contains, and a reverse index ("holders")
 * says which entries contain a number; a change of X drops every holder of
 * X and every holder of X's parent (a created or moved-in child changes the
 * parent's document although the parent's document never contained it).
 * A record's status also depends on the day, so the whole cache is dropped
 * when the hour changes, and whenever the feed is too far ahead to replay
 * (or the store cannot be read: then the cache is not used at all).
 *
 * Memory is bounded by max_bytes: when an entry would pass it, the cache is
 * emptied first (simple, and rare for a register that fits).
 *
 * The newest sekvensnummer costs a read transaction (file locks and all), a
 * large share of a cached GET. So when the plugin can tell loop iterations
 * apart (plugin.c runs a uv_check handle that calls rest_cache_stale after
 * every poll phase), one sync serves every GET handled in the same
 * iteration: they all arrived before that iteration's poll returned, so the
 * state as of the first of them is a state each of them may be answered
 * with. Whatever tells a client that the register moved on in between --
 * the answer to a write of this plugin, hændelser it read, a record it read
 * past the cache -- marks the cache stale at once, so no client is answered
 * with an older state than one it has already seen through this plugin.
 *
 * Loop thread only: the cache belongs to one plugin instance.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rest.h"

/* The most hændelser one sync replays; beyond that it drops everything. */
#define REST_CACHE_REPLAY_MAX 2000

typedef struct cache_entry {
    struct cache_entry *next; /* the bucket's chain */
    uint64_t key;
    dtr_level level;
    int64_t version;
    char *bytes;
    size_t len;
    uint64_t *contains; /* the numbers of the document (its own first) */
    size_t ncontains;
} cache_entry;

/* holders: number -> the keys of the entries whose document contains it */
typedef struct cache_holders {
    struct cache_holders *next;
    uint64_t key;
    uint64_t *keys;
    size_t n, cap;
} cache_holders;

struct rest_cache {
    size_t max_bytes, bytes;
    cache_entry **entries;
    cache_holders **holders;
    size_t nbuckets, nentries;
    int64_t seq; /* up to date with this sekvensnummer; -1: not yet synced */
    long hour;   /* the hour of the last sync */
    bool memo;   /* a sync holds until rest_cache_stale (loop iterations are told) */
    bool fresh;  /* synced since the last rest_cache_stale */
    rest_cache_stats stats;
};

/* A number packed into 48 bits: its six bytes. */
static uint64_t cache_key(const char *nummer)
{
    uint64_t k = 0;
    for (int i = 0; i < 6 && nummer[i]; i++)
        k = k << 8 | (unsigned char)nummer[i];
    return k;
}

static size_t cache_bucket(const rest_cache *c, uint64_t key)
{
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32) & (c->nbuckets - 1);
}

rest_cache *rest_cache_new(size_t max_bytes)
{
    rest_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->max_bytes = max_bytes;
    c->nbuckets = 4096;
    c->entries = calloc(c->nbuckets, sizeof *c->entries);
    c->holders = calloc(c->nbuckets, sizeof *c->holders);
    if (!c->entries || !c->holders) {
        free(c->entries);
        free(c->holders);
        free(c);
        return NULL;
    }
    c->seq = -1;
    return c;
}

static void cache_entry_free(cache_entry *e)
{
    free(e->bytes);
    free(e->contains);
    free(e);
}

/* Empties the cache (the tables keep their size). */
static void cache_clear(rest_cache *c)
{
    for (size_t b = 0; b < c->nbuckets; b++) {
        for (cache_entry *e = c->entries[b], *next; e; e = next) {
            next = e->next;
            cache_entry_free(e);
        }
        for (cache_holders *h = c->holders[b], *next; h; h = next) {
            next = h->next;
            free(h->keys);
            free(h);
        }
        c->entries[b] = NULL;
        c->holders[b] = NULL;
    }
    c->nentries = 0;
    c->bytes = 0;
    c->stats.clears++;
}

void rest_cache_free(rest_cache *c)
{
    if (!c) return;
    cache_clear(c);
    free(c->entries);
    free(c->holders);
    free(c);
}

/* Doubles the bucket arrays when the entries outnumber them. */
static void cache_grow(rest_cache *c)
{
    size_t n = c->nbuckets * 2;
    cache_entry **entries = calloc(n, sizeof *entries);
    cache_holders **holders = calloc(n, sizeof *holders);
    if (!entries || !holders) { /* stay as we are: only slower */
        free(entries);
        free(holders);
        return;
    }
    size_t old = c->nbuckets;
    cache_entry **old_entries = c->entries;
    cache_holders **old_holders = c->holders;
    c->nbuckets = n;
    c->entries = entries;
    c->holders = holders;
    for (size_t b = 0; b < old; b++) {
        for (cache_entry *e = old_entries[b], *next; e; e = next) {
            next = e->next;
            size_t at = cache_bucket(c, e->key);
            e->next = c->entries[at];
            c->entries[at] = e;
        }
        for (cache_holders *h = old_holders[b], *next; h; h = next) {
            next = h->next;
            size_t at = cache_bucket(c, h->key);
            h->next = c->holders[at];
            c->holders[at] = h;
        }
    }
    free(old_entries);
    free(old_holders);
}

static cache_holders *cache_holders_of(rest_cache *c, uint64_t key, bool create)
{
    size_t at = cache_bucket(c, key);
    for (cache_holders *h = c->holders[at]; h; h = h->next)
        if (h->key == key) return h;
    if (!create) return NULL;
    cache_holders *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->key = key;
    h->next = c->holders[at];
    c->holders[at] = h;
    return h;
}

/* Removes holder from the holders of key (and the list when it empties). */
static void cache_unhold(rest_cache *c, uint64_t key, uint64_t holder)
{
    size_t at = cache_bucket(c, key);
    for (cache_holders **p = &c->holders[at]; *p; p = &(*p)->next) {
        cache_holders *h = *p;
        if (h->key != key) continue;
        for (size_t i = 0; i < h->n; i++) {
            if (h->keys[i] == holder) {
                h->keys[i] = h->keys[--h->n];
                break;
            }
        }
        if (h->n == 0) {
            *p = h->next;
            free(h->keys);
            free(h);
        }
        return;
    }
}

/* Removes the entry of key, if any, from both tables. */
static void cache_remove(rest_cache *c, uint64_t key)
{
    size_t at = cache_bucket(c, key);
    for (cache_entry **p = &c->entries[at]; *p; p = &(*p)->next) {
        cache_entry *e = *p;
        if (e->key != key) continue;
        *p = e->next;
        for (size_t i = 0; i < e->ncontains; i++)
            cache_unhold(c, e->contains[i], key);
        c->bytes -= e->len;
        c->nentries--;
        c->stats.dropped++;
        cache_entry_free(e);
        return;
    }
}

/* Drops every entry whose document contains the number. */
static void cache_invalidate(rest_cache *c, const char *nummer)
{
    if (!nummer || !rest_nummer_ok(nummer)) return;
    uint64_t key = cache_key(nummer);
    cache_holders *h;
    /* cache_remove edits this list: take its last holder until none is left */
    while ((h = cache_holders_of(c, key, false)) && h->n)
        cache_remove(c, h->keys[h->n - 1]);
    cache_remove(c, key);
}

static bool rest_cache_sync_now(rest_cache *c, const dtr_host_api *api, dtr_reader *r);

/* Applies one hændelse: the record and its parent changed. */
static void cache_apply_event(rest_cache *c, const json_t *event)
{
    cache_invalidate(c, json_string_value(json_object_get(event, "nummer")));
    const json_t *data = json_object_get(event, "data");
    cache_invalidate(c, json_string_value(json_object_get(data, "daginstitutionsNummer")));
    cache_invalidate(c, json_string_value(json_object_get(data, "anvisningsenhedsNummer")));
}

void rest_cache_memo(rest_cache *c, bool on)
{
    c->memo = on;
    c->fresh = false;
}

void rest_cache_stale(rest_cache *c)
{
    if (c) c->fresh = false;
}

bool rest_cache_sync(rest_cache *c, const dtr_host_api *api, dtr_reader *r)
{
    if (c->fresh) {
        c->stats.memo_hits++;
        return true;
    }
    bool ok = rest_cache_sync_now(c, api, r);
    c->fresh = ok && c->memo;
    return ok;
}

/* The sync itself: the newest sekvensnummer, then the hændelser since. */
static bool rest_cache_sync_now(rest_cache *c, const dtr_host_api *api, dtr_reader *r)
{
    long hour = (long)(time(NULL) / 3600);
    if (hour != c->hour) {
        if (c->nentries) cache_clear(c);
        c->hour = hour;
    }
    int64_t latest = 0;
    char tidspunkt[40];
    if (api->read_latest(r, &latest, tidspunkt) != DTR_OK) return false;
    if (latest == c->seq) return true;
    if (c->seq < 0 || latest < c->seq || latest - c->seq > REST_CACHE_REPLAY_MAX) {
        if (c->nentries) cache_clear(c);
        c->seq = latest;
        return true;
    }
    json_t *events = NULL;
    if (api->read_haendelser(r, c->seq + 1, (size_t)(latest - c->seq), &events) != DTR_OK) {
        json_decref(events);
        cache_clear(c);
        c->seq = latest;
        return true;
    }
    size_t i;
    json_t *event;
    json_array_foreach(events, i, event)
    {
        cache_apply_event(c, event);
        c->seq = json_integer_value(json_object_get(event, "sekvensnummer"));
        c->stats.events++;
    }
    json_decref(events);
    if (c->seq < latest) { /* the feed was shorter than promised: trust nothing */
        cache_clear(c);
        c->seq = latest;
    }
    return true;
}

const char *rest_cache_get(rest_cache *c, const char *nummer, dtr_level *level, int64_t *version,
                           size_t *len)
{
    uint64_t key = cache_key(nummer);
    for (cache_entry *e = c->entries[cache_bucket(c, key)]; e; e = e->next) {
        if (e->key != key) continue;
        *level = e->level;
        *version = e->version;
        *len = e->len;
        c->stats.hits++;
        return e->bytes;
    }
    c->stats.misses++;
    return NULL;
}

/* Collects the numbers a document contains: its own and its nested ones. */
static void cache_collect(const json_t *doc, uint64_t *out, size_t *n, size_t max)
{
    const char *nummer = json_string_value(json_object_get(doc, "nummer"));
    if (nummer && *n < max) out[(*n)++] = cache_key(nummer);
    static const char *const kids[] = {"anvisningsenheder", "alternativeAdresser"};
    for (size_t k = 0; k < 2; k++) {
        size_t i;
        const json_t *kid;
        json_array_foreach(json_object_get(doc, kids[k]), i, kid) cache_collect(kid, out, n, max);
    }
}

static size_t cache_count(const json_t *doc)
{
    size_t n = 1;
    static const char *const kids[] = {"anvisningsenheder", "alternativeAdresser"};
    for (size_t k = 0; k < 2; k++) {
        size_t i;
        const json_t *kid;
        json_array_foreach(json_object_get(doc, kids[k]), i, kid) n += cache_count(kid);
    }
    return n;
}

void rest_cache_put(rest_cache *c, const char *nummer, dtr_level level, const json_t *doc,
                    const char *bytes, size_t len, int64_t version)
{
    if (c->seq < 0 || len > c->max_bytes) return;
    uint64_t key = cache_key(nummer);
    cache_remove(c, key);
    if (c->bytes + len > c->max_bytes) cache_clear(c);
    if (c->nentries >= c->nbuckets) cache_grow(c);
    cache_entry *e = calloc(1, sizeof *e);
    size_t max = cache_count(doc);
    if (e) {
        e->bytes = malloc(len);
        e->contains = calloc(max, sizeof *e->contains);
    }
    if (!e || !e->bytes || !e->contains) {
        if (e) cache_entry_free(e);
        return;
    }
    memcpy(e->bytes, bytes, len);
    e->len = len;
    e->key = key;
    e->level = level;
    e->version = version;
    cache_collect(doc, e->contains, &e->ncontains, max);
    for (size_t i = 0; i < e->ncontains; i++) {
        cache_holders *h = cache_holders_of(c, e->contains[i], true);
        if (h && h->n == h->cap) {
            size_t cap = h->cap ? h->cap * 2 : 2;
            uint64_t *grown = realloc(h->keys, cap * sizeof *grown);
            if (grown) {
                h->keys = grown;
                h->cap = cap;
            }
        }
        if (!h || h->n == h->cap) { /* out of memory: keep nothing half-indexed */
            for (size_t k = 0; k < i; k++)
                cache_unhold(c, e->contains[k], key);
            if (h && h->n == 0) cache_unhold(c, e->contains[i], key);
            cache_entry_free(e);
            return;
        }
        h->keys[h->n++] = key;
    }
    size_t at = cache_bucket(c, key);
    e->next = c->entries[at];
    c->entries[at] = e;
    c->nentries++;
    c->bytes += len;
}

void rest_cache_stats_get(const rest_cache *c, rest_cache_stats *out)
{
    *out = c->stats;
    out->entries = c->nentries;
    out->bytes = c->bytes;
}
