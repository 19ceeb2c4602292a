/*
 * ratelimit.c -- requests per second per client address: a token bucket per
 * address (rate tokens a second, a burst of rate), in an open-addressing
 * table. Buckets that refilled completely carry no information and are
 * dropped when the table needs room; when it cannot grow any further, new
 * addresses are let through rather than refused (the limit protects the
 * server from one client, it must not lock everyone out). Loop thread only.
 */
#include "net/net_int.h"

#include <stdlib.h>
#include <string.h>

enum { NET_RATE_MIN_SLOTS = 1024, NET_RATE_MAX_SLOTS = 65536 };

typedef struct net_rate_slot {
    uint8_t key[16];
    uint64_t last_ms;
    uint64_t milli; /* tokens, in thousandths */
    bool used;
} net_rate_slot;

struct net_rate_table {
    net_rate_slot *slots;
    size_t cap, used;
};

net_rate_table *net_rate_new(void)
{
    net_rate_table *t = calloc(1, sizeof *t);
    if (!t) abort();
    t->cap = NET_RATE_MIN_SLOTS;
    t->slots = calloc(t->cap, sizeof *t->slots);
    if (!t->slots) abort();
    return t;
}

void net_rate_free(net_rate_table *t)
{
    if (!t) return;
    free(t->slots);
    free(t);
}

static size_t net_rate_hash(const uint8_t key[16])
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 1099511628211ULL;
    return (size_t)(h ^ (h >> 29));
}

static void net_rate_refill(net_rate_slot *slot, uint64_t now_ms, uint32_t rate)
{
    uint64_t full = (uint64_t)rate * 1000;
    uint64_t gained = (now_ms - slot->last_ms) * rate;
    slot->milli = slot->milli + gained >= full ? full : slot->milli + gained;
    slot->last_ms = now_ms;
}

static net_rate_slot *net_rate_probe(net_rate_slot *slots, size_t cap, const uint8_t key[16])
{
    size_t i = net_rate_hash(key) & (cap - 1);
    while (slots[i].used && memcmp(slots[i].key, key, 16) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

/* Rebuilds the table without the full buckets, doubling it when that is not
 * enough (up to NET_RATE_MAX_SLOTS). */
static void net_rate_rebuild(net_rate_table *t, uint64_t now_ms, uint32_t rate)
{
    size_t live = 0;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].used) continue;
        net_rate_refill(&t->slots[i], now_ms, rate);
        if (t->slots[i].milli < (uint64_t)rate * 1000) live++;
    }
    size_t cap = t->cap;
    while (live * 2 > cap && cap < NET_RATE_MAX_SLOTS)
        cap *= 2;
    net_rate_slot *slots = calloc(cap, sizeof *slots);
    if (!slots) abort();
    for (size_t i = 0; i < t->cap; i++) {
        const net_rate_slot *old = &t->slots[i];
        if (!old->used || old->milli >= (uint64_t)rate * 1000) continue;
        *net_rate_probe(slots, cap, old->key) = *old;
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    t->used = live;
}

bool net_rate_take(net_rate_table *t, const uint8_t key[16], uint64_t now_ms, uint32_t rate,
                   unsigned *retry_after)
{
    net_rate_slot *slot = net_rate_probe(t->slots, t->cap, key);
    if (!slot->used) {
        if ((t->used + 1) * 4 > t->cap * 3) {
            net_rate_rebuild(t, now_ms, rate);
            if ((t->used + 1) * 4 > t->cap * 3) return true; /* full of busy clients */
            slot = net_rate_probe(t->slots, t->cap, key);
        }
        memcpy(slot->key, key, 16);
        slot->used = true;
        slot->last_ms = now_ms;
        slot->milli = (uint64_t)rate * 1000;
        t->used++;
    }
    net_rate_refill(slot, now_ms, rate);
    if (slot->milli >= 1000) {
        slot->milli -= 1000;
        return true;
    }
    uint64_t wait_ms = ((1000 - slot->milli) + rate - 1) / rate;
    *retry_after = (unsigned)((wait_ms + 999) / 1000);
    if (*retry_after == 0) *retry_after = 1;
    return false;
}
