/*
 * write.c -- the write handlers: POST (create), PATCH (update), POST
 * .../nedlaeg (close), DELETE, POST .../flyt (move). Each turns the request
 * into one register command and answers when the command's transaction has
 * committed (the change is on disk) or been refused. With ?kontroller=true
 * the command is a dry run: the same checks and answer, nothing written.
 *
 * The plugin checks only what HTTP decides, in API.md's order: credentials
 * (401), media type (415), syntax (400: JSON, path segment). Everything else
 * -- the target exists (404/410), the fields (422), the parent (422),
 * authorization (403), If-Match (412), cross-validation (422) and the 409
 * rules -- is decided by the register inside the write transaction, and its
 * refusal comes back in the command result with the status and fejl list.
 *
 * Lifetimes: a write_ctx lives from command_submit until the command's
 * callback, which always runs (once submit accepted it). When the client
 * goes away first, the abort callback forgets the request; the command
 * still completes (it may already be on disk) and its callback only frees
 * the context. The context holds the host table (process lifetime) and a
 * route of the static table, never the instance, so a reload cannot pull
 * anything from under it. Loop thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rest.h"

typedef struct write_ctx {
    const dtr_host_api *api;
    const rest_route *route;
    dtr_request *req;  /* NULL once the client went away */
    rest_cache *cache; /* the instance's; used only while req is alive (so is the instance) */
} write_ctx;

dtr_op rest_op_of(rest_kind kind)
{
    switch (kind) {
    case REST_UPDATE:
        return DTR_OP_UPDATE;
    case REST_CLOSE:
        return DTR_OP_CLOSE;
    case REST_DELETE:
        return DTR_OP_DELETE;
    case REST_MOVE:
        return DTR_OP_MOVE;
    case REST_REOPEN:
        return DTR_OP_REOPEN;
    default:
        return DTR_OP_CREATE;
    }
}

/* The client went away: the command's answer has no one to go to. */
static void rest_write_abort(dtr_request *req, void *udata)
{
    (void)req;
    write_ctx *ctx = udata;
    ctx->req = NULL;
}

/* The command committed or was refused: answer it. */
static void rest_write_done(const dtr_command_result *res, void *udata)
{
    write_ctx *ctx = udata;
    dtr_request *req = ctx->req;
    const dtr_host_api *api = ctx->api;
    const rest_route *route = ctx->route;
    rest_cache *cache = ctx->cache;
    free(ctx);
    if (!req) return;
    api->req_on_abort(req, NULL, NULL);
    /* the client learns of a new state: no GET may be answered from an older one */
    if (!res->dry_run) rest_cache_stale(cache);
    if (res->status != DTR_OK) {
        rest_problem_fejl(api, req, res->http_status, res->fejl);
        return;
    }
    if (res->dry_run) api->resp_header(req, "Kontrolleret", "true");
    if (res->replayed) api->resp_header(req, "Idempotent-Replayed", "true");
    if (route->kind == REST_DELETE) {
        api->respond(req, 204, NULL, NULL, 0);
        return;
    }
    rest_set_etag(api, req, res->version);
    int status = 200;
    if (route->kind == REST_CREATE) {
        char location[96];
        snprintf(location, sizeof location, "/v1/%s/%s", rest_collection(res->level),
                 res->nummer ? res->nummer : "");
        api->resp_header(req, "Location", location);
        status = 201;
    }
    if (res->record)
        api->respond_json(req, status, NULL, json_incref((json_t *)res->record));
    else
        api->respond(req, status, NULL, NULL, 0);
}

/* The body of a write, checked for media type (415) and syntax (400).
 * Returns the parsed body (new reference), or NULL after answering. */
