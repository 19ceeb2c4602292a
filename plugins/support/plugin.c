/*
 * plugin.c -- the support plugin (kind PROTOCOL): the web UI of the register,
 * in Danish (API.md, The web UI).
 *
 *   GET /                    the public landing page and search
 *   GET /dagtilbud/{nummer}  a dagtilbud's public page
 *   GET /support/            STIL support's workplace (login first)
 *   GET /ui/{fil}            the pages' CSS and JavaScript modules
 *   /support/api/...         the person's session (session.c), the consistency
 *                            report (report.c)
 *
 * The pages are static files (www/, compiled into the .so by embed.cmake);
 * their JavaScript modules read and write through the JSON REST API with
 * fetch, so every write goes through the same register commands as REST and
 * SOAP. The person's session (a cookie the host issues, session.c) is what
 * authenticates those calls. Every answer carries a strict
 * Content-Security-Policy (nothing inline, nothing from elsewhere) and an
 * ETag; an unchanged file answers 304. Its config takes no keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* What every page and file is sent with: only this server's own scripts,
 * styles and images; no framing; no referrer to other sites. */
static const char support_csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/* The Content-Type of an asset by its name's extension. */
static const char *support_type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot) return "application/octet-stream";
    if (strcmp(dot, ".html") == 0) return "text/html; charset=utf-8";
    if (strcmp(dot, ".css") == 0) return "text/css; charset=utf-8";
    if (strcmp(dot, ".js") == 0) return "text/javascript; charset=utf-8";
    if (strcmp(dot, ".svg") == 0) return "image/svg+xml";
    if (strcmp(dot, ".png") == 0) return "image/png";
    return "application/octet-stream";
}

/* 64-bit FNV-1a of the bytes: an asset's ETag (they never change while the
 * .so is loaded, so it is computed once). */
static uint64_t support_fnv(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

const support_asset *support_asset_find(const char *name, size_t *index)
{
    for (size_t i = 0; support_assets[i].name; i++)
        if (strcmp(support_assets[i].name, name) == 0) {
            if (index) *index = i;
            return &support_assets[i];
        }
    return NULL;
}

void support_security_headers(support_plugin *sp, dtr_request *req)
{
    const dtr_host_api *api = sp->api;
    api->resp_header(req, "Content-Security-Policy", support_csp);
    api->resp_header(req, "X-Content-Type-Options", "nosniff");
    api->resp_header(req, "Referrer-Policy", "same-origin");
    api->resp_header(req, "X-Frame-Options", "DENY");
}

/* Answers one asset: 200 with its bytes, or 304 when the client's
 * If-None-Match names its ETag. Pages and files are revalidated on every
 * use (no-cache), which costs one small request and never shows a stale
 * page after an upgrade. */
void support_send_asset(support_plugin *sp, dtr_request *req, const char *name)
{
    const dtr_host_api *api = sp->api;
    size_t i = 0;
    const support_asset *a = support_asset_find(name, &i);
    if (!a) {
        api->respond_problem(req, 404, "FINDES_IKKE", NULL, "siden findes ikke");
        return;
    }
    support_security_headers(sp, req);
    api->resp_header(req, "Cache-Control", "no-cache");
    api->resp_header(req, "ETag", sp->etags[i]);
    const char *inm = api->req_header(req, "If-None-Match");
    if (inm && strstr(inm, sp->etags[i])) {
        api->respond(req, 304, NULL, NULL, 0);
        return;
    }
    api->respond(req, 200, support_type_of(a->name), a->bytes, a->len);
}

static dtr_status support_route_index(dtr_request *req, void *udata)
{
    support_send_asset(udata, req, "index.html");
    return DTR_OK;
}

static dtr_status support_route_dagtilbud(dtr_request *req, void *udata)
{
    support_send_asset(udata, req, "dagtilbud.html");
    return DTR_OK;
}

/* /ui/{fil}: the CSS, the modules and the icons; not the pages themselves
 * (they have their own addresses). */
static dtr_status support_route_file(dtr_request *req, void *udata)
{
    support_plugin *sp = udata;
    const char *fil = sp->api->req_param(req, "fil");
    const char *dot = fil ? strrchr(fil, '.') : NULL;
    if (!fil || (dot && strcmp(dot, ".html") == 0)) {
        sp->api->respond_problem(req, 404, "FINDES_IKKE", NULL, "filen findes ikke");
        return DTR_OK;
    }
    support_send_asset(sp, req, fil);
    return DTR_OK;
}

static dtr_status support_init(dtr_plugin *self, const dtr_host_api *api, const json_t *config,
                               void **state, char *err, size_t errlen)
{
    if (config && !json_is_object(config)) {
        snprintf(err, errlen, "support: the config must be an object");
        return DTR_DECLINED;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)config, key, v)
    {
        snprintf(err, errlen, "support.%s: unknown key (support takes none)", key);
        return DTR_DECLINED;
    }
    support_plugin *sp = calloc(1, sizeof *sp);
    if (!sp) abort();
    sp->self = self;
    sp->api = api;
    size_t n = 0;
    while (support_assets[n].name)
        n++;
    sp->etags = calloc(n ? n : 1, sizeof *sp->etags);
    if (!sp->etags) abort();
    for (size_t i = 0; i < n; i++)
        snprintf(sp->etags[i], sizeof sp->etags[i], "\"%016llx\"",
                 (unsigned long long)support_fnv(support_assets[i].bytes, support_assets[i].len));
    if (api->route_add(self, "GET", "/", 0, support_route_index, sp, err, errlen) != DTR_OK ||
        api->route_add(self, "GET", "/dagtilbud/{nummer}", 0, support_route_dagtilbud, sp, err,
                       errlen) != DTR_OK ||
        api->route_add(self, "GET", "/ui/{fil}", 0, support_route_file, sp, err, errlen) !=
            DTR_OK ||
        support_session_routes(sp, err, errlen) != DTR_OK ||
        support_report_routes(sp, err, errlen) != DTR_OK) {
        free(sp->etags);
        free(sp);
        return DTR_ERROR;
    }
    *state = sp;
    return DTR_OK;
}

static void support_free(void *state)
{
    support_plugin *sp = state;
    if (!sp) return;
    support_session_free(sp);
    free(sp->etags);
    free(sp);
}

DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_entry = {
    .abi_major = DTR_ABI_MAJOR,
    .abi_minor = DTR_ABI_MINOR,
    .struct_size = sizeof(dtr_plugin_descriptor),
    .name = "support",
    .version = "1.0.0",
    .kinds = DTR_KIND_PROTOCOL,
    .init = support_init,
    .free = support_free,
};
