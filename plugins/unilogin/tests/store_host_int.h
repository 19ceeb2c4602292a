/*
 * store_host_int.h -- what the two files of the test host share (store_host.c:
 * the host API table and the host's lifecycle; store_host_client.c: the
 * test's side, requests as a client, register changes and bodies). Not for
 * the tests themselves: they include store_host.h.
 */
#ifndef STORE_HOST_INT_H
#define STORE_HOST_INT_H

#include <stdatomic.h>

#include "store_host.h"

struct dtr_plugin {
    store_host *h;
};

struct dtr_request {
    sh_call *call;
    char method[8];
    char path[512];
    char query[512];
    const char *accept;
    const char *authorization;
    char params[8][2][128]; /* decoded query parameters (name, value) */
    size_t nparams;
    dtr_abort_fn on_abort;
    void *abort_udata;
    dtr_drain_fn on_drain;
    void *drain_udata;
    char www_authenticate[64];
};

/* A request in flight as the test's client sees it. The dtr_request is
 * freed when the answer ends or the client goes away (as the real host
 * frees it), so a plugin touching it afterwards trips the sanitizer. */
struct sh_call {
    store_host *h;
    dtr_request *req; /* NULL once the answer ended or the client went away */
    sh_response resp;
    bool answered;
    bool streaming;
    char *stream; /* the streamed body so far */
    size_t stream_len;
    size_t taken;       /* bytes of it the client took */
    size_t high_water;  /* 0: no flow control */
    bool want_drain;    /* stream_write said "wait"; the plugin waits for on_drain */
    size_t writes_over; /* writes made while want_drain was set (flow control ignored) */
};

struct dtr_timer {
    uv_timer_t handle;
    dtr_timer_fn fn;
    void *udata;
};

struct store_host {
    char dir[64];
    uv_loop_t loop;
    uv_timer_t watchdog;
    bool timed_out;
    int64_t now_ms;
    uint8_t audit_key[AUDIT_KEY_BYTES];
    store *s;
    store_reader *loop_reader;
    feed *feed;
    unsigned char sk[64], pk[32];
    bool public_read;
    bool feed_off; /* sh_feed_off: the consumer is not subscribed */
    dtr_host_api api;
    /* the plugin */
    struct dtr_plugin self;
    const dtr_plugin_descriptor *desc;
    void *state;
    bool loaded;
    int64_t start_at;
    feed_consumer *consumer;
    size_t work; /* work items in flight */
    /* what tests look at */
    long readers_open;          /* reader_open minus reader_close (loop thread) */
    atomic_long snapshots_open; /* snapshot_begin minus snapshot_end (any thread) */
    atomic_long reads_left;     /* reads that succeed before they fail; -1: all */
    size_t high_water;          /* for new requests; 0: no flow control */
};

typedef struct sh_route {
    char pattern[128];
    dtr_route_fn fn;
    void *udata;
} sh_route;

/* The route registered for a path (exact pattern), or NULL. */
const sh_route *sh_route_find(const char *path);
/* Ends the answer: fills the call's response and frees the request. */
void sh_finish(dtr_request *req, int status, const char *content_type, const void *body,
               size_t len);
/* Reports a misuse by the plugin or the test and aborts. */
void sh_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t sh_day_ms(const char *day);
bool sh_flag(void *udata);

#endif /* STORE_HOST_INT_H */
