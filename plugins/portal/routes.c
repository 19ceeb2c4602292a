/*
 * routes.c -- the webhooks' admin routes. Subscriber URLs are not public,
 * so both need a client whatever public_read says:
 *
 *   GET  /v1/portal/webhooks          admin or support: every subscriber, its
 *                                     position, the event on its way and its
 *                                     attempts, its parked events
 *   POST /v1/portal/webhooks/replay   admin: {"ids": ["dtr-12", ...]} or {}
 *                                     for every parked event; 202 with what was
 *                                     queued. A replayed event is sent before the
 *                                     normal flow of its subscriber goes on, with
 *                                     the same retries; failing again, it is
 *                                     parked again.
 *
 * Loop thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "portal.h"

#define REPLAY_MAX_BODY 65536
#define REPLAY_MAX_IDS 10000

void portal_respond_401(portal *p, dtr_request *req)
{
    p->api->resp_header(req, "WWW-Authenticate", "Basic realm=\"dtr\"");
    p->api->respond_problem(req, 401, "IKKE_AUTENTIFICERET", NULL,
                            "denne ressource kræver en klient (HTTP Basic)");
}

/* Authenticates req and checks its role: admin, or support too when
 * support_ok. Answers 401/403 itself and returns false when refused. */
static bool allowed(portal *p, dtr_request *req, bool support_ok)
{
    const dtr_identity *who = NULL;
    dtr_identity_info info;
    if (p->api->req_authenticate(p->self, req, &who) != DTR_OK || !who ||
        p->api->identity_info(p->self, who, &info) != DTR_OK) {
        portal_respond_401(p, req);
        return false;
    }
    const char *role = info.role ? info.role : "";
    if (strcmp(role, "admin") == 0 || (support_ok && strcmp(role, "support") == 0)) return true;
    p->api->respond_problem(req, 403, "IKKE_TILLADT", NULL,
                            support_ok ? "kun admin og support må se webhooks"
                                       : "kun admin må sende parkerede hændelser igen");
    return false;
}

static json_t *event_json(const portal_event *ev)
{
    char id[32];
    portal_event_id(ev->seq, id);
    return json_pack("{s:s, s:I, s:s, s:s, s:s}", "id", id, "sekvensnummer", (json_int_t)ev->seq,
                     "operation", ev->operation, "entitet", ev->entitet, "nummer", ev->nummer);
}

/* One subscriber as the listing shows it. */
static json_t *sub_json(const portal *p, const portal_sub *s)
{
    json_t *in_flight = json_null();
    if (s->busy) {
        in_flight = event_json(&s->current);
        json_object_set_new(in_flight, "attempts",
                            json_integer((json_int_t)s->attempts + (s->req ? 1 : 0)));
        json_object_set_new(in_flight, "waitingForRetry", json_boolean(s->retry_timer != NULL));
        json_object_set_new(in_flight, "replay", json_boolean(s->current_is_replay));
        json_object_set_new(in_flight, "lastError",
                            s->last_error[0] ? json_string(s->last_error) : json_null());
    }
    json_t *parked = json_array();
    for (size_t i = 0; i < s->n_parked; i++) {
        const portal_parked *pk = &s->parked[i];
        json_t *j = event_json(&pk->ev);
        json_object_set_new(j, "attempts", json_integer(pk->attempts));
        json_object_set_new(j, "lastError", json_string(pk->last_error));
        json_object_set_new(j, "parkedAt", json_integer(pk->parked_at));
        json_object_set_new(j, "replayQueued", json_boolean(pk->replay));
        json_array_append_new(parked, j);
    }
    int64_t pending = s->position >= 0 ? p->queued_up_to - s->position : 0;
    return json_pack("{s:s, s:I, s:I, s:I, s:o, s:o}", "url", s->url, "position",
                     (json_int_t)s->position, "pending", (json_int_t)pending, "delivered",
                     (json_int_t)s->delivered, "inFlight", in_flight, "parked", parked);
}

static dtr_status list_webhooks(dtr_request *req, void *udata)
{
    portal *p = udata;
    if (!allowed(p, req, true)) return DTR_OK;
    json_t *subs = json_array();
    for (size_t i = 0; i < p->n_subs; i++)
        json_array_append_new(subs, sub_json(p, &p->subs[i]));
    json_t *retry = json_array();
    for (size_t i = 0; i < p->cfg.n_retry; i++)
        json_array_append_new(retry, json_integer((json_int_t)p->cfg.retry_ms[i]));
    json_t *out =
        json_pack("{s:I, s:I, s:o, s:o}", "queuedUpTo", (json_int_t)p->queued_up_to, "durableUpTo",
                  (json_int_t)p->durable_queued_up_to, "retryMs", retry, "subscribers", subs);
    p->api->resp_header(req, "Cache-Control", "no-store");
    p->api->respond_json(req, 200, NULL, out);
    return DTR_OK;
}

