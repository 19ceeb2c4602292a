/*
 * window.c -- hændelser as webhooks see them (portal_event), and the one
 * in-memory window of recent events that every subscriber reads from while
 * it keeps up. Loop thread only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portal.h"

/* Copies a string field into a fixed buffer; -1 when it is missing or too
 * long (the register's values are short: operations, levels, numbers). */
static int copy_field(const json_t *j, const char *key, char *out, size_t outlen)
{
    const char *s = json_string_value(json_object_get(j, key));
    if (!s || strlen(s) >= outlen) return -1;
    memcpy(out, s, strlen(s) + 1);
    return 0;
}

int portal_event_from_json(const json_t *j, portal_event *ev)
{
    memset(ev, 0, sizeof *ev);
    json_t *seq = json_object_get(j, "sekvensnummer");
    if (!json_is_integer(seq) || json_integer_value(seq) < 1) return -1;
    ev->seq = json_integer_value(seq);
    if (copy_field(j, "operation", ev->operation, sizeof ev->operation)) return -1;
    if (copy_field(j, "entitet", ev->entitet, sizeof ev->entitet)) return -1;
    if (copy_field(j, "nummer", ev->nummer, sizeof ev->nummer)) return -1;
    return 0;
}

char *portal_event_body(const portal_event *ev)
{
    json_t *j = json_pack("{s:I, s:s, s:s, s:s}", "sekvensnummer", (json_int_t)ev->seq, "operation",
                          ev->operation, "entitet", ev->entitet, "nummer", ev->nummer);
    if (!j) return NULL;
    char *body = json_dumps(j, DTR_JSON_WIRE | JSON_PRESERVE_ORDER);
    json_decref(j);
    return body;
}

void portal_event_id(int64_t seq, char out[32])
{
    snprintf(out, 32, "dtr-%" PRId64, seq);
}

int64_t portal_event_id_parse(const char *id)
{
    if (!id || strncmp(id, "dtr-", 4) != 0) return 0;
    const char *digits = id + 4;
    if (*digits < '1' || *digits > '9') return 0;
    int64_t n = 0;
    for (const char *c = digits; *c; c++) {
        if (*c < '0' || *c > '9' || n > (INT64_MAX - 9) / 10) return 0;
        n = n * 10 + (*c - '0');
    }
    return n;
}

int portal_window_init(portal_window *w, size_t cap)
{
    memset(w, 0, sizeof *w);
    w->ring = calloc(cap ? cap : 1, sizeof *w->ring);
    if (!w->ring) return -1;
    w->cap = cap ? cap : 1;
    return 0;
}

void portal_window_free(portal_window *w)
{
    free(w->ring);
    memset(w, 0, sizeof *w);
}

void portal_window_append(portal_window *w, const portal_event *ev)
{
    if (w->count > 0 && ev->seq != w->lo + (int64_t)w->count) w->count = 0;
    if (w->count == 0) {
        w->head = 0;
        w->lo = ev->seq;
    }
    if (w->count == w->cap) {
        w->head = (w->head + 1) % w->cap;
        w->lo++;
        w->count--;
    }
    w->ring[(w->head + w->count) % w->cap] = *ev;
    w->count++;
}

const portal_event *portal_window_get(const portal_window *w, int64_t seq)
{
    if (w->count == 0 || seq < w->lo || seq >= w->lo + (int64_t)w->count) return NULL;
    return &w->ring[(w->head + (size_t)(seq - w->lo)) % w->cap];
}
