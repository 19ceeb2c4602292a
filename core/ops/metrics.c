/*
 * metrics.c -- counters, gauges and the request latency histogram, rendered
 * in the Prometheus text format (see metrics.h).
 *
 * Requests are kept per (method, route) series in a small hash table: each
 * series has its histogram and a short list of (status, count). The strings
 * are copied on first use, so a route pattern may go away with its router.
 * Loop thread only.
 */
#include "ops/metrics.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double ops_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                     0.1,    0.25,  0.5,    1,     2.5,  5,     10};
enum { OPS_NBUCKETS = sizeof ops_buckets / sizeof ops_buckets[0] };

typedef struct ops_status_count {
    int status;
    uint64_t n;
} ops_status_count;

typedef struct ops_series {
    struct ops_series *next; /* hash chain */
    char *method, *route;
    uint64_t hash;
    uint64_t buckets[OPS_NBUCKETS]; /* not cumulative; summed when rendered */
    uint64_t count;
    double sum;
    ops_status_count *statuses;
    size_t nstatuses;
} ops_series;

typedef struct ops_value {
    char *name;     /* with labels */
    size_t baselen; /* the name before '{' */
    char *type, *help;
    double value;
} ops_value;

struct ops_metrics {
    ops_series **table;
    size_t cap, nseries;
    size_t connections;
    ops_value *values;
    size_t nvalues;
};

static void *ops_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p) abort();
    return p;
}

static char *ops_xstrdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p) abort();
    return p;
}

ops_metrics *ops_metrics_new(void)
{
    ops_metrics *m = ops_xcalloc(1, sizeof *m);
    m->cap = 64;
    m->table = ops_xcalloc(m->cap, sizeof *m->table);
    return m;
}

void ops_metrics_free(ops_metrics *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->cap; i++) {
        ops_series *s = m->table[i];
        while (s) {
            ops_series *next = s->next;
            free(s->method);
            free(s->route);
            free(s->statuses);
            free(s);
            s = next;
        }
    }
    free(m->table);
    for (size_t i = 0; i < m->nvalues; i++) {
        free(m->values[i].name);
        free(m->values[i].type);
        free(m->values[i].help);
    }
    free(m->values);
    free(m);
}

static uint64_t ops_hash(const char *method, const char *route)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = method; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    for (const char *p = route; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

static void ops_grow(ops_metrics *m)
{
    size_t cap = m->cap * 2;
    ops_series **table = ops_xcalloc(cap, sizeof *table);
    for (size_t i = 0; i < m->cap; i++) {
        ops_series *s = m->table[i];
        while (s) {
            ops_series *next = s->next;
            s->next = table[s->hash & (cap - 1)];
            table[s->hash & (cap - 1)] = s;
            s = next;
        }
    }
    free(m->table);
    m->table = table;
    m->cap = cap;
}

static ops_series *ops_series_get(ops_metrics *m, const char *method, const char *route)
{
    uint64_t h = ops_hash(method, route);
    for (ops_series *s = m->table[h & (m->cap - 1)]; s; s = s->next)
        if (s->hash == h && strcmp(s->route, route) == 0 && strcmp(s->method, method) == 0)
            return s;
    if (m->nseries * 2 >= m->cap) ops_grow(m);
    ops_series *s = ops_xcalloc(1, sizeof *s);
    s->method = ops_xstrdup(method);
    s->route = ops_xstrdup(route);
    s->hash = h;
    s->next = m->table[h & (m->cap - 1)];
    m->table[h & (m->cap - 1)] = s;
    m->nseries++;
    return s;
}

void ops_metrics_request(ops_metrics *m, const char *method, const char *route, int status,
                         double seconds)
{
    if (!m) return;
    ops_series *s = ops_series_get(m, method ? method : "-", route ? route : "unmatched");
    size_t b = 0;
    while (b < OPS_NBUCKETS && seconds > ops_buckets[b])
        b++;
    if (b < OPS_NBUCKETS) s->buckets[b]++;
    s->count++;
    s->sum += seconds;
    for (size_t i = 0; i < s->nstatuses; i++) {
        if (s->statuses[i].status == status) {
            s->statuses[i].n++;
            return;
        }
    }
    ops_status_count *grown = realloc(s->statuses, (s->nstatuses + 1) * sizeof *grown);
    if (!grown) abort();
    s->statuses = grown;
    s->statuses[s->nstatuses].status = status;
    s->statuses[s->nstatuses].n = 1;
    s->nstatuses++;
}

void ops_metrics_set_connections(ops_metrics *m, size_t n)
{
    if (m) m->connections = n;
}

void ops_metrics_set(ops_metrics *m, const char *name_with_labels, const char *type,
                     const char *help, double value)
{
    if (!m || !name_with_labels) return;
    for (size_t i = 0; i < m->nvalues; i++) {
        if (strcmp(m->values[i].name, name_with_labels) == 0) {
            m->values[i].value = value;
            return;
        }
    }
    ops_value *grown = realloc(m->values, (m->nvalues + 1) * sizeof *grown);
    if (!grown) abort();
    m->values = grown;
    ops_value *v = &m->values[m->nvalues++];
    v->name = ops_xstrdup(name_with_labels);
    v->baselen = strcspn(v->name, "{");
    v->type = ops_xstrdup(type ? type : "gauge");
    v->help = ops_xstrdup(help ? help : "");
    v->value = value;
}

/* ---- rendering -------------------------------------------------------------- */

typedef struct ops_buf {
    char *p;
    size_t len, cap;
} ops_buf;

__attribute__((format(printf, 2, 3))) static void ops_printf(ops_buf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) return;
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *grown = realloc(b->p, cap);
        if (!grown) abort();
        b->p = grown;
        b->cap = cap;
    }
}

