/*
 * impostor.c -- a test plugin that tries what ABI 2.0 must not let a plugin
 * do, and what it must let it do (tests/integration/test_abi2.py).
 *
 * Routes:
 *   POST /impostor/forged      submits a create of a private daginstitution
 *                              (ejerform 3: support only) for an identity the
 *                              plugin made up itself: a struct laid out as a
 *                              client with role "support". Answers 200
 *                              {"submit": "declined" | "accepted", "err"}.
 *   POST /impostor/none        the same with no identity at all.
 *   POST /impostor/configured  the same create for identity_configured (the
 *                              client the plugin's dtr.json entry names);
 *                              answers the command's outcome:
 *                              {"status", "http", "nummer"}.
 *   POST /impostor/retained    authenticates the request, retains the
 *                              identity, answers 202 at once, and submits a
 *                              create for the retained identity after the
 *                              request ended (a multi-step operation whose
 *                              caller went away); logs "retained create
 *                              <status> <nummer>" and releases it.
 *   POST /impostor/keep-identity  authenticates the request, keeps its identity
 *                              WITHOUT identity_retain, answers 200.
 *   POST /impostor/use-kept    submits the create for that kept identity after
 *                              its request ended: {"submit": ...} as above.
 *   GET  /impostor/keep        answers "kept" and keeps its request handle.
 *   GET  /impostor/reuse       first answers the kept (spent) handle with 299
 *                              "stale" and reads a header through it, then
 *                              answers its own request 200 "fresh <header>":
 *                              with pooled request objects the stale call
 *                              would have answered this very request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dtr/plugin.h>

typedef struct impostor {
    dtr_plugin *self;
    const dtr_host_api *api;
} impostor;

static dtr_request *kept;                 /* GET /impostor/keep's handle, spent once answered */
static const dtr_identity *kept_identity; /* POST /impostor/keep-identity's, not retained */

/* What a plugin might try: a struct of its own, shaped like a client. */
struct forged_client {
    const char *id;
    const char *name;
    const char *role;
    const int *kommuner;
    size_t n_kommuner;
};

static const char *private_di =
    "{\"navn\": \"Impostor privat\", \"ejerformKode\": 3, \"lovgrundlagKode\": 4,"
    " \"admKommuneKode\": 147}";

static void impostor_noop_done(const dtr_command_result *res, void *udata)
{
    (void)res, (void)udata;
}

static dtr_status impostor_answer_submit(impostor *im, dtr_request *req, const dtr_identity *who)
{
    json_t *body = json_loads(private_di, 0, NULL);
    dtr_command cmd = {
        .op = DTR_OP_CREATE, .level = DTR_LEVEL_DAGINSTITUTION, .body = body, .if_match = -1};
    dtr_submission sub = {.commands = &cmd, .n_commands = 1};
    char err[256] = "";
    dtr_status st =
        im->api->command_submit(im->self, who, &sub, impostor_noop_done, NULL, err, sizeof err);
    json_decref(body);
    im->api->respond_json(req, 200, NULL,
                          json_pack("{s:s, s:s}", "submit",
                                    st == DTR_OK         ? "accepted"
                                    : st == DTR_DECLINED ? "declined"
                                                         : "error",
                                    "err", err));
    return DTR_OK;
}

static dtr_status impostor_forged(dtr_request *req, void *udata)
{
    static const int kommuner[] = {147};
    static const struct forged_client support = {"c_0000000000000000", "forged", "support",
                                                 kommuner, 1};
    return impostor_answer_submit(udata, req, (const dtr_identity *)&support);
}

static dtr_status impostor_none(dtr_request *req, void *udata)
{
    return impostor_answer_submit(udata, req, NULL);
}

typedef struct pending_answer {
    const dtr_host_api *api;
    dtr_request *req;
} pending_answer;

static void impostor_configured_done(const dtr_command_result *res, void *udata)
{
    pending_answer *p = udata;
    p->api->respond_json(p->req, 200, NULL,
                         json_pack("{s:i, s:i, s:s}", "status", (int)res->status, "http",
                                   res->http_status, "nummer", res->nummer ? res->nummer : ""));
    free(p);
}

static dtr_status impostor_configured(dtr_request *req, void *udata)
{
    impostor *im = udata;
    const dtr_identity *who = im->api->identity_configured(im->self);
    if (!who) {
        im->api->respond_problem(req, 503, "IKKE_KLAR", NULL, "no configured client");
        return DTR_OK;
    }
    json_t *body = json_loads(private_di, 0, NULL);
    dtr_command cmd = {
        .op = DTR_OP_CREATE, .level = DTR_LEVEL_DAGINSTITUTION, .body = body, .if_match = -1};
    dtr_submission sub = {.commands = &cmd, .n_commands = 1};
    pending_answer *p = malloc(sizeof *p);
    p->api = im->api;
    p->req = req;
    char err[256] = "";
    dtr_status st =
        im->api->command_submit(im->self, who, &sub, impostor_configured_done, p, err, sizeof err);
    json_decref(body);
    if (st != DTR_OK) {
        free(p);
        im->api->respond_problem(req, 500, "FEJL", NULL, err);
    }
    return DTR_OK;
}