/* Reads {"ids": [...]} or {}: *seqs (malloc'd; NULL for "all"). Returns
 * -1 after answering the request itself when the body is refused. */
static int read_replay_body(portal *p, dtr_request *req, int64_t **seqs, size_t *n)
{
    *seqs = NULL;
    *n = 0;
    const char *ct = p->api->req_header(req, "Content-Type");
    size_t len = 0;
    const unsigned char *body = p->api->req_body(req, &len);
    if (len > 0 && (!ct || strncasecmp(ct, "application/json", 16) != 0)) {
        p->api->respond_problem(req, 415, "UGYLDIG_MEDIETYPE", NULL,
                                "kroppen skal være application/json");
        return -1;
    }
    json_error_t jerr;
    json_t *root = len > 0 ? json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr)
                           : json_object();
    if (!json_is_object(root)) {
        json_decref(root);
        p->api->respond_problem(req, 400, "UGYLDIG_JSON", NULL, "kroppen skal være et JSON-objekt");
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "ids") != 0) {
            p->api->respond_problem(req, 422, "UKENDT_FELT", key, "ukendt felt");
            json_decref(root); /* key lives in root */
            return -1;
        }
    }
    json_t *ids = json_object_get(root, "ids");
    if (ids) {
        if (!json_is_array(ids) || json_array_size(ids) > REPLAY_MAX_IDS) {
            json_decref(root);
            p->api->respond_problem(req, 422, "FORKERT_TYPE", "ids",
                                    "ids skal være en liste af hændelses-id'er");
            return -1;
        }
        *seqs = calloc(json_array_size(ids) + 1, sizeof **seqs);
        if (!*seqs) {
            json_decref(root);
            p->api->respond_problem(req, 503, "IKKE_KLAR", NULL, "ikke nok hukommelse");
            return -1;
        }
        size_t i;
        json_array_foreach(ids, i, v)
        {
            int64_t seq = portal_event_id_parse(json_string_value(v));
            if (seq <= 0) {
                free(*seqs);
                *seqs = NULL;
                json_decref(root);
                p->api->respond_problem(req, 422, "UGYLDIGT_FORMAT", "ids",
                                        "et id har formen dtr-<sekvensnummer>");
                return -1;
            }
            (*seqs)[(*n)++] = seq;
        }
    }
    json_decref(root);
    return 0;
}

static dtr_status replay_webhooks(dtr_request *req, void *udata)
{
    portal *p = udata;
    if (!allowed(p, req, false)) return DTR_OK;
    int64_t *seqs;
    size_t n;
    if (read_replay_body(p, req, &seqs, &n) != 0) return DTR_OK; /* answered */
    json_t *queued = json_array();
    size_t count = 0;
    for (size_t i = 0; i < p->n_subs; i++)
        count += portal_sub_replay(&p->subs[i], seqs, n, queued);
    json_t *unknown = json_array();
    for (size_t k = 0; seqs && k < n; k++) {
        bool found = false;
        for (size_t i = 0; i < p->n_subs && !found; i++)
            for (size_t j = 0; j < p->subs[i].n_parked && !found; j++)
                found = p->subs[i].parked[j].ev.seq == seqs[k];
        if (!found) {
            char id[32];
            portal_event_id(seqs[k], id);
            json_array_append_new(unknown, json_string(id));
        }
    }
    free(seqs);
    if (count > 0) {
        portal_state_changed(p);
        portal_pump_all(p);
    }
    p->api->respond_json(req, 202, NULL,
                         json_pack("{s:o, s:o}", "queued", queued, "unknown", unknown));
    return DTR_OK;
}

dtr_status portal_routes_add(portal *p, char *err, size_t errlen)
{
    if (p->api->route_add(p->self, "GET", "/v1/portal/webhooks", 0, list_webhooks, p, err,
                          errlen) != DTR_OK)
        return DTR_ERROR;
    return p->api->route_add(p->self, "POST", "/v1/portal/webhooks/replay", REPLAY_MAX_BODY,
                             replay_webhooks, p, err, errlen);
}
