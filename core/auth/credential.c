/*
 * credential.c -- roles, secrets, their hashes and HTTP Basic parsing.
 * Pure functions over libsodium: no state, any thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "auth/auth_int.h"

/* The KDF context and subkey id of the secret hashes: a key of its own,
 * apart from the audit chain's use of the server key. */
#define AUTH_KDF_CONTEXT "dtr_auth"
#define AUTH_KDF_SUBKEY_ID 1

static const struct {
    const char *name;
    reg_role role;
} auth_roles[] = {
    {"kommune", REG_ROLE_KOMMUNE},
    {"support", REG_ROLE_SUPPORT},
    {"laeser", REG_ROLE_LAESER},
    {"admin", REG_ROLE_ADMIN},
};

bool auth_role_parse(const char *name, reg_role *out)
{
    if (!name) return false;
    for (size_t i = 0; i < sizeof auth_roles / sizeof auth_roles[0]; i++) {
        if (strcmp(auth_roles[i].name, name) == 0) {
            if (out) *out = auth_roles[i].role;
            return true;
        }
    }
    return false;
}

int auth_client_actor(const auth_client *client, reg_actor *out)
{
    memset(out, 0, sizeof *out);
    reg_role role;
    if (!client || !client->id || !auth_role_parse(client->role, &role)) return -1;
    out->id = client->id;
    out->role = role;
    /* only the kommune role has a scope; the others must not carry one */
    if (role == REG_ROLE_KOMMUNE) {
        out->kommuner = client->kommuner;
        out->n_kommuner = client->n_kommuner;
    }
    return 0;
}

void auth_hash_subkey(const uint8_t key[AUTH_KEY_BYTES], uint8_t subkey[AUTH_KEY_BYTES])
{
    crypto_kdf_derive_from_key(subkey, AUTH_KEY_BYTES, AUTH_KDF_SUBKEY_ID, AUTH_KDF_CONTEXT, key);
}

void auth_secret_hash_subkey(const uint8_t subkey[AUTH_KEY_BYTES], const char *id,
                             const char *secret, uint8_t out[AUTH_HASH_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, subkey, AUTH_KEY_BYTES, AUTH_HASH_BYTES);
    /* the id and a NUL: a hash copied to another client's row does not fit it */
    crypto_generichash_update(&st, (const unsigned char *)id, strlen(id) + 1);
    crypto_generichash_update(&st, (const unsigned char *)secret, strlen(secret));
    crypto_generichash_final(&st, out, AUTH_HASH_BYTES);
    sodium_memzero(&st, sizeof st);
}

void auth_secret_hash(const uint8_t key[AUTH_KEY_BYTES], const char *id, const char *secret,
                      uint8_t out[AUTH_HASH_BYTES])
{
    uint8_t subkey[AUTH_KEY_BYTES];
    auth_hash_subkey(key, subkey);
    auth_secret_hash_subkey(subkey, id, secret, out);
    sodium_memzero(subkey, sizeof subkey);
}

void auth_new_id(char out[AUTH_ID_CHARS + 1])
{
    uint8_t raw[8];
    randombytes_buf(raw, sizeof raw);
    out[0] = 'c';
    out[1] = '_';
    sodium_bin2hex(out + 2, AUTH_ID_CHARS - 1, raw, sizeof raw);
}