typedef struct retained_call {
    impostor *im;
    const dtr_identity *who;
} retained_call;

static void impostor_retained_done(const dtr_command_result *res, void *udata)
{
    retained_call *rc = udata;
    rc->im->api->log(rc->im->self, DTR_LOG_INFO, "retained create %d %s", res->http_status,
                     res->nummer ? res->nummer : "");
    rc->im->api->identity_release(rc->im->self, rc->who);
    free(rc);
}

static dtr_status impostor_retained(dtr_request *req, void *udata)
{
    impostor *im = udata;
    const dtr_identity *who = NULL;
    if (im->api->req_authenticate(im->self, req, &who) != DTR_OK || !who) {
        im->api->respond_problem(req, 401, "IKKE_AUTENTIFICERET", NULL, "credentials needed");
        return DTR_OK;
    }
    im->api->identity_retain(im->self, who);
    im->api->respond(req, 202, "text/plain", "later", 5); /* the request ends here */
    retained_call *rc = malloc(sizeof *rc);
    rc->im = im;
    rc->who = who;
    json_t *body = json_loads(private_di, 0, NULL);
    dtr_command cmd = {
        .op = DTR_OP_CREATE, .level = DTR_LEVEL_DAGINSTITUTION, .body = body, .if_match = -1};
    dtr_submission sub = {.commands = &cmd, .n_commands = 1};
    char err[256] = "";
    if (im->api->command_submit(im->self, who, &sub, impostor_retained_done, rc, err, sizeof err) !=
        DTR_OK) {
        im->api->log(im->self, DTR_LOG_ERROR, "retained create refused: %s", err);
        im->api->identity_release(im->self, who);
        free(rc);
    }
    json_decref(body);
    return DTR_OK;
}

static dtr_status impostor_keep_identity(dtr_request *req, void *udata)
{
    impostor *im = udata;
    if (im->api->req_authenticate(im->self, req, &kept_identity) != DTR_OK || !kept_identity) {
        im->api->respond_problem(req, 401, "IKKE_AUTENTIFICERET", NULL, "credentials needed");
        return DTR_OK;
    }
    im->api->respond(req, 200, "text/plain", "kept", 4);
    return DTR_OK;
}

static dtr_status impostor_use_kept(dtr_request *req, void *udata)
{
    return impostor_answer_submit(udata, req, kept_identity);
}

static dtr_status impostor_keep(dtr_request *req, void *udata)
{
    impostor *im = udata;
    kept = req;
    im->api->respond(req, 200, "text/plain", "kept", 4);
    return DTR_OK;
}

static dtr_status impostor_reuse(dtr_request *req, void *udata)
{
    impostor *im = udata;
    const char *through_stale = kept ? im->api->req_header(kept, "X-Probe") : NULL;
    if (kept) im->api->respond(kept, 299, "text/plain", "stale", 5);
    char text[64];
    int n = snprintf(text, sizeof text, "fresh %s", through_stale ? through_stale : "(none)");
    im->api->respond(req, 200, "text/plain", text, (size_t)n);
    return DTR_OK;
}

static dtr_status impostor_init(dtr_plugin *self, const dtr_host_api *api, const json_t *config,
                                void **state, char *err, size_t errlen)
{
    (void)config;
    impostor *im = calloc(1, sizeof *im);
    if (!im) return DTR_ERROR;
    im->self = self;
    im->api = api;
    *state = im;
    static const struct {
        const char *method, *path;
        dtr_route_fn fn;
    } routes[] = {
        {"POST", "/impostor/forged", impostor_forged},
        {"POST", "/impostor/none", impostor_none},
        {"POST", "/impostor/configured", impostor_configured},
        {"POST", "/impostor/retained", impostor_retained},
        {"POST", "/impostor/keep-identity", impostor_keep_identity},
        {"POST", "/impostor/use-kept", impostor_use_kept},
        {"GET", "/impostor/keep", impostor_keep},
        {"GET", "/impostor/reuse", impostor_reuse},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (api->route_add(self, routes[i].method, routes[i].path, 0, routes[i].fn, im, err,
                           errlen) != DTR_OK)
            return DTR_ERROR;
    return DTR_OK;
}

static void impostor_free(void *state)
{
    free(state);
}

DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_entry = {
    .abi_major = DTR_ABI_MAJOR,
    .abi_minor = DTR_ABI_MINOR,
    .struct_size = sizeof(dtr_plugin_descriptor),
    .name = "impostor",
    .version = "1.0.0",
    .kinds = DTR_KIND_PROTOCOL,
    .init = impostor_init,
    .free = impostor_free,
};
