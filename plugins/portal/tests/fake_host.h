/*
 * fake_host.h -- a host for the portal plugin's unit tests: a real libuv
 * loop (for libcurl, timers and the work queue), a register made of JSON
 * arrays, a signing key from libsodium, routes called directly with fake
 * requests, and a record of what the plugin told the feed.
 *
 * One fake host at a time (the table's functions find it through a global).
 */
#ifndef PORTAL_FAKE_HOST_H
#define PORTAL_FAKE_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include <dtr/plugin.h>

typedef struct fake_route {
    char method[8];
    char pattern[128];
    dtr_route_fn fn;
    void *udata;
} fake_route;

typedef struct fake_host {
    uv_loop_t loop;
    dtr_host_api api;
    dtr_plugin *self;
    char *data_dir;
    int public_read;
    fake_route routes[8];
    size_t n_routes;
    /* the register */
    json_t *daginstitutioner; /* nested, as GET shows them, ordered by nummer */
    json_t *haendelser;       /* {"sekvensnummer", "operation", "entitet", "nummer", ...} */
    int64_t latest;           /* read_latest / snapshot_begin */
    int fail_reads;           /* 1: every read answers DTR_ERROR (503) */
    unsigned list_reads;      /* read_list calls (atomic) */
    unsigned haendelser_reads;
    /* the feed */
    int64_t start_at;
    unsigned done_calls;
    int64_t done_up_to;
    dtr_status done_status;
    /* the key */
    unsigned char pk[32], sk[64];
    /* bookkeeping */
    unsigned work_in_flight;
    unsigned timers_live;
    unsigned readers_open;
    unsigned warnings; /* log lines at WARN or above */
} fake_host;

fake_host *fake_host_new(void);
/* Closes the loop (asserting that every handle was closed) and frees. */
void fake_host_free(fake_host *h);

/* The plugin's instance: init with config (JSON text); NULL on refusal
 * (err filled). start, stop (then runs the loop until the plugin's work
 * and handles are done) and free. */
void *fake_plugin_init(fake_host *h, const char *config, char *err, size_t errlen);
int fake_plugin_start(fake_host *h, void *state);
void fake_plugin_stop_free(fake_host *h, void *state);

/* Hands the plugin a batch: the register's hændelser [fra, til]. */
void fake_consume(fake_host *h, void *state, int64_t fra, int64_t til);

/* Appends a hændelse to the register (and moves latest). */
void fake_add_event(fake_host *h, const char *operation, const char *entitet, const char *nummer);

/* Runs the loop until pred(udata) is true or timeout_ms passed; returns
 * pred's last value. */
bool fake_run_until(fake_host *h, bool (*pred)(void *), void *udata, unsigned timeout_ms);
/* Runs the loop for ms milliseconds. */
void fake_run_for(fake_host *h, unsigned ms);

/* A request to one of the plugin's routes, answered (the loop runs until
 * it is). */
typedef struct fake_response {
    int status;
    char *content_type;
    char *body;
    size_t len;
    json_t *headers; /* {"Name": "value"} */
    json_t *json;    /* the body parsed, when it is JSON */
} fake_response;

/* headers: NULL-terminated list of "Name", "value" pairs. */
fake_response *fake_call(fake_host *h, const char *method, const char *path,
                         const char *const *headers, const char *body);
void fake_response_free(fake_response *r);
const char *fake_response_header(const fake_response *r, const char *name);

/* A fresh temporary directory and its removal. */
char *fake_temp_dir(void);
void fake_remove_tree(const char *dir);

#endif