void auth_new_secret(char out[AUTH_SECRET_CHARS + 1])
{
    uint8_t raw[AUTH_SECRET_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, AUTH_SECRET_CHARS + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

void auth_now(char out[40])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char seconds[24];
    strftime(seconds, sizeof seconds, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 40, "%.19s.%03dZ", seconds, (int)(ts.tv_nsec / 1000000) % 1000);
}

static bool is_ows(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* Copies [from, to) into out (cap bytes with the NUL) when it is 1..cap-1
 * bytes of printable characters (no control character, no DEL). */
static bool copy_part(const unsigned char *from, const unsigned char *to, char *out, size_t cap)
{
    size_t len = (size_t)(to - from);
    if (len == 0 || len >= cap) return false;
    for (size_t i = 0; i < len; i++)
        if (from[i] < 0x20 || from[i] == 0x7f) return false;
    memcpy(out, from, len);
    out[len] = '\0';
    return true;
}

/* Bounded at every step: the value is looked at up to AUTH_HEADER_MAX bytes,
 * the decoded credentials must fit a stack buffer sized for the longest id
 * and secret we accept (sodium_base642bin refuses to write past it). */
bool auth_parse_basic(const char *value, char id[AUTH_ID_MAX + 1], char secret[AUTH_SECRET_MAX + 1])
{
    if (!value) return false;
    size_t len = strnlen(value, AUTH_HEADER_MAX + 1);
    if (len > AUTH_HEADER_MAX) return false;
    const char *p = value, *end = value + len;
    while (p < end && is_ows(*p))
        p++;
    if (end - p < 6 || strncasecmp(p, "basic", 5) != 0 || !is_ows(p[5])) return false;
    p += 6;
    while (p < end && is_ows(*p))
        p++;
    while (end > p && is_ows(end[-1]))
        end--;
    if (p == end) return false;

    unsigned char bin[AUTH_ID_MAX + 1 + AUTH_SECRET_MAX];
    size_t binlen = 0;
    const char *b64_end = NULL;
    size_t b64_len = (size_t)(end - p);
    int variant = b64_len % 4 == 0 ? sodium_base64_VARIANT_ORIGINAL
                                   : sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
    if (sodium_base642bin(bin, sizeof bin, p, b64_len, NULL, &binlen, &b64_end, variant) != 0 ||
        b64_end != end)
        return false;
    const unsigned char *colon = memchr(bin, ':', binlen);
    bool ok = colon && copy_part(bin, colon, id, AUTH_ID_MAX + 1) &&
              copy_part(colon + 1, bin + binlen, secret, AUTH_SECRET_MAX + 1);
    sodium_memzero(bin, sizeof bin);
    if (!ok) {
        id[0] = '\0';
        sodium_memzero(secret, AUTH_SECRET_MAX + 1);
    }
    return ok;
}

/* UTF-8 well-formedness and the length in characters, by hand: shortest
 * forms only, no surrogates, nothing above U+10FFFF. */
static bool utf8_length(const unsigned char *s, size_t *chars)
{
    size_t n = 0;
    while (*s) {
        unsigned c = *s;
        size_t more;
        unsigned cp, min;
        if (c < 0x80) {
            more = 0, cp = c, min = 0;
        } else if ((c & 0xe0) == 0xc0) {
            more = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            more = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            more = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        s++;
        for (size_t i = 0; i < more; i++, s++) {
            if ((*s & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (*s & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        n++;
    }
    *chars = n;
    return true;
}

bool auth_valid_name(const char *name, char *err, size_t errlen)
{
    size_t chars = 0;
    if (!name || !*name) {
        snprintf(err, errlen, "the name is empty");
        return false;
    }
    if (!utf8_length((const unsigned char *)name, &chars)) {
        snprintf(err, errlen, "the name is not valid UTF-8");
        return false;
    }
    if (chars > AUTH_NAME_MAX) {
        snprintf(err, errlen, "the name is longer than %d characters", AUTH_NAME_MAX);
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            snprintf(err, errlen, "the name holds a control character");
            return false;
        }
    }
    return true;
}

bool auth_valid_kommuner(const int *codes, size_t n, char *err, size_t errlen)
{
    size_t nk = 0;
    const reg_code *known = reg_kommuner(&nk);
    for (size_t i = 0; i < n; i++) {
        if (!reg_code_text(known, nk, codes[i])) {
            snprintf(err, errlen, "%d is not a kommunekode", codes[i]);
            return false;
        }
        for (size_t j = 0; j < i; j++) {
            if (codes[j] == codes[i]) {
                snprintf(err, errlen, "kommune %d is named twice", codes[i]);
                return false;
            }
        }
    }
    return true;
}

static int compare_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

bool auth_parse_kommuner(const char *text, int **out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (!text || !*text) {
        snprintf(err, errlen, "--kommune is empty");
        return false;
    }
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == ',';
    int *codes = calloc(cap, sizeof *codes);
    if (!codes) abort();
    size_t count = 0;
    const char *p = text;
    for (;;) {
        long v = 0;
        const char *start = p;
        while (*p >= '0' && *p <= '9' && p - start < 4)
            v = v * 10 + (*p++ - '0');
        if (p == start || (*p != ',' && *p != '\0')) {
            snprintf(err, errlen,
                     "--kommune: expected kommunekoder separated by commas, got \"%s\"", text);
            free(codes);
            return false;
        }
        codes[count++] = (int)v;
        if (*p == '\0') break;
        p++;
    }
    if (!auth_valid_kommuner(codes, count, err, errlen)) {
        free(codes);
        return false;
    }
    qsort(codes, count, sizeof *codes, compare_int);
    *out = codes;
    *n = count;
    return true;
}
