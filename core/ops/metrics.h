/*
 * metrics.h -- counters and histograms for /metrics (Prometheus text format).
 * Updated and rendered on the loop thread.
 */
#ifndef DTR_OPS_METRICS_H
#define DTR_OPS_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct ops_metrics ops_metrics;

ops_metrics *ops_metrics_new(void);
void ops_metrics_free(ops_metrics *m);
/* One request done: route pattern ("/v1/x/{nummer}", or "unmatched"), method,
 * status, duration in seconds. */
void ops_metrics_request(ops_metrics *m, const char *method, const char *route, int status,
                         double seconds);
/* Open connections gauge. */
void ops_metrics_set_connections(ops_metrics *m, size_t n);
/* A gauge or counter set by name ("dtr_commits_total", "dtr_feed_lag{consumer=\"portal\"}"):
 * for modules that arrive later (store, feed). */
void ops_metrics_set(ops_metrics *m, const char *name_with_labels, const char *type,
                     const char *help, double value);
/* Renders everything in Prometheus text format; returns a malloc'd string. */
char *ops_metrics_render(const ops_metrics *m, size_t *len);

#endif
