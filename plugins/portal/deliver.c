/*
 * deliver.c -- one subscriber's webhook delivery, in order.
 *
 * A subscriber has at most one event on its way: either an attempt in
 * flight (an HTTP POST through curluv.c) or a retry timer waiting. The next
 * event is chosen by portal_sub_pump:
 *   1. a parked event queued for replay (oldest first): replays go ahead of
 *      the normal flow, because they are older than anything in it;
 *   2. else position + 1, when the feed has handed it over (<= queuedUpTo):
 *      from the shared window, or from this subscriber's page of events
 *      read from the register when it lags behind the window.
 * A 2xx answer delivers the event. Anything else (another status, a connect
 * error, a timeout) is a failed attempt: after attempt k the next comes
 * retry_ms[k-1] later; after the last the event is parked (dead letter) and
 * the flow goes on with the next one. Subscribers never wait for each
 * other: each has its own request, timers and page.
 *
 * Every attempt is signed afresh (Standard Webhooks): webhook-id "dtr-<n>"
 * (the same on every attempt and after a restart), webhook-timestamp (unix
 * seconds of this attempt), webhook-signature "v1a,<base64 of the Ed25519
 * signature of '<id>.<timestamp>.<body>'>" made with the server's key; a
 * subscriber with a secret also gets " v1,<base64 of HMAC-SHA256 of the same
 * string, keyed with the secret>" after it (what the official Standard
 * Webhooks libraries verify).
 * Loop thread, but the page reads, which run on the pool.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "portal.h"

#define FETCH_PAGE 256
#define FETCH_RETRY_MS 1000

/* ---- signing ------------------------------------------------------------------ */

/* Standard base64 with padding; out needs 4 * ceil(len / 3) + 1 bytes. */
static void base64_encode(const unsigned char *in, size_t len, char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len) v |= in[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
    }
    out[o] = '\0';
}

#define SIG_LINE 256

/* Fills the three webhook headers of subscriber s for body at unix time ts.
 * Returns 0 or -1. */
static int sign_headers(portal *p, const portal_sub *s, int64_t seq, const char *body, int64_t ts,
                        char id_line[64], char ts_line[64], char sig_line[SIG_LINE])
{
    char id[32];
    portal_event_id(seq, id);
    size_t blen = strlen(body);
    char *msg = malloc(strlen(id) + 24 + blen + 3);
    if (!msg) return -1;
    int head = sprintf(msg, "%s.%" PRId64 ".", id, ts);
    memcpy(msg + head, body, blen);
    unsigned char sig[64];
    dtr_status st = p->api->sign(p->self, msg, (size_t)head + blen, sig);
    char hmac_b64[48] = "";
    if (st == DTR_OK && s->secret.len) {
        unsigned char mac[crypto_auth_hmacsha256_BYTES];
        crypto_auth_hmacsha256_state h;
        crypto_auth_hmacsha256_init(&h, s->secret.key, s->secret.len);
        crypto_auth_hmacsha256_update(&h, (const unsigned char *)msg, (size_t)head + blen);
        crypto_auth_hmacsha256_final(&h, mac);
        base64_encode(mac, sizeof mac, hmac_b64);
    }
    free(msg);
    if (st != DTR_OK) return -1;
    char b64[92];
    base64_encode(sig, sizeof sig, b64);
    snprintf(id_line, 64, "webhook-id: %s", id);
    snprintf(ts_line, 64, "webhook-timestamp: %" PRId64, ts);
    snprintf(sig_line, SIG_LINE, "webhook-signature: v1a,%s%s%s", b64, hmac_b64[0] ? " v1," : "",
             hmac_b64);
    return 0;
}

/* ---- parked events --------------------------------------------------------------- */

int portal_sub_park(portal_sub *s, const portal_parked *pk)
{
    if (s->n_parked == s->cap_parked) {
        size_t cap = s->cap_parked ? s->cap_parked * 2 : 8;
        portal_parked *grown = realloc(s->parked, cap * sizeof *grown);
        if (!grown) return -1;
        s->parked = grown;
        s->cap_parked = cap;
    }
    size_t at = s->n_parked;
    while (at > 0 && s->parked[at - 1].ev.seq > pk->ev.seq)
        at--;
    if (at > 0 && s->parked[at - 1].ev.seq == pk->ev.seq) {
        s->parked[at - 1] = *pk; /* the same event again (a replay): one entry */
        return 0;
    }
    memmove(&s->parked[at + 1], &s->parked[at], (s->n_parked - at) * sizeof *s->parked);
    s->parked[at] = *pk;
    s->n_parked++;
    return 0;
}

static portal_parked *find_parked(portal_sub *s, int64_t seq)
{
    for (size_t i = 0; i < s->n_parked; i++)
        if (s->parked[i].ev.seq == seq) return &s->parked[i];
    return NULL;
}

