/*
 * people.c -- the web UI's people in `dtr serve` (people.h): the host API's
 * session_login, session_logout, session_password and session_csrf over
 * core/auth's sessions (auth/person.h), the session cookie as a credential
 * for req_authenticate (an identity per session, "bruger:<name>"), the
 * login audit entries through the store's writer, and the host's route
 * GET /v1/spor/{nummer} (a record's hændelser and audit entries).
 */
#include "people.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "net/net.h"
#include "store/store.h"

struct people {
    person_sessions *sessions;
    ident_registry *idents;
    store *store;
    ops_log *log;
    const dtr_host_api *api;
    void (*resp_header)(dtr_request *req, const char *name, const char *value); /* the net's */
};

/* The one people of the process (session_* get no context beyond the
 * plugin, like the rest of the services). */
static people *people_current;

/* ---- audit and identities ---------------------------------------------------------- */

static void people_audit_done(const store_result *res, void *udata)
{
    people *p = udata;
    if (res->status != 0 && people_current == p)
        ops_log_write(p->log, OPS_LOG_ERROR, "people", "a login audit entry failed (%d)",
                      res->status);
}

static void people_audit(void *udata, const char *operation, const char *actor,
                         const char *request_id, const char *detail)
{
    people *p = udata;
    char now[40];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    audit_entry e = {.tidspunkt = now,
                     .actor = actor,
                     .request_id = request_id && *request_id ? request_id : NULL,
                     .operation = operation,
                     .after = detail};
    if (store_audit(p->store, &e, people_audit_done, p) != 0)
        ops_log_write(p->log, OPS_LOG_WARN, "people", "%s of %s not audited: the store is closing",
                      operation, actor);
}

static void people_ident_free(void *udata, void *ident)
{
    people *p = udata;
    ident_release(p->idents, ident);
}

/* The identity of a live session: made on first use, kept with the session. */
static const dtr_identity *people_identity(people *p, const person_session_info *info)
{
    if (!*info->ident_slot)
        *info->ident_slot = (void *)ident_new(
            p->idents, info->actor, info->name,
            info->reg_role == REG_ROLE_SUPPORT ? "support" : "laeser", NULL, 0, true);
    return *info->ident_slot;
}

bool people_has_cookie(people *p, dtr_request *req)
{
    const char *cookie = p ? p->api->req_header(req, "Cookie") : NULL;
    return cookie && strstr(cookie, "dtr_session=");
}

dtr_status people_authenticate(people *p, dtr_request *req, const dtr_identity **who)
{
    *who = NULL;
    if (!people_has_cookie(p, req)) return DTR_OK;
    person_session_info info;
    int st = person_session_check(p->sessions, p->api->req_header(req, "Cookie"),
                                  p->api->req_method(req), p->api->req_header(req, "X-CSRF-Token"),
                                  &info);
    if (st == PERSON_SESSION_NONE) return DTR_OK;
    if (st == PERSON_SESSION_EXPIRED) return DTR_DECLINED;
    if (st == PERSON_SESSION_CSRF) return DTR_INVALID;
    *who = people_identity(p, &info);
    net_request_set_client(req, info.actor);
    return *who ? DTR_OK : DTR_ERROR;
}

/* resp_header for every plugin: a Basic challenge (WWW-Authenticate) is
 * left out of the answer to a browser that sent a session cookie and no
 * Authorization, since it would make the browser show its own login dialog
 * over the web UI; the 401 itself tells the page to log in again. */
static void (*net_resp_header)(dtr_request *req, const char *name, const char *value);

static void people_resp_header(dtr_request *req, const char *name, const char *value)
{
    people *p = people_current;
    if (!p) {
        net_resp_header(req, name, value);
        return;
    }
    if (strcasecmp(name, "WWW-Authenticate") == 0 && !p->api->req_header(req, "Authorization") &&
        people_has_cookie(p, req))
        return;
    p->resp_header(req, name, value);
}

/* ---- the host API's session functions -------------------------------------------------- */

typedef struct people_call {
    dtr_request *req;
    dtr_session_fn done;
    void *udata;
} people_call;

static void people_login_done(const person_login_result *res, void *udata)
{
    people_call *call = udata;
    people *p = people_current;
    dtr_status st = res->status == PERSON_OK          ? DTR_OK
                    : res->status == PERSON_DECLINED  ? DTR_DECLINED
                    : res->status == PERSON_THROTTLED ? DTR_RETRY
                                                      : DTR_ERROR;
    if (st == DTR_OK && res->cookie && p) {
        p->api->resp_header(call->req, "Set-Cookie", res->cookie);
    }
    dtr_login_result out = {.must_change_password = res->must_change ? 1 : 0,
                            .retry_after_s = res->retry_after_s};
    call->done(call->req, st, &out, res->tekst, call->udata);
    free(call);
}

static people_call *people_call_new(dtr_request *req, dtr_session_fn done, void *udata)
{
    people_call *call = malloc(sizeof *call);
    if (!call) abort();
    *call = (people_call){req, done, udata};
    return call;
}

