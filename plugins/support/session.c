/*
 * session.c -- STIL support's workplace: GET /support/ (the page) and the
 * person's session, over the host's session functions (the host owns people
 * and sessions; this plugin carries a name and a password to it and its
 * answer back):
 *
 *   GET  /support/api/session     {"navn", "rolle", "csrf", "skalSkifteAdgangskode"};
 *                                 401 without a live session
 *   POST /support/api/login       {"brugernavn", "adgangskode"}: 200 as above plus the
 *                                 session cookie; 401 wrong; 429 throttled (Retry-After)
 *   POST /support/api/logout      204, the cookie cleared
 *   POST /support/api/adgangskode {"nuvaerende", "ny"}: 204; 422 refused
 *
 * Writes under /support/api/ need the session's X-CSRF-Token like every
 * other write of a session (login excepted: there is no session yet).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define LOGIN_MAX_BODY 4096

static dtr_status support_route_workplace(dtr_request *req, void *udata)
{
    support_send_asset(udata, req, "support.html");
    return DTR_OK;
}

#if DTR_ABI_MAJOR >= 2 /* sessions and identities came with ABI 2.0 */

/* Parses a small JSON object body; NULL after answering 400/415. */
static json_t *support_body(support_plugin *sp, dtr_request *req)
{
    const dtr_host_api *api = sp->api;
    const char *type = api->req_header(req, "Content-Type");
    if (!type || strncmp(type, "application/json", 16) != 0) {
        api->respond_problem(req, 415, "UGYLDIG_MEDIETYPE", NULL, "send application/json");
        return NULL;
    }
    size_t len = 0;
    const unsigned char *body = api->req_body(req, &len);
    json_t *j = body ? json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!json_is_object(j)) {
        json_decref(j);
        api->respond_problem(req, 400, "UGYLDIG_JSON", NULL, "forventede et JSON-objekt");
        return NULL;
    }
    return j;
}

/* Whether the person must still change a one-time password: remembered
 * from their login (the host's identity says only the role it grants). */
static bool must_change(support_plugin *sp, const char *name)
{
    for (size_t i = 0; i < sp->n_must_change; i++)
        if (strcmp(sp->must_change[i], name) == 0) return true;
    return false;
}

static void set_must_change(support_plugin *sp, const char *name, bool on)
{
    for (size_t i = 0; i < sp->n_must_change; i++)
        if (strcmp(sp->must_change[i], name) == 0) {
            if (!on) {
                free(sp->must_change[i]);
                sp->must_change[i] = sp->must_change[--sp->n_must_change];
            }
            return;
        }
    if (!on || sp->n_must_change == SUPPORT_MAX_MUST_CHANGE) return;
    sp->must_change[sp->n_must_change] = strdup(name);
    if (sp->must_change[sp->n_must_change]) sp->n_must_change++;
}

dtr_status support_person(support_plugin *sp, dtr_request *req, dtr_identity_info *info,
                          bool answer)
{
    const dtr_host_api *api = sp->api;
    const dtr_identity *who = NULL;
    dtr_status st = api->req_authenticate(sp->self, req, &who);
    if (st == DTR_OK && who && api->identity_info(sp->self, who, info) == DTR_OK && info->person)
        return DTR_OK;
    if (!answer) return DTR_DECLINED;
    if (st == DTR_INVALID)
        api->respond_problem(req, 403, "IKKE_TILLADT", NULL,
                             "skrivning kræver sessionens X-CSRF-Token");
    else if (st == DTR_ERROR)
        api->respond_problem(req, 503, "IKKE_KLAR", NULL, "brugerne kan ikke læses nu");
    else
        api->respond_problem(req, 401, "IKKE_AUTENTIFICERET", NULL, "log ind først");
    return DTR_DECLINED;
}

static dtr_status support_route_session(dtr_request *req, void *udata)
{
    support_plugin *sp = udata;
    dtr_identity_info info;
    if (support_person(sp, req, &info, true) != DTR_OK) return DTR_OK;
    const char *csrf = sp->api->session_csrf(sp->self, req);
    sp->api->resp_header(req, "Cache-Control", "no-store");
    sp->api->respond_json(req, 200, NULL,
                          json_pack("{s:s, s:s, s:s?, s:b}", "navn", info.name, "rolle", info.role,
                                    "csrf", csrf, "skalSkifteAdgangskode",
                                    must_change(sp, info.name)));
    return DTR_OK;
}

/* A login or password change on its way through the host. */
typedef struct support_call {
    support_plugin *sp;
    char name[80];
} support_call;

static void support_login_done(dtr_request *req, dtr_status st, const dtr_login_result *res,
                               const char *tekst, void *udata)
{
    support_call *call = udata;
    support_plugin *sp = call->sp;
    const dtr_host_api *api = sp->api;
    if (!req) { /* the client went away meanwhile */
        free(call);
        return;
    }
    if (st == DTR_OK) {
        set_must_change(sp, call->name, res->must_change_password != 0);
        api->resp_header(req, "Cache-Control", "no-store");
        api->respond_json(req, 200, NULL,
                          json_pack("{s:s, s:b}", "navn", call->name, "skalSkifteAdgangskode",
                                    res->must_change_password != 0));
    } else if (st == DTR_RETRY) {
        char after[16];
        snprintf(after, sizeof after, "%d", res->retry_after_s > 0 ? res->retry_after_s : 1);
        api->resp_header(req, "Retry-After", after);
        json_t *p =
            json_pack("{s:s, s:s, s:i, s:s, s:i, s:[{s:s, s:n, s:s}]}", "type", "about:blank",
                      "title", "Too Many Requests", "status", 429, "detail",
                      tekst ? tekst : "for mange forsøg", "retryAfter", res->retry_after_s, "fejl",
                      "kode", "FOR_MANGE", "felt", "tekst", tekst ? tekst : "for mange forsøg");
        api->respond_json(req, 429, "application/problem+json", p);
    } else if (st == DTR_DECLINED) {
        api->respond_problem(req, 401, "IKKE_AUTENTIFICERET", NULL,
                             tekst ? tekst : "forkert brugernavn eller adgangskode");
    } else {
        api->respond_problem(req, 503, "IKKE_KLAR", NULL, tekst ? tekst : "prøv igen");
    }
    free(call);
}

