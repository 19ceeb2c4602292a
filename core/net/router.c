/*
 * router.c -- method + path patterns to handlers.
 *
 * Patterns are literal segments and {param} segments ("/v1/x/{nummer}/flyt")
 * kept in a trie by segment: a node has literal children and at most one
 * {param} child, whatever the parameter's name (names belong to routes, so
 * "/v1/x/{id}/a" and "/v1/x/{nummer}/b" share the node of the parameter).
 *
 * Matching walks the decoded segments left to right. At each position a
 * literal child is tried before the {param} child, and when the literal leads
 * nowhere (no route for this method below it) the {param} is tried instead:
 * the most specific pattern wins, position by position. With that rule two
 * patterns can only match the same path with equal specificity when they have
 * the same shape (same literals, parameters at the same positions), which is
 * the same trie node: so add() refuses a second route of one method at one
 * node, naming both owners.
 */
#include "net/net_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct net_node {
    char *lit; /* this node's literal segment; NULL for the root and {param} nodes */
    size_t litlen;
    struct net_node **kids; /* literal children */
    size_t nkids, kcap;
    struct net_node *param; /* the {param} child */
    net_route *routes;      /* routes ending here, one per method */
} net_node;

struct net_router {
    unsigned refs;
    net_inflight_fn inflight;
    net_node root;
    net_route *all;
};

static const struct {
    const char *name;
    uint8_t id;
} net_route_methods[] = {
    {"GET", HTTP_GET},     {"HEAD", HTTP_HEAD},     {"POST", HTTP_POST},       {"PUT", HTTP_PUT},
    {"PATCH", HTTP_PATCH}, {"DELETE", HTTP_DELETE}, {"OPTIONS", HTTP_OPTIONS},
};

static void *net_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p) abort();
    return p;
}

static char *net_xstrndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p) abort();
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

net_router *net_router_new(net_inflight_fn inflight)
{
    net_router *r = net_xcalloc(1, sizeof *r);
    r->refs = 1;
    r->inflight = inflight;
    return r;
}

static void net_node_free_children(net_node *n)
{
    for (size_t i = 0; i < n->nkids; i++) {
        net_node_free_children(n->kids[i]);
        free(n->kids[i]->lit);
        free(n->kids[i]);
    }
    free(n->kids);
    if (n->param) {
        net_node_free_children(n->param);
        free(n->param);
    }
}

static void net_router_destroy(net_router *r)
{
    net_route *route = r->all;
    while (route) {
        net_route *next = route->next_all;
        for (uint16_t i = 0; i < route->nseg; i++)
            free(route->param_names[i]);
        free(route->param_names);
        free(route->pattern);
        free(route->owner_name);
        free(route);
        route = next;
    }
    net_node_free_children(&r->root);
    free(r);
}

void net_router_ref(net_router *r)
{
    r->refs++;
}

void net_router_unref(net_router *r)
{
    if (r && --r->refs == 0) net_router_destroy(r);
}

/* Drops the creator's reference: requests that matched a route of this
 * router keep it alive until they are released. */
void net_router_free(net_router *r)
{
    net_router_unref(r);
}

net_inflight_fn net_router_inflight(const net_router *r)
{
    return r->inflight;
}

static int net_method_id(const char *method)
{
    for (size_t i = 0; i < sizeof net_route_methods / sizeof net_route_methods[0]; i++)
        if (strcmp(method, net_route_methods[i].name) == 0) return net_route_methods[i].id;
    return -1;
}

static bool net_param_name_ok(const char *p, size_t n)
{
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_'))
            return false;
    }
    return true;
}

/* Splits and checks a pattern; fills segs and, for {param} segments, the
 * name without braces (names[i] NULL for literals). */
