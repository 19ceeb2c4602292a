/*
 * openapi.c -- the OpenAPI descriptions of the routes of a set: what each
 * instance (and the core's pseudo-instance) registered, what it described
 * of it (dtr_host_api.openapi_describe), and their union for the plugin that
 * serves GET /v1/openapi.json (openapi_paths).
 *
 * A description may only name routes its own instance registered: the
 * document then cannot promise a route nobody serves, and a plugin cannot
 * describe another's. Each instance keeps its own deep copy, freed with the
 * instance (plug_openapi_forget, from the reaper), so a reload's new set
 * answers with the new instances' descriptions and the old set's go with
 * it. Loop thread only.
 */
#include "errtext.h"
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ops/endpoints.h"

/* The operation keys of an OpenAPI 3.1 path item. */
static bool plug_openapi_is_method(const char *key)
{
    static const char *const methods[] = {"get",  "put",     "post",  "delete",
                                          "head", "options", "patch", "trace"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(key, methods[i]) == 0) return true;
    return false;
}

static char *plug_openapi_strdup(const char *s)
{
    char *copy = strdup(s);
    if (!copy) abort();
    return copy;
}

void plug_route_remember(dtr_plugin *p, const char *method, const char *pattern)
{
    plug_route *grown = realloc(p->routes, (p->nroutes + 1) * sizeof *grown);
    if (!grown) abort();
    p->routes = grown;
    p->routes[p->nroutes].method = plug_openapi_strdup(method);
    p->routes[p->nroutes].pattern = plug_openapi_strdup(pattern);
    p->nroutes++;
}

static bool plug_owns_route(const dtr_plugin *p, const char *method, const char *pattern)
{
    for (size_t i = 0; i < p->nroutes; i++)
        if (strcasecmp(p->routes[i].method, method) == 0 &&
            strcmp(p->routes[i].pattern, pattern) == 0)
            return true;
    return false;
}

/* Who else in p's set registered method + pattern, for the refusal's text:
 * a plugin's name, "the core", or NULL for nobody. */
static const char *plug_route_owner(const dtr_plugin *p, const char *method, const char *pattern)
{
    const plug_set *set = p->set;
    if (plug_owns_route(&set->core, method, pattern)) return "the core";
    for (size_t i = 0; i < set->ninstances; i++)
        if (set->instances[i] != p && plug_owns_route(set->instances[i], method, pattern))
            return set->instances[i]->name;
    return NULL;
}

/* Checks one path item of a description against p's routes. */
static dtr_status plug_openapi_check_item(const dtr_plugin *p, const char *path, json_t *item,
                                          char *err, size_t errlen)
{
    if (!json_is_object(item))
        return errtext(err, errlen, DTR_DECLINED,
                       "openapi_describe: the path item of %s is not an object", path);
    if (json_object_size(item) == 0)
        return errtext(err, errlen, DTR_DECLINED,
                       "openapi_describe: the path item of %s names no operation", path);
    const char *key;
    json_t *op;
    json_object_foreach(item, key, op)
    {
        if (!plug_openapi_is_method(key))
            return errtext(err, errlen, DTR_DECLINED,
                           "openapi_describe: %s: \"%s\" is not a method in lower case (only "
                           "operations are taken: get, post, put, patch, delete, ...)",
                           path, key);
        char upper[8];
        size_t k = 0;
        for (; key[k] && k + 1 < sizeof upper; k++)
            upper[k] = (char)toupper((unsigned char)key[k]);
        upper[k] = '\0';
        if (!json_is_object(op))
            return errtext(err, errlen, DTR_DECLINED,
                           "openapi_describe: the operation %s %s is not an object", upper, path);
        if (plug_owns_route(p, key, path)) continue;
        const char *owner = plug_route_owner(p, key, path);
        if (owner)
            return errtext(err, errlen, DTR_DECLINED,
                           "openapi_describe: %s %s is a route of %s%s%s, not of plugin \"%s\"",
                           upper, path, strcmp(owner, "the core") ? "plugin \"" : "", owner,
                           strcmp(owner, "the core") ? "\"" : "", p->name);
        return errtext(err, errlen, DTR_DECLINED,
                       "openapi_describe: %s %s is not a route plugin \"%s\" registered "
                       "(route_add: same method, same pattern)",
                       upper, path, p->name);
    }
    return DTR_OK;
}