static dtr_status support_route_login(dtr_request *req, void *udata)
{
    support_plugin *sp = udata;
    json_t *body = support_body(sp, req);
    if (!body) return DTR_OK;
    const char *user = json_string_value(json_object_get(body, "brugernavn"));
    const char *pass = json_string_value(json_object_get(body, "adgangskode"));
    if (!user || !pass) {
        json_decref(body);
        sp->api->respond_problem(req, 422, "MANGLER_FELT", user ? "adgangskode" : "brugernavn",
                                 "brugernavn og adgangskode skal udfyldes");
        return DTR_OK;
    }
    support_call *call = calloc(1, sizeof *call);
    if (!call) abort();
    call->sp = sp;
    snprintf(call->name, sizeof call->name, "%s", user);
    if (sp->api->session_login(sp->self, req, user, pass, support_login_done, call) != DTR_OK) {
        free(call);
        sp->api->respond_problem(req, 503, "IKKE_KLAR", NULL, "serveren lukker");
    }
    json_decref(body);
    return DTR_OK;
}

static dtr_status support_route_logout(dtr_request *req, void *udata)
{
    support_plugin *sp = udata;
    dtr_identity_info info;
    if (support_person(sp, req, &info, true) != DTR_OK) return DTR_OK;
    sp->api->session_logout(sp->self, req);
    sp->api->respond(req, 204, NULL, NULL, 0);
    return DTR_OK;
}

static void support_password_done(dtr_request *req, dtr_status st, const dtr_login_result *res,
                                  const char *tekst, void *udata)
{
    (void)res;
    support_call *call = udata;
    support_plugin *sp = call->sp;
    if (!req) {
        free(call);
        return;
    }
    if (st == DTR_OK) {
        set_must_change(sp, call->name, false);
        sp->api->respond(req, 204, NULL, NULL, 0);
    } else if (st == DTR_DECLINED) {
        sp->api->respond_problem(req, 422, "UGYLDIG_ADGANGSKODE", "ny",
                                 tekst ? tekst : "adgangskoden blev afvist");
    } else {
        sp->api->respond_problem(req, 503, "IKKE_KLAR", NULL, tekst ? tekst : "prøv igen");
    }
    free(call);
}

static dtr_status support_route_password(dtr_request *req, void *udata)
{
    support_plugin *sp = udata;
    dtr_identity_info info;
    if (support_person(sp, req, &info, true) != DTR_OK) return DTR_OK;
    json_t *body = support_body(sp, req);
    if (!body) return DTR_OK;
    const char *old = json_string_value(json_object_get(body, "nuvaerende"));
    const char *neu = json_string_value(json_object_get(body, "ny"));
    if (!old || !neu) {
        json_decref(body);
        sp->api->respond_problem(req, 422, "MANGLER_FELT", old ? "ny" : "nuvaerende",
                                 "udfyld den nuværende og den nye adgangskode");
        return DTR_OK;
    }
    support_call *call = calloc(1, sizeof *call);
    if (!call) abort();
    call->sp = sp;
    snprintf(call->name, sizeof call->name, "%s", info.name);
    if (sp->api->session_password(sp->self, req, old, neu, support_password_done, call) != DTR_OK) {
        free(call);
        sp->api->respond_problem(req, 401, "IKKE_AUTENTIFICERET", NULL, "log ind først");
    }
    json_decref(body);
    return DTR_OK;
}

dtr_status support_session_routes(support_plugin *sp, char *err, size_t errlen)
{
    const dtr_host_api *api = sp->api;
    if (api->route_add(sp->self, "GET", "/support/", 0, support_route_workplace, sp, err, errlen) !=
            DTR_OK ||
        api->route_add(sp->self, "GET", "/support/api/session", 0, support_route_session, sp, err,
                       errlen) != DTR_OK ||
        api->route_add(sp->self, "POST", "/support/api/login", LOGIN_MAX_BODY, support_route_login,
                       sp, err, errlen) != DTR_OK ||
        api->route_add(sp->self, "POST", "/support/api/logout", LOGIN_MAX_BODY,
                       support_route_logout, sp, err, errlen) != DTR_OK ||
        api->route_add(sp->self, "POST", "/support/api/adgangskode", LOGIN_MAX_BODY,
                       support_route_password, sp, err, errlen) != DTR_OK)
        return DTR_ERROR;
    return DTR_OK;
}

#else
dtr_status support_session_routes(support_plugin *sp, char *err, size_t errlen)
{
    return sp->api->route_add(sp->self, "GET", "/support/", 0, support_route_workplace, sp, err,
                              errlen);
}
#endif

void support_session_free(support_plugin *sp)
{
    for (size_t i = 0; i < sp->n_must_change; i++)
        free(sp->must_change[i]);
    sp->n_must_change = 0;
}