static int net_pattern_parse(const char *pattern, net_strv *segs, net_strv *names, char *err,
                             size_t errlen)
{
    int n = net_path_split(pattern, strlen(pattern), segs, NET_MAX_SEGMENTS);
    if (n < 0) {
        snprintf(err, errlen, "route pattern '%s' must start with '/' and have at most %d segments",
                 pattern, NET_MAX_SEGMENTS);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const char *p = segs[i].p;
        size_t len = segs[i].n;
        names[i].p = NULL;
        names[i].n = 0;
        if (len == 0 && i < n - 1) { /* only a trailing '/' ("/support/") may be empty */
            snprintf(err, errlen, "route pattern '%s' has an empty segment", pattern);
            return -1;
        }
        if (p[0] == '{') {
            if (p[len - 1] != '}' || !net_param_name_ok(p + 1, len - 2)) {
                snprintf(err, errlen,
                         "route pattern '%s': a parameter is {name} with letters, "
                         "digits or '_' filling the whole segment",
                         pattern);
                return -1;
            }
            for (int j = 0; j < i; j++) {
                if (names[j].p && names[j].n == len - 2 &&
                    memcmp(names[j].p, p + 1, len - 2) == 0) {
                    snprintf(err, errlen, "route pattern '%s' names {%.*s} twice", pattern,
                             (int)(len - 2), p + 1);
                    return -1;
                }
            }
            names[i].p = p + 1;
            names[i].n = len - 2;
        } else if (memchr(p, '{', len) || memchr(p, '}', len) || memchr(p, '?', len) ||
                   memchr(p, '#', len)) {
            snprintf(err, errlen,
                     "route pattern '%s': '{', '}', '?' and '#' are not allowed in "
                     "a literal segment",
                     pattern);
            return -1;
        }
    }
    return n;
}

static net_node *net_node_literal_child(const net_node *n, const char *p, size_t len)
{
    for (size_t i = 0; i < n->nkids; i++) {
        net_node *k = n->kids[i];
        if (k->litlen == len && memcmp(k->lit, p, len) == 0) return k;
    }
    return NULL;
}

static net_node *net_node_child(net_node *n, const net_strv *seg, bool is_param)
{
    if (is_param) {
        if (!n->param) n->param = net_xcalloc(1, sizeof *n->param);
        return n->param;
    }
    net_node *k = net_node_literal_child(n, seg->p, seg->n);
    if (k) return k;
    if (n->nkids == n->kcap) {
        size_t cap = n->kcap ? n->kcap * 2 : 4;
        net_node **grown = realloc(n->kids, cap * sizeof *grown);
        if (!grown) abort();
        n->kids = grown;
        n->kcap = cap;
    }
    k = net_xcalloc(1, sizeof *k);
    k->lit = net_xstrndup(seg->p, seg->n);
    k->litlen = seg->n;
    n->kids[n->nkids++] = k;
    return k;
}

static void net_describe_owner(char *buf, size_t len, const char *owner_name)
{
    if (owner_name)
        snprintf(buf, len, "plugin '%s'", owner_name);
    else
        snprintf(buf, len, "the core");
}

dtr_status net_router_add(net_router *r, const char *method, const char *pattern,
                          size_t max_body_bytes, void *owner, const char *owner_name,
                          dtr_route_fn fn, void *udata, char *err, size_t errlen)
{
    char local[256];
    if (!err || !errlen) {
        err = local;
        errlen = sizeof local;
    }
    err[0] = '\0';
    if (!method || !pattern || !fn) {
        snprintf(err, errlen, "a route needs a method, a pattern and a handler");
        return DTR_ERROR;
    }
    if (max_body_bytes > NET_MAX_BODY_BYTES_CAP) {
        snprintf(err, errlen, "route %s %s: max_body_bytes %zu is over the limit of %u", method,
                 pattern, max_body_bytes, NET_MAX_BODY_BYTES_CAP);
        return DTR_ERROR;
    }
    int id = net_method_id(method);
    if (id < 0 || id == HTTP_HEAD) {
        snprintf(err, errlen,
                 "route %s %s: the method must be GET, POST, PUT, PATCH, DELETE or OPTIONS "
                 "(GET routes answer HEAD)",
                 method, pattern);
        return DTR_ERROR;
    }
    net_strv segs[NET_MAX_SEGMENTS], names[NET_MAX_SEGMENTS];
    int nseg = net_pattern_parse(pattern, segs, names, err, errlen);
    if (nseg < 0) return DTR_ERROR;

    net_node *node = &r->root;
    for (int i = 0; i < nseg; i++)
        node = net_node_child(node, &segs[i], names[i].p != NULL);
    for (net_route *other = node->routes; other; other = other->next_here) {
        if (other->method != id) continue;
        char mine[160], theirs[160];
        net_describe_owner(mine, sizeof mine, owner_name);
        net_describe_owner(theirs, sizeof theirs, other->owner_name);
        snprintf(err, errlen, "route %s %s of %s %s %s %s of %s", method, pattern, mine,
                 strcmp(other->pattern, pattern) == 0 ? "duplicates" : "clashes with", method,
                 other->pattern, theirs);
        return DTR_ERROR;
    }

    net_route *route = net_xcalloc(1, sizeof *route);
    route->method = (uint8_t)id;
    route->nseg = (uint16_t)nseg;
    route->pattern = net_xstrndup(pattern, strlen(pattern));
    route->owner_name = owner_name ? net_xstrndup(owner_name, strlen(owner_name)) : NULL;
    route->owner = owner;
    route->param_names = net_xcalloc(nseg ? (size_t)nseg : 1, sizeof *route->param_names);
    for (int i = 0; i < nseg; i++)
        if (names[i].p) route->param_names[i] = net_xstrndup(names[i].p, names[i].n);
    route->max_body_bytes = max_body_bytes;
    route->fn = fn;
    route->udata = udata;
    route->next_here = node->routes;
    node->routes = route;
    route->next_all = r->all;
    r->all = route;
    return DTR_OK;
}

