/*
 * limits.c -- what one client may make the store hold or do (issue 11):
 *
 *   - read snapshots: at most max_snapshots open at once, each at most
 *     snapshot_max_ms old; and none at all once the WAL has reached its
 *     bound (a snapshot keeps the WAL from starting over). A snapshot past
 *     its bound is cut: its transaction ends, and the next read on it
 *     answers 503, so the plugin ends its stream.
 *   - commands: at most max_children records besides its own in one create
 *     or PATCH (413 FOR_STOR), at most creates_per_client_per_minute creates
 *     per client (429 FOR_MANGE): the number series cannot be burnt by one
 *     client.
 *
 * Cutting a snapshot. A reader is used by one thread at a time (a pool
 * thread of the plugin that holds it); the sweeper (the checkpoint thread)
 * must not touch its connection while that thread reads. Every read on a
 * reader holds the reader's mutex (reader_enter/leave); the sweeper only
 * try-locks it, so it never waits on a reader, and a snapshot busy reading
 * is cut on the next sweep, between two of its reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* ---- the bounds ----------------------------------------------------------------- */

void store_set_limits(store *s, const store_limits *l)
{
    __atomic_store_n(&s->lim.max_snapshots, l->max_snapshots, __ATOMIC_RELAXED);
    __atomic_store_n(&s->lim.snapshot_max_ms, l->snapshot_max_ms, __ATOMIC_RELAXED);
    __atomic_store_n(&s->lim.max_children, l->max_children, __ATOMIC_RELAXED);
    __atomic_store_n(&s->lim.max_snapshots_per_client, l->max_snapshots_per_client,
                     __ATOMIC_RELAXED);
    __atomic_store_n(&s->lim.creates_per_client_per_minute, l->creates_per_client_per_minute,
                     __ATOMIC_RELAXED);
    uint64_t pages = l->wal_max_bytes ? l->wal_max_bytes / 4096 : 0;
    if (pages > INT32_MAX) pages = INT32_MAX;
    if (pages) __atomic_store_n(&s->wal_max_pages, (int)pages, __ATOMIC_RELAXED);
}

void limits_init(store *s)
{
    s->lim.max_children = UINT32_MAX;
    pthread_mutex_init(&s->snap_mu, NULL);
}

void limits_free(store *s)
{
    pthread_mutex_destroy(&s->snap_mu);
    free(s->create_buckets);
    s->create_buckets = NULL;
}

/* ---- readers and snapshots --------------------------------------------------------- */

int reader_enter(store_reader *r)
{
    pthread_mutex_lock(&r->mu);
    if (r->in_snapshot && r->cut) {
        pthread_mutex_unlock(&r->mu);
        return 503;
    }
    return 0;
}

void reader_leave(store_reader *r)
{
    pthread_mutex_unlock(&r->mu);
}

/* Unlinks r from the store's list of snapshots (under snap_mu). */
static void snap_unlink(store *s, store_reader *r)
{
    if (r->snap_prev)
        r->snap_prev->snap_next = r->snap_next;
    else
        s->snaps = r->snap_next;
    if (r->snap_next) r->snap_next->snap_prev = r->snap_prev;
    r->snap_prev = r->snap_next = NULL;
    r->listed = false;
    s->n_snaps--;
}

void store_reader_set_client(store_reader *r, const char *client)
{
    snprintf(r->client, sizeof r->client, "%s", client ? client : "");
}

/* Snapshots open for r's client (under snap_mu): a walk of the list, which
 * max_snapshots keeps short. */
static uint32_t snaps_of_client(const store *s, const store_reader *r)
{
    uint32_t n = 0;
    for (const store_reader *o = s->snaps; o; o = o->snap_next)
        if (strcmp(o->client, r->client) == 0) n++;
    return n;
}

int snapshot_admit(store_reader *r)
{
    store *s = r->c.s;
    uint32_t max = __atomic_load_n(&s->lim.max_snapshots, __ATOMIC_RELAXED);
    uint32_t per = __atomic_load_n(&s->lim.max_snapshots_per_client, __ATOMIC_RELAXED);
    pthread_mutex_lock(&s->snap_mu);
    bool full = (max && s->n_snaps >= max) || __atomic_load_n(&s->wal_pressure, __ATOMIC_RELAXED);
    bool theirs = !full && per && r->client[0] && snaps_of_client(s, r) >= per;
    if (!full && !theirs) {
        r->snap_next = s->snaps;
        r->snap_prev = NULL;
        if (s->snaps) s->snaps->snap_prev = r;
        s->snaps = r;
        r->listed = true;
        r->cut = false;
        r->snap_start_ns = uv_hrtime();
        s->n_snaps++;
    }
    pthread_mutex_unlock(&s->snap_mu);
    if (!full && !theirs && __atomic_load_n(&s->lim.snapshot_max_ms, __ATOMIC_RELAXED))
        checkpointer_wake(s); /* it watches the snapshot's lifetime */
    return full ? 503 : theirs ? 429 : 0;
}

void snapshot_leave(store_reader *r)
{
    store *s = r->c.s;
    pthread_mutex_lock(&s->snap_mu);
    if (r->listed) snap_unlink(s, r);
    pthread_mutex_unlock(&s->snap_mu);
}

/* The sweeper: cuts every snapshot past its lifetime, or every one while
 * the WAL is at its bound, whose reader is not reading right now (those are
 * cut at a later sweep). Returns how many stay open. Checkpoint thread. */