static json_t *rest_write_body(rest *r, dtr_request *req, const rest_route *route)
{
    const dtr_host_api *api = r->api;
    bool merge_patch = route->kind == REST_UPDATE;
    if (!rest_media_type_ok(api->req_header(req, "Content-Type"), merge_patch)) {
        rest_problem(api, req, 415, "UGYLDIG_MEDIETYPE", NULL,
                     merge_patch ? "Content-Type skal være application/json eller "
                                   "application/merge-patch+json"
                                 : "Content-Type skal være application/json");
        return NULL;
    }
    size_t len = 0;
    const unsigned char *bytes = api->req_body(req, &len);
    char why[256];
    json_t *body = rest_parse_body(bytes, len, why, sizeof why);
    if (!body) rest_problem(api, req, 400, "UGYLDIG_JSON", NULL, why);
    return body;
}

/* Checks an Idempotency-Key: 1 to 255 visible ASCII characters. */
bool rest_idempotency_key_ok(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > 255) return false;
    for (size_t i = 0; i < n; i++)
        if (key[i] < 0x21 || key[i] > 0x7e) return false;
    return true;
}

dtr_status rest_handle_write(dtr_request *req, void *udata)
{
    const rest_binding *b = udata;
    rest *r = b->r;
    const rest_route *route = b->route;
    const dtr_host_api *api = r->api;

    const dtr_identity *who;
    if (!rest_auth(r, req, true, &who)) return DTR_OK;
    uint32_t flags;
    if (!rest_read_dry_run(r, req, &flags)) return DTR_OK;

    json_t *body = NULL;
    if (route->kind != REST_DELETE) {
        body = rest_write_body(r, req, route);
        if (!body) return DTR_OK;
    }
    const char *nummer = NULL;
    if (route->kind != REST_CREATE) {
        nummer = rest_read_nummer(r, req);
        if (!nummer) {
            json_decref(body);
            return DTR_OK;
        }
    }
    dtr_command cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.op = rest_op_of(route->kind);
    cmd.level = route->level;
    cmd.nummer = nummer;
    cmd.body = body;
    cmd.if_match =
        route->kind == REST_CREATE ? -1 : rest_parse_if_match(api->req_header(req, "If-Match"));
    dtr_submission sub = {.commands = &cmd, .n_commands = 1, .flags = flags};
    sub.request_id = api->req_id(req);
    if (route->kind == REST_CREATE) {
        const char *key = api->req_header(req, "Idempotency-Key");
        if (key && !rest_idempotency_key_ok(key)) {
            json_decref(body);
            rest_problem(api, req, 400, "UGYLDIG_FORESPOERGSEL", "Idempotency-Key",
                         "Idempotency-Key skal være 1-255 synlige ASCII-tegn");
            return DTR_OK;
        }
        sub.idempotency_key = key;
        sub.body_bytes = api->req_body(req, &sub.body_len);
    }

    write_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        json_decref(body);
        rest_problem(api, req, 503, "IKKE_KLAR", NULL, "ikke mere hukommelse");
        return DTR_OK;
    }
    ctx->api = api;
    ctx->route = route;
    ctx->req = req;
    ctx->cache = r->cache;
    api->req_on_abort(req, rest_write_abort, ctx);
    char err[256] = "";
    dtr_status st = api->command_submit(r->self, who, &sub, rest_write_done, ctx, err, sizeof err);
    json_decref(body);
    if (st != DTR_OK) {
        api->req_on_abort(req, NULL, NULL);
        free(ctx);
        rest_problem(api, req, 503, "IKKE_KLAR", NULL,
                     err[0] ? err : "registeret tager ikke imod ændringer lige nu");
    }
    return DTR_OK;
}

bool rest_read_dry_run(rest *r, dtr_request *req, uint32_t *flags)
{
    const char *v = r->api->req_query(req, "kontroller");
    *flags = 0;
    if (!v || strcmp(v, "false") == 0) return true;
    if (strcmp(v, "true") == 0) {
        *flags = DTR_SUBMIT_DRY_RUN;
        return true;
    }
    rest_problem(r->api, req, 400, "UGYLDIG_PARAMETER", "kontroller",
                 "kontroller skal være true eller false");
    return false;
}