static const net_route *net_node_route(const net_node *n, int method)
{
    for (const net_route *r = n->routes; r; r = r->next_here)
        if (r->method == method) return r;
    if (method == HTTP_HEAD)
        for (const net_route *r = n->routes; r; r = r->next_here)
            if (r->method == HTTP_GET) return r;
    return NULL;
}

static const net_route *net_node_match(const net_node *n, int method, const net_strv *segs,
                                       size_t nseg, size_t depth)
{
    if (depth == nseg) return net_node_route(n, method);
    const net_strv *s = &segs[depth];
    const net_node *lit = net_node_literal_child(n, s->p, s->n);
    if (lit) {
        const net_route *r = net_node_match(lit, method, segs, nseg, depth + 1);
        if (r) return r;
    }
    if (n->param && s->n > 0) return net_node_match(n->param, method, segs, nseg, depth + 1);
    return NULL;
}

const net_route *net_router_match(const net_router *r, int method, const net_strv *segs,
                                  size_t nseg)
{
    return net_node_match(&r->root, method, segs, nseg, 0);
}

/* Collects, as a bitmask of llhttp method ids, the methods of every route
 * whose pattern matches the path. */
static uint64_t net_node_methods(const net_node *n, const net_strv *segs, size_t nseg, size_t depth)
{
    if (depth == nseg) {
        uint64_t mask = 0;
        for (const net_route *r = n->routes; r; r = r->next_here)
            mask |= UINT64_C(1) << r->method;
        return mask;
    }
    const net_strv *s = &segs[depth];
    uint64_t mask = 0;
    const net_node *lit = net_node_literal_child(n, s->p, s->n);
    if (lit) mask |= net_node_methods(lit, segs, nseg, depth + 1);
    if (n->param && s->n > 0) mask |= net_node_methods(n->param, segs, nseg, depth + 1);
    return mask;
}

size_t net_router_allow(const net_router *r, const net_strv *segs, size_t nseg, char *buf,
                        size_t buflen)
{
    uint64_t mask = net_node_methods(&r->root, segs, nseg, 0);
    if (mask & (UINT64_C(1) << HTTP_GET)) mask |= UINT64_C(1) << HTTP_HEAD;
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof net_route_methods / sizeof net_route_methods[0]; i++) {
        if (!(mask & (UINT64_C(1) << net_route_methods[i].id))) continue;
        int n =
            snprintf(buf + len, buflen - len, "%s%s", len ? ", " : "", net_route_methods[i].name);
        if (n < 0 || (size_t)n >= buflen - len) break;
        len += (size_t)n;
    }
    return len;
}

int net_route_param_index(const net_route *route, const char *name)
{
    for (uint16_t i = 0; i < route->nseg; i++)
        if (route->param_names[i] && strcmp(route->param_names[i], name) == 0) return i;
    return -1;
}
