/*
 * audit.c -- appending to and verifying the hash-chained audit log.
 *
 * A row's hash is BLAKE2b (crypto_generichash, 32 bytes) keyed with the
 * server's audit key over this byte string:
 *
 *   "dtr-audit-v1" | id (8 bytes, little endian) |
 *   field(tidspunkt) | field(actor) | field(request_id) | field(operation) |
 *   field(level) | field(nummer) | field(before) | field(after) |
 *   prev_hash (32 bytes)
 *
 * where field(NULL) is the single byte 0 and field(s) is the byte 1, the
 * length of s (8 bytes, little endian) and the bytes of s. Every field is
 * length-prefixed, so no two different rows encode to the same bytes.
 */
#include "audit/audit.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

static void hash_u64(crypto_generichash_state *st, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    crypto_generichash_update(st, b, sizeof b);
}

static void hash_field(crypto_generichash_state *st, const char *s)
{
    unsigned char tag = s ? 1 : 0;
    crypto_generichash_update(st, &tag, 1);
    if (s) {
        size_t n = strlen(s);
        hash_u64(st, (uint64_t)n);
        crypto_generichash_update(st, (const unsigned char *)s, n);
    }
}

void audit_row_hash(const uint8_t key[AUDIT_KEY_BYTES], int64_t id, const audit_entry *e,
                    const uint8_t prev_hash[AUDIT_HASH_BYTES], uint8_t out[AUDIT_HASH_BYTES])
{
    static const char domain[] = "dtr-audit-v1";
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, AUDIT_KEY_BYTES, AUDIT_HASH_BYTES);
    crypto_generichash_update(&st, (const unsigned char *)domain, sizeof domain - 1);
    hash_u64(&st, (uint64_t)id);
    hash_field(&st, e->tidspunkt);
    hash_field(&st, e->actor);
    hash_field(&st, e->request_id);
    hash_field(&st, e->operation);
    hash_field(&st, e->level);
    hash_field(&st, e->nummer);
    hash_field(&st, e->before);
    hash_field(&st, e->after);
    crypto_generichash_update(&st, prev_hash, AUDIT_HASH_BYTES);
    crypto_generichash_final(&st, out, AUDIT_HASH_BYTES);
}