static dtr_status people_session_login(dtr_plugin *self, dtr_request *req, const char *user,
                                       const char *password, dtr_session_fn done, void *udata)
{
    (void)self;
    people *p = people_current;
    if (!p || !done) return DTR_ERROR;
    people_call *call = people_call_new(req, done, udata);
    if (person_login(p->sessions, user, password, net_request_peer(req), p->api->req_id(req),
                     people_login_done, call) != 0) {
        free(call);
        return DTR_ERROR;
    }
    return DTR_OK;
}

static dtr_status people_session_logout(dtr_plugin *self, dtr_request *req)
{
    (void)self;
    people *p = people_current;
    if (!p) return DTR_ERROR;
    const char *clear =
        person_logout(p->sessions, p->api->req_header(req, "Cookie"), p->api->req_id(req));
    p->api->resp_header(req, "Set-Cookie", clear);
    return DTR_OK;
}

static dtr_status people_session_password(dtr_plugin *self, dtr_request *req, const char *old,
                                          const char *neu, dtr_session_fn done, void *udata)
{
    (void)self;
    people *p = people_current;
    if (!p || !done) return DTR_ERROR;
    people_call *call = people_call_new(req, done, udata);
    if (person_change_password(p->sessions, p->api->req_header(req, "Cookie"), old, neu,
                               p->api->req_id(req), people_login_done, call) != 0) {
        free(call);
        return DTR_DECLINED;
    }
    return DTR_OK;
}

static const char *people_session_csrf(dtr_plugin *self, dtr_request *req)
{
    (void)self;
    people *p = people_current;
    return p ? person_session_csrf(p->sessions, p->api->req_header(req, "Cookie")) : NULL;
}

/* ---- GET /v1/spor/{nummer} ------------------------------------------------------------------ */

dtr_status people_route_spor(dtr_request *req, void *udata)
{
    (void)udata;
    people *p = people_current;
    const dtr_host_api *api = p->api;
    const dtr_identity *who = NULL;
    dtr_status st = api->req_authenticate(NULL, req, &who);
    dtr_identity_info info = {0};
    if (who) ident_info(who, &info);
    if (st == DTR_ERROR) {
        api->respond_problem(req, 503, "IKKE_KLAR", NULL, "brugerne kan ikke læses nu");
        return DTR_OK;
    }
    if (st != DTR_OK || !who) {
        api->resp_header(req, "WWW-Authenticate", "Basic realm=\"dtr\"");
        api->respond_problem(req, 401, "IKKE_AUTENTIFICERET", NULL,
                             "sporet kræver en supportbruger eller en administrator");
        return DTR_OK;
    }
    if (strcmp(info.role, "support") != 0 && strcmp(info.role, "admin") != 0) {
        api->respond_problem(req, 403, "IKKE_TILLADT", NULL, "kun support og administratorer");
        return DTR_OK;
    }
    const char *nummer = api->req_param(req, "nummer");
    bool ok = nummer && strlen(nummer) == 6 && nummer[0] >= 'A' && nummer[0] <= 'Z' &&
              strspn(nummer + 1, "0123456789") == 5;
    if (!ok) {
        api->respond_problem(req, 400, "UGYLDIG_PARAMETER", "nummer",
                             "et nummer er et stort bogstav og fem cifre");
        return DTR_OK;
    }
    char err[256];
    store_reader *r = store_reader_open(p->store, err, sizeof err);
    json_t *out = NULL;
    int rc = r ? store_trail(r, nummer, &out) : 503;
    if (r) store_reader_close(r);
    if (rc != 0) {
        api->respond_problem(req, 503, "IKKE_KLAR", NULL, "registeret kan ikke læses nu");
        return DTR_OK;
    }
    api->resp_header(req, "Cache-Control", "no-store");
    api->respond_json(req, 200, NULL, out);
    return DTR_OK;
}

/* ---- open and close ------------------------------------------------------------------------- */

people *people_open(const people_options *o, char *err, size_t errlen)
{
    people *p = calloc(1, sizeof *p);
    if (!p) abort();
    p->idents = o->idents;
    p->store = o->store;
    p->log = o->log;
    p->api = o->api;
    person_sessions_options so = {.loop = o->loop,
                                  .data_dir = o->data_dir,
                                  .key = o->key,
                                  .idle_ms = o->sessions ? o->sessions->idle_ms : 0,
                                  .max_ms = o->sessions ? o->sessions->max_ms : 0,
                                  .secure_cookie = o->sessions && o->sessions->behind_tls,
                                  .audit = people_audit,
                                  .audit_udata = p,
                                  .ident_free = people_ident_free,
                                  .ident_udata = p};
    p->sessions = person_sessions_open(&so, err, errlen);
    if (!p->sessions) {
        free(p);
        return NULL;
    }
    if (o->api_edit->resp_header != people_resp_header) net_resp_header = o->api_edit->resp_header;
    p->resp_header = net_resp_header;
    o->api_edit->resp_header = people_resp_header;
    o->api_edit->session_login = people_session_login;
    o->api_edit->session_logout = people_session_logout;
    o->api_edit->session_password = people_session_password;
    o->api_edit->session_csrf = people_session_csrf;
    people_current = p;
    return p;
}

void people_close(people *p)
{
    if (!p) return;
    if (people_current == p) people_current = NULL;
    person_sessions_close(p->sessions);
    free(p);
}