/* A label value with '\', '"' and newlines escaped. */
static void ops_label(ops_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            ops_printf(b, "\\%c", *s);
        else if (*s == '\n')
            ops_printf(b, "\\n");
        else
            ops_printf(b, "%c", *s);
    }
}

static void ops_series_labels(ops_buf *b, const ops_series *s)
{
    ops_printf(b, "method=\"");
    ops_label(b, s->method);
    ops_printf(b, "\",route=\"");
    ops_label(b, s->route);
    ops_printf(b, "\"");
}

static int ops_series_cmp(const void *a, const void *b)
{
    const ops_series *x = *(ops_series *const *)a, *y = *(ops_series *const *)b;
    int c = strcmp(x->route, y->route);
    return c ? c : strcmp(x->method, y->method);
}

static int ops_status_cmp(const void *a, const void *b)
{
    return ((const ops_status_count *)a)->status - ((const ops_status_count *)b)->status;
}

char *ops_metrics_render(const ops_metrics *m, size_t *len)
{
    ops_buf b = {malloc(4096), 0, 4096};
    if (!b.p) abort();
    b.p[0] = '\0';
    ops_series **all = ops_xcalloc(m->nseries ? m->nseries : 1, sizeof *all);
    size_t n = 0;
    for (size_t i = 0; i < m->cap; i++)
        for (ops_series *s = m->table[i]; s; s = s->next)
            all[n++] = s;
    qsort(all, n, sizeof *all, ops_series_cmp);

    ops_printf(&b, "# HELP dtr_http_requests_total HTTP requests answered, by route and status.\n"
                   "# TYPE dtr_http_requests_total counter\n");
    for (size_t i = 0; i < n; i++) {
        ops_series *s = all[i];
        qsort(s->statuses, s->nstatuses, sizeof *s->statuses, ops_status_cmp);
        for (size_t k = 0; k < s->nstatuses; k++) {
            ops_printf(&b, "dtr_http_requests_total{");
            ops_series_labels(&b, s);
            ops_printf(&b, ",status=\"%d\"} %llu\n", s->statuses[k].status,
                       (unsigned long long)s->statuses[k].n);
        }
    }
    ops_printf(&b, "# HELP dtr_http_request_duration_seconds Time from the first byte of a "
                   "request to the end of its answer.\n"
                   "# TYPE dtr_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < n; i++) {
        const ops_series *s = all[i];
        uint64_t cumulative = 0;
        for (size_t k = 0; k < OPS_NBUCKETS; k++) {
            cumulative += s->buckets[k];
            ops_printf(&b, "dtr_http_request_duration_seconds_bucket{");
            ops_series_labels(&b, s);
            ops_printf(&b, ",le=\"%g\"} %llu\n", ops_buckets[k], (unsigned long long)cumulative);
        }
        ops_printf(&b, "dtr_http_request_duration_seconds_bucket{");
        ops_series_labels(&b, s);
        ops_printf(&b, ",le=\"+Inf\"} %llu\n", (unsigned long long)s->count);
        ops_printf(&b, "dtr_http_request_duration_seconds_sum{");
        ops_series_labels(&b, s);
        ops_printf(&b, "} %.9g\n", s->sum);
        ops_printf(&b, "dtr_http_request_duration_seconds_count{");
        ops_series_labels(&b, s);
        ops_printf(&b, "} %llu\n", (unsigned long long)s->count);
    }
    free(all);
    ops_printf(&b,
               "# HELP dtr_http_connections Open HTTP connections.\n"
               "# TYPE dtr_http_connections gauge\n"
               "dtr_http_connections %zu\n",
               m->connections);

    /* named values, grouped by metric name in order of first appearance */
    bool *done = ops_xcalloc(m->nvalues ? m->nvalues : 1, sizeof *done);
    for (size_t i = 0; i < m->nvalues; i++) {
        if (done[i]) continue;
        const ops_value *v = &m->values[i];
        ops_printf(&b, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)v->baselen, v->name, v->help,
                   (int)v->baselen, v->name, v->type);
        for (size_t k = i; k < m->nvalues; k++) {
            const ops_value *w = &m->values[k];
            if (done[k] || w->baselen != v->baselen || strncmp(w->name, v->name, v->baselen) != 0)
                continue;
            ops_printf(&b, "%s %.17g\n", w->name, w->value);
            done[k] = true;
        }
    }
    free(done);
    if (len) *len = b.len;
    return b.p;
}
