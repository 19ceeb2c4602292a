/*
 * auth_int.h -- what the files of auth/ share and no other module sees.
 *
 * Files: credential.c (roles, secrets, hashes, HTTP Basic), cache.c (the
 * server's cache of clients), manage.c (add, revoke, rotate, list in
 * transactions with their audit entries), cli.c (`dtr client`, `dtr audit
 * verify`).
 */
#ifndef DTR_AUTH_INT_H
#define DTR_AUTH_INT_H

#include "auth/auth.h"

#define AUTH_ID_CHARS 18 /* "c_" + 16 hex digits */

/* A fresh client id: "c_" + 16 hex digits of 64 random bits. */
void auth_new_id(char out[AUTH_ID_CHARS + 1]);

/* A fresh secret: AUTH_SECRET_BYTES random bytes as unpadded base64url. */
void auth_new_secret(char out[AUTH_SECRET_CHARS + 1]);

/* The subkey secrets are hashed with, derived from the server key. */
void auth_hash_subkey(const uint8_t key[AUTH_KEY_BYTES], uint8_t subkey[AUTH_KEY_BYTES]);

/* auth_secret_hash with the subkey already derived (the cache's hot path). */
void auth_secret_hash_subkey(const uint8_t subkey[AUTH_KEY_BYTES], const char *id,
                             const char *secret, uint8_t out[AUTH_HASH_BYTES]);

/* The time now as RFC 3339 UTC with milliseconds ("2025-01-31T12:00:00.123Z"). */
void auth_now(char out[40]);

/* Whether name is a client name we accept (auth_new_client.name); when not,
 * err says why. */
bool auth_valid_name(const char *name, char *err, size_t errlen);

/* Whether every code is a known kommunekode, with no repeats. */
bool auth_valid_kommuner(const int *codes, size_t n, char *err, size_t errlen);

#endif /* DTR_AUTH_INT_H */
