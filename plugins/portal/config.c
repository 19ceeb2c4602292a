/*
 * config.c -- the portal plugin's config, validated strictly at init:
 *
 *   {"webhooks": [{"url": "http://...",        subscribers (default none)
 *                  "secret": "whsec_..."}],     optional: also sign v1 (HMAC-SHA256)
 *    "retry_ms": [1000, 5000, ...],             delays before each retry
 *    "timeout_ms": 10000,                       per request
 *    "fra": N,                                  first sekvensnummer of a new consumer
 *    "memory_events": 10000}                    the in-memory window (portal.h)
 *
 * Any other key, a wrong type or a value out of range is refused with a
 * message naming the key, so a typo in dtr.json stops the start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "portal.h"

static const uint64_t default_retry_ms[] = {1000, 5000, 30000, 120000, 600000, 3600000};

/* Limits: a delay above a day or a timeout above ten minutes is a typo. */
#define MAX_DELAY_MS 86400000ull
#define MAX_TIMEOUT_MS 600000ull
#define MAX_MEMORY_EVENTS 1000000ull
#define MAX_URL_BYTES 2048

/* An integer in [lo, hi], or -1 with err naming key. */
static int read_uint(const json_t *v, const char *key, uint64_t lo, uint64_t hi, uint64_t *out,
                     char *err, size_t errlen)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) < lo ||
        (uint64_t)json_integer_value(v) > hi) {
        snprintf(err, errlen, "config.%s: expected an integer from %llu to %llu", key,
                 (unsigned long long)lo, (unsigned long long)hi);
        return -1;
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* A subscriber URL: http:// or https://, a host, no spaces or control
 * characters (the only protocols the client will speak anyway). */
static bool url_acceptable(const char *url)
{
    size_t skip;
    if (strncasecmp(url, "http://", 7) == 0)
        skip = 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        skip = 8;
    else
        return false;
    if (url[skip] == '\0' || url[skip] == '/') return false;
    if (strlen(url) > MAX_URL_BYTES) return false;
    for (const unsigned char *c = (const unsigned char *)url; *c; c++)
        if (*c <= ' ' || *c == 0x7f) return false;
    return true;
}

/* The value of one base64 character (standard alphabet), or -1. */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes standard base64 (padding optional; nothing else allowed) into
 * out (room for max bytes). Returns the length, or -1 when the text is not
 * base64 or decodes to more than max bytes. */
static long b64_decode(const char *s, unsigned char *out, size_t max)
{
    size_t len = strlen(s);
    while (len > 0 && s[len - 1] == '=')
        len--;
    if (strlen(s) - len > 2 || len % 4 == 1) return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)s[i]);
        if (v < 0) return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == max) return -1;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    if (bits && (acc & ((1u << bits) - 1))) return -1; /* stray bits: not canonical */
    return (long)o;
}

/* "whsec_" + the base64 of PORTAL_SECRET_MIN to PORTAL_SECRET_MAX bytes (the
 * Standard Webhooks secret format), decoded into sec. */
static int read_secret(const json_t *v, size_t i, portal_secret *sec, char *err, size_t errlen)
{
    const char *s = json_string_value(v);
    long n = s && strncmp(s, "whsec_", 6) == 0 ? b64_decode(s + 6, sec->key, sizeof sec->key) : -1;
    if (n < PORTAL_SECRET_MIN) {
        snprintf(err, errlen,
                 "config.webhooks[%zu].secret: expected \"whsec_\" and the base64 of %d to %d "
                 "bytes",
                 i, PORTAL_SECRET_MIN, PORTAL_SECRET_MAX);
        return -1;
    }
    sec->len = (size_t)n;
    return 0;
}