size_t snapshots_sweep(store *s, bool wal_full)
{
    uint64_t max_ms = __atomic_load_n(&s->lim.snapshot_max_ms, __ATOMIC_RELAXED);
    uint64_t now = uv_hrtime();
    pthread_mutex_lock(&s->snap_mu);
    store_reader *r = s->snaps;
    while (r) {
        store_reader *next = r->snap_next;
        bool old = max_ms && now - r->snap_start_ns > max_ms * 1000000ull;
        if ((wal_full || old) && pthread_mutex_trylock(&r->mu) == 0) {
            conn_exec(&r->c, "COMMIT"); /* the read transaction: nothing to write */
            r->cut = true;
            snap_unlink(s, r);
            pthread_mutex_unlock(&r->mu);
            store_log(s, 2, "a read snapshot was ended after %llu ms: %s",
                      (unsigned long long)((now - r->snap_start_ns) / 1000000),
                      wal_full ? "the WAL reached its bound" : "it was open too long");
        }
        r = next;
    }
    size_t left = s->n_snaps;
    pthread_mutex_unlock(&s->snap_mu);
    return left;
}

size_t store_snapshots_open(store *s)
{
    pthread_mutex_lock(&s->snap_mu);
    size_t n = s->n_snaps;
    pthread_mutex_unlock(&s->snap_mu);
    return n;
}

/* ---- commands ------------------------------------------------------------------- */

/* Records a body carries besides its own: the elements of every
 * "anvisningsenheder" and "alternativeAdresser" array, at any depth. */
static size_t count_children(const json_t *v, int depth)
{
    if (depth > 40) return 0;
    size_t n = 0;
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach((json_t *)v, key, child)
        {
            bool list = json_is_array(child) && (strcmp(key, "anvisningsenheder") == 0 ||
                                                 strcmp(key, "alternativeAdresser") == 0);
            if (list) n += json_array_size(child);
            n += count_children(child, depth + 1);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) n += count_children(e, depth + 1);
    }
    return n;
}

/* A client's creates: a token bucket of rate tokens a minute, a burst of
 * rate. Loop thread. */
typedef struct create_bucket {
    char client[64];
    uint64_t milli; /* tokens, in thousandths */
    int64_t last_ms;
} create_bucket;

enum { CREATE_BUCKETS_MAX = 4096 };

static bool create_take(store *s, const char *client, uint32_t rate)
{
    int64_t now = store_now_ms(s);
    uint64_t full = (uint64_t)rate * 1000;
    create_bucket *b = NULL;
    for (size_t i = 0; i < s->n_create_buckets && !b; i++)
        if (strncmp(s->create_buckets[i].client, client, sizeof b->client - 1) == 0)
            b = &s->create_buckets[i];
    if (!b) {
        if (s->n_create_buckets == CREATE_BUCKETS_MAX) {
            /* forget the buckets that refilled: they carry nothing */
            size_t keep = 0;
            for (size_t i = 0; i < s->n_create_buckets; i++) {
                create_bucket *o = &s->create_buckets[i];
                uint64_t refill = (uint64_t)(now - o->last_ms) * rate / 60;
                if (o->milli + refill < full) s->create_buckets[keep++] = *o;
            }
            s->n_create_buckets = keep;
            if (keep == CREATE_BUCKETS_MAX) return true; /* never lock everyone out */
        }
        if (s->n_create_buckets == s->cap_create_buckets) {
            size_t cap = s->cap_create_buckets ? 2 * s->cap_create_buckets : 16;
            create_bucket *grown = realloc(s->create_buckets, cap * sizeof *grown);
            if (!grown) abort();
            s->create_buckets = grown;
            s->cap_create_buckets = cap;
        }
        b = &s->create_buckets[s->n_create_buckets++];
        snprintf(b->client, sizeof b->client, "%s", client);
        b->milli = full;
        b->last_ms = now;
    }
    if (now > b->last_ms) {
        b->milli += (uint64_t)(now - b->last_ms) * rate / 60; /* rate/60 000 a ms, in milli */
        if (b->milli > full) b->milli = full;
        b->last_ms = now;
    }
    if (b->milli < 1000) return false;
    b->milli -= 1000;
    return true;
}

int limits_check_command(store *s, const store_command *cmd, const char **kode, char *tekst,
                         size_t tekstlen)
{
    uint32_t max_children = __atomic_load_n(&s->lim.max_children, __ATOMIC_RELAXED);
    if (cmd->body && (cmd->op == REG_OP_CREATE || cmd->op == REG_OP_UPDATE)) {
        size_t n = count_children(cmd->body, 0);
        if (n > max_children) {
            *kode = "FOR_STOR";
            snprintf(tekst, tekstlen,
                     "forespørgslen har %zu underliggende enheder; højst %u i én forespørgsel", n,
                     max_children);
            return 413;
        }
    }
    uint32_t rate = __atomic_load_n(&s->lim.creates_per_client_per_minute, __ATOMIC_RELAXED);
    if (rate && cmd->op == REG_OP_CREATE && cmd->actor.id && !create_take(s, cmd->actor.id, rate)) {
        *kode = "FOR_MANGE";
        snprintf(tekst, tekstlen, "for mange oprettelser fra denne klient; højst %u i minuttet",
                 rate);
        return 429;
    }
    return 0;
}