static void unpark(portal_sub *s, int64_t seq)
{
    portal_parked *pk = find_parked(s, seq);
    if (!pk) return;
    size_t at = (size_t)(pk - s->parked);
    memmove(&s->parked[at], &s->parked[at + 1], (s->n_parked - at - 1) * sizeof *s->parked);
    s->n_parked--;
}

size_t portal_sub_replay(portal_sub *s, const int64_t *seqs, size_t n, json_t *queued)
{
    size_t count = 0;
    for (size_t i = 0; i < s->n_parked; i++) {
        portal_parked *pk = &s->parked[i];
        bool named = seqs == NULL;
        for (size_t k = 0; !named && k < n; k++)
            named = seqs[k] == pk->ev.seq;
        if (!named || pk->replay) continue;
        pk->replay = true;
        count++;
        char id[32];
        portal_event_id(pk->ev.seq, id);
        json_array_append_new(queued, json_pack("{s:s, s:s, s:I}", "id", id, "url", s->url,
                                                "sekvensnummer", (json_int_t)pk->ev.seq));
    }
    return count;
}

/* ---- attempts ---------------------------------------------------------------------- */

static void send_attempt(portal_sub *s);

/* The current event is done with (delivered or parked): free the
 * subscriber for the next one and make the change durable. */
static void finish_current(portal_sub *s)
{
    s->busy = false;
    s->attempts = 0;
    free(s->body);
    s->body = NULL;
    portal_state_changed(s->p);
    portal_sub_pump(s);
}

static void on_delivered(portal_sub *s)
{
    s->delivered++;
    if (s->current_is_replay)
        unpark(s, s->current.seq);
    else
        s->position = s->current.seq;
    s->last_error[0] = '\0';
    finish_current(s);
}

static void retry_fire(dtr_timer *t, void *udata)
{
    portal_sub *s = udata;
    s->p->api->timer_stop(t);
    s->retry_timer = NULL;
    send_attempt(s);
}

/* One attempt failed: wait for the next, or park the event after the last. */
static void on_failed(portal_sub *s, const char *why)
{
    portal *p = s->p;
    s->attempts++;
    snprintf(s->last_error, sizeof s->last_error, "%s", why);
    if (s->attempts <= p->cfg.n_retry) {
        s->retry_timer =
            p->api->timer_start(p->self, p->cfg.retry_ms[s->attempts - 1], 0, retry_fire, s);
        if (s->retry_timer) return;
        snprintf(s->last_error, sizeof s->last_error, "%s (no timer for the retry)", why);
    }
    portal_parked pk = {.ev = s->current,
                        .attempts = s->attempts,
                        .parked_at = (int64_t)time(NULL),
                        .replay = false};
    snprintf(pk.last_error, sizeof pk.last_error, "%s", s->last_error);
    if (portal_sub_park(s, &pk) != 0) {
        p->api->log(p->self, DTR_LOG_ERROR, "webhook %s: out of memory parking dtr-%" PRId64,
                    s->url, s->current.seq);
        s->retry_timer = p->api->timer_start(p->self, FETCH_RETRY_MS, 0, retry_fire, s);
        return;
    }
    if (!s->current_is_replay) s->position = s->current.seq;
    p->api->log(p->self, DTR_LOG_WARN, "webhook %s: dtr-%" PRId64 " parked after %u attempts: %s",
                s->url, s->current.seq, s->attempts, s->last_error);
    finish_current(s);
}

static void on_http_done(void *udata, long status, const char *error)
{
    portal_sub *s = udata;
    s->req = NULL;
    if (!error && status >= 200 && status <= 299) {
        on_delivered(s);
        return;
    }
    char why[128];
    if (error)
        snprintf(why, sizeof why, "%s", error);
    else
        snprintf(why, sizeof why, "HTTP status %ld", status);
    on_failed(s, why);
}

/* Sends the current event once, signed for this moment. */
static void send_attempt(portal_sub *s)
{
    portal *p = s->p;
    if (!s->body) s->body = portal_event_body(&s->current);
    char id_line[64], ts_line[64], sig_line[SIG_LINE], err[256];
    if (!s->body || sign_headers(p, s, s->current.seq, s->body, (int64_t)time(NULL), id_line,
                                 ts_line, sig_line) != 0) {
        on_failed(s, "the event could not be signed");
        return;
    }
    const char *headers[] = {id_line, ts_line, sig_line};
    s->req = portal_http_post(p->http, s->url, s->body, strlen(s->body), headers, 3,
                              p->cfg.timeout_ms, on_http_done, s, err, sizeof err);
    if (!s->req) on_failed(s, err);
}

static void start_event(portal_sub *s, const portal_event *ev, bool replay)
{
    s->busy = true;
    s->current = *ev;
    s->current_is_replay = replay;
    s->attempts = 0;
    free(s->body);
    s->body = NULL;
    send_attempt(s);
}

/* ---- reading events for a subscriber behind the window ------------------------------ */