static int read_webhooks(const json_t *v, portal_config *out, char *err, size_t errlen)
{
    if (!json_is_array(v)) {
        snprintf(err, errlen, "config.webhooks: expected an array of {\"url\": ...}");
        return -1;
    }
    size_t n = json_array_size(v);
    out->urls = calloc(n ? n : 1, sizeof *out->urls);
    out->secrets = calloc(n ? n : 1, sizeof *out->secrets);
    if (!out->urls || !out->secrets) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *hook = json_array_get(v, i);
        if (!json_is_object(hook)) {
            snprintf(err, errlen, "config.webhooks[%zu]: expected an object", i);
            return -1;
        }
        const char *key;
        json_t *val;
        json_object_foreach(hook, key, val)
        {
            if (strcmp(key, "url") != 0 && strcmp(key, "secret") != 0) {
                snprintf(err, errlen, "config.webhooks[%zu].%s: unknown key", i, key);
                return -1;
            }
        }
        json_t *url = json_object_get(hook, "url");
        if (!json_is_string(url)) {
            snprintf(err, errlen, "config.webhooks[%zu].url: required, a string", i);
            return -1;
        }
        if (!url_acceptable(json_string_value(url))) {
            snprintf(err, errlen, "config.webhooks[%zu].url: expected an http:// or https:// URL",
                     i);
            return -1;
        }
        json_t *secret = json_object_get(hook, "secret");
        if (secret && read_secret(secret, i, &out->secrets[out->n_urls], err, errlen)) return -1;
        for (size_t j = 0; j < out->n_urls; j++) {
            if (strcmp(out->urls[j], json_string_value(url)) == 0) {
                snprintf(err, errlen, "config.webhooks[%zu].url: the same URL as webhooks[%zu]", i,
                         j);
                return -1;
            }
        }
        out->urls[out->n_urls] = strdup(json_string_value(url));
        if (!out->urls[out->n_urls]) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        out->n_urls++;
    }
    return 0;
}

static int read_retry(const json_t *v, portal_config *out, char *err, size_t errlen)
{
    if (!json_is_array(v) || json_array_size(v) > PORTAL_MAX_RETRIES) {
        snprintf(err, errlen, "config.retry_ms: expected an array of at most %d delays",
                 PORTAL_MAX_RETRIES);
        return -1;
    }
    out->n_retry = json_array_size(v);
    for (size_t i = 0; i < out->n_retry; i++) {
        char key[32];
        snprintf(key, sizeof key, "retry_ms[%zu]", i);
        if (read_uint(json_array_get(v, i), key, 0, MAX_DELAY_MS, &out->retry_ms[i], err, errlen))
            return -1;
    }
    return 0;
}

static int read_keys(const json_t *config, portal_config *out, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)config, key, v)
    {
        if (strcmp(key, "webhooks") == 0) {
            if (read_webhooks(v, out, err, errlen)) return -1;
        } else if (strcmp(key, "retry_ms") == 0) {
            if (read_retry(v, out, err, errlen)) return -1;
        } else if (strcmp(key, "timeout_ms") == 0) {
            if (read_uint(v, key, 1, MAX_TIMEOUT_MS, &out->timeout_ms, err, errlen)) return -1;
        } else if (strcmp(key, "fra") == 0) {
            uint64_t fra;
            if (read_uint(v, key, 1, INT64_MAX, &fra, err, errlen)) return -1;
            out->fra = (int64_t)fra;
        } else if (strcmp(key, "memory_events") == 0) {
            uint64_t n;
            if (read_uint(v, key, 1, MAX_MEMORY_EVENTS, &n, err, errlen)) return -1;
            out->memory_events = (size_t)n;
        } else {
            snprintf(err, errlen, "config.%s: unknown key", key);
            return -1;
        }
    }
    return 0;
}

int portal_config_read(const json_t *config, portal_config *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->n_retry = sizeof default_retry_ms / sizeof default_retry_ms[0];
    memcpy(out->retry_ms, default_retry_ms, sizeof default_retry_ms);
    out->timeout_ms = PORTAL_DEFAULT_TIMEOUT_MS;
    out->memory_events = PORTAL_DEFAULT_MEMORY_EVENTS;
    if (config && !json_is_object(config)) {
        snprintf(err, errlen, "config: expected an object");
        return -1;
    }
    if (config && read_keys(config, out, err, errlen)) {
        portal_config_free(out);
        return -1;
    }
    return 0;
}

void portal_config_free(portal_config *c)
{
    for (size_t i = 0; i < c->n_urls; i++)
        free(c->urls[i]);
    free(c->urls);
    c->urls = NULL;
    if (c->secrets) sodium_memzero(c->secrets, c->n_urls * sizeof *c->secrets);
    free(c->secrets);
    c->secrets = NULL;
    c->n_urls = 0;
}