dtr_status plug_openapi_keep(dtr_plugin *p, const json_t *paths, char *err, size_t errlen)
{
    if (!json_is_object(paths))
        return errtext(err, errlen, DTR_DECLINED,
                       "openapi_describe: paths must be a JSON object {\"/path\": {\"get\": "
                       "{...}}}");
    const char *path;
    json_t *item;
    json_object_foreach((json_t *)paths, path, item)
    {
        dtr_status st = plug_openapi_check_item(p, path, item, err, errlen);
        if (st != DTR_OK) return st;
    }
    /* everything checked: only now is anything kept */
    if (!p->openapi) p->openapi = json_object();
    if (!p->openapi) abort();
    json_object_foreach((json_t *)paths, path, item)
    {
        json_t *kept = json_object_get(p->openapi, path);
        if (!kept) {
            kept = json_object();
            if (!kept || json_object_set_new(p->openapi, path, kept) != 0) abort();
        }
        const char *method;
        json_t *op;
        json_object_foreach(item, method, op)
        {
            json_t *copy = json_deep_copy(op);
            if (!copy || json_object_set_new(kept, method, copy) != 0) abort();
        }
    }
    return DTR_OK;
}

dtr_status plug_api_openapi_describe(dtr_plugin *self, const json_t *paths, char *err,
                                     size_t errlen)
{
    char local[512];
    if (!err || !errlen) {
        err = local;
        errlen = sizeof local;
    }
    if (!self || !self->accept_routes)
        return errtext(err, errlen, DTR_ERROR,
                       "openapi_describe: routes can only be described during init or start");
    dtr_status st = plug_openapi_keep(self, paths, err, errlen);
    if (st != DTR_OK)
        ops_log_write(self->set->reg->log, OPS_LOG_WARN, self->name,
                      "its OpenAPI description was refused: %s", err);
    return st;
}

void plug_openapi_describe_core_route(plug_set *set, const char *method, const char *pattern)
{
    json_t *all = ops_endpoints_openapi();
    char lower[8];
    size_t k = 0;
    for (; method[k] && k + 1 < sizeof lower; k++)
        lower[k] = (char)tolower((unsigned char)method[k]);
    lower[k] = '\0';
    json_t *op = json_object_get(json_object_get(all, pattern), lower);
    if (op) {
        json_t *one = json_pack("{s:{s:O}}", pattern, lower, op);
        char err[256];
        if (!one || plug_openapi_keep(&set->core, one, err, sizeof err) != DTR_OK)
            ops_log_write(set->reg->log, OPS_LOG_WARN, "core",
                          "the description of %s %s was refused", method, pattern);
        json_decref(one);
    }
    json_decref(all);
}

/* Adds p's operations to the union (deep copies; a path and method already
 * there stays as it is: routes are unique in a router, so it cannot be
 * there twice but from the same instance). */
static void plug_openapi_merge(json_t *all, const dtr_plugin *p)
{
    const char *path;
    json_t *item;
    json_object_foreach(p->openapi, path, item)
    {
        json_t *into = json_object_get(all, path);
        if (!into) {
            into = json_object();
            if (!into || json_object_set_new(all, path, into) != 0) abort();
        }
        const char *method;
        json_t *op;
        json_object_foreach(item, method, op)
        {
            if (json_object_get(into, method)) continue;
            json_t *copy = json_deep_copy(op);
            if (!copy || json_object_set_new(into, method, copy) != 0) abort();
        }
    }
}

json_t *plug_api_openapi_paths(dtr_plugin *self)
{
    if (!self) return NULL;
    const plug_set *set = self->set;
    json_t *all = json_object();
    if (!all) return NULL;
    plug_openapi_merge(all, &set->core);
    for (size_t i = 0; i < set->ninstances; i++)
        plug_openapi_merge(all, set->instances[i]);
    return all;
}

void plug_openapi_forget(dtr_plugin *p)
{
    for (size_t i = 0; i < p->nroutes; i++) {
        free(p->routes[i].method);
        free(p->routes[i].pattern);
    }
    free(p->routes);
    p->routes = NULL;
    p->nroutes = 0;
    json_decref(p->openapi);
    p->openapi = NULL;
}