typedef struct fetch_work {
    portal_sub *s;
    const dtr_host_api *api;
    dtr_plugin *self;
    dtr_reader *reader; /* the subscriber's, lent for the duration */
    int64_t fra;
    size_t max;
    portal_event *events;
    size_t n;
    dtr_status rc;
} fetch_work;

/* Pool thread: one page of hændelser from fra, converted to events (only
 * the contiguous run that starts at fra is kept). */
static void fetch_run(void *udata)
{
    fetch_work *w = udata;
    if (!w->reader) w->reader = w->api->reader_open(w->self);
    if (!w->reader) {
        w->rc = DTR_ERROR;
        return;
    }
    json_t *list = NULL;
    w->rc = w->api->read_haendelser(w->reader, w->fra, w->max, &list);
    if (w->rc == DTR_OK && json_is_array(list) && json_array_size(list) > 0) {
        w->events = calloc(json_array_size(list), sizeof *w->events);
        for (size_t i = 0; w->events && i < json_array_size(list); i++) {
            portal_event ev;
            if (portal_event_from_json(json_array_get(list, i), &ev) ||
                ev.seq != w->fra + (int64_t)i)
                break;
            w->events[w->n++] = ev;
        }
    }
    if (w->rc == DTR_OK && w->n == 0) w->rc = DTR_NOT_FOUND;
    json_decref(list);
}

static void fetch_retry_fire(dtr_timer *t, void *udata)
{
    portal_sub *s = udata;
    s->p->api->timer_stop(t);
    s->fetch_timer = NULL;
    portal_sub_pump(s);
}

static void fetch_done(void *udata, int status)
{
    fetch_work *w = udata;
    portal_sub *s = w->s;
    portal *p = s->p;
    s->fetching = false;
    s->reader = w->reader;
    if (status == 0 && w->rc == DTR_OK) {
        free(s->lag);
        s->lag = w->events;
        s->lag_n = w->n;
        w->events = NULL;
    } else if (!p->stopping) {
        p->api->log(p->self, DTR_LOG_WARN,
                    "webhook %s: hændelser from %" PRId64 " could not be read (%d); trying again",
                    s->url, w->fra, status != 0 ? status : dtr_status_http(w->rc));
        s->fetch_timer = p->api->timer_start(p->self, FETCH_RETRY_MS, 0, fetch_retry_fire, s);
    }
    free(w->events);
    free(w);
    portal_sub_pump(s);
}

static void fetch_page(portal_sub *s, int64_t fra)
{
    portal *p = s->p;
    if (s->fetching || s->fetch_timer) return;
    fetch_work *w = calloc(1, sizeof *w);
    if (!w) return;
    w->s = s;
    w->api = p->api;
    w->self = p->self;
    w->reader = s->reader;
    w->fra = fra;
    int64_t left = p->queued_up_to - fra + 1;
    w->max = left < FETCH_PAGE ? (size_t)left : FETCH_PAGE;
    s->fetching = true;
    if (p->api->work_submit(p->self, fetch_run, fetch_done, w) != DTR_OK) {
        s->fetching = false;
        free(w);
        s->fetch_timer = p->api->timer_start(p->self, FETCH_RETRY_MS, 0, fetch_retry_fire, s);
    }
}

/* ---- the pump ------------------------------------------------------------------------- */

void portal_sub_pump(portal_sub *s)
{
    portal *p = s->p;
    if (s->busy || p->stopping || !p->http || !portal_is_newest(p)) return;
    for (size_t i = 0; i < s->n_parked; i++) {
        if (s->parked[i].replay) {
            portal_event ev = s->parked[i].ev;
            start_event(s, &ev, true);
            return;
        }
    }
    if (s->position < 0) return;
    int64_t next = s->position + 1;
    if (next > p->queued_up_to) return;
    const portal_event *ev = portal_window_get(&p->window, next);
    if (!ev && s->lag_n > 0 && next >= s->lag[0].seq && next < s->lag[0].seq + (int64_t)s->lag_n)
        ev = &s->lag[next - s->lag[0].seq];
    if (ev) {
        portal_event copy = *ev;
        start_event(s, &copy, false);
        return;
    }
    fetch_page(s, next);
}

void portal_pump_all(portal *p)
{
    for (size_t i = 0; i < p->n_subs; i++)
        portal_sub_pump(&p->subs[i]);
}

void portal_sub_stop(portal_sub *s)
{
    portal *p = s->p;
    if (s->req) {
        portal_http_cancel(p->http, s->req);
        s->req = NULL;
    }
    if (s->retry_timer) p->api->timer_stop(s->retry_timer);
    if (s->fetch_timer) p->api->timer_stop(s->fetch_timer);
    s->retry_timer = s->fetch_timer = NULL;
    s->busy = false;
}

void portal_sub_free(portal_sub *s)
{
    if (s->reader) s->p->api->reader_close(s->reader);
    free(s->url);
    sodium_memzero(&s->secret, sizeof s->secret);
    free(s->body);
    free(s->lag);
    free(s->parked);
}
