/*
 * store_host.h -- a host for testing a plugin against the real store and
 * feed, without the server: the plugin's sources are compiled into the test
 * program, and this host hands it a dtr_host_api whose reads, feed and
 * signing are the core's own (store_*, feed_*, the signing key) on a libuv
 * loop of the test's, while requests are made in memory (sh_get) and
 * answers captured. Register changes are made straight through the store
 * (sh_run), as the writer would make them for the REST API.
 *
 * Used by the unilogin and statistik plugin tests. One plugin instance per
 * host, one host at a time. Loop thread only (the test's thread), like the
 * real host. Streamed answers go through the same flow control as the real
 * host's (a high-water mark, on_drain), driven by the test as the client
 * (sh_call_*), which can also go away in the middle.
 */
#ifndef STORE_HOST_H
#define STORE_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtr/plugin.h>
#include <jansson.h>
#include <uv.h>

#include "feed/feed.h"
#include "store/store.h"

typedef struct store_host store_host;

/* A fresh data directory under /tmp, a store and a feed on a new loop, a
 * signing key, and the store's clock at noon UTC of today_day. */
store_host *sh_new(const char *name, const char *today_day);
/* The same with the feed's batches bounded to batch_max hændelser. */
store_host *sh_new_batched(const char *name, const char *today_day, size_t batch_max);
/* Unloads the plugin if loaded, closes everything, removes the directory. */
void sh_free(store_host *h);

const char *sh_data_dir(const store_host *h);
uv_loop_t *sh_loop(store_host *h);
store *sh_store(store_host *h);
feed *sh_feed(store_host *h);
/* The public half of the host's signing key. */
const unsigned char *sh_public_key(const store_host *h);

/* public_read as the plugin sees it (default on). Credentials: an
 * Authorization header "Basic good" is a known client, any other value is
 * wrong ones (DTR_DECLINED). */
void sh_set_public_read(store_host *h, bool on);

/* Loads a consumer plugin without subscribing it to the feed (call before
 * sh_load): for tests of its routes alone, where the consumer's own work on
 * the pool (its snapshots, its readers) would run beside what they count. */
void sh_feed_off(store_host *h);

/* Initialises (config: JSON text, NULL for {}) and starts the plugin, and
 * subscribes it to the feed when it is a consumer (unless sh_feed_off). 0,
 * or -1 with the plugin's reason in err. */
int sh_load(store_host *h, const dtr_plugin_descriptor *d, const char *config, char *err,
            size_t errlen);
/* Stops the plugin, ends its subscription, waits for its work and frees
 * it; fails (aborts) when it left readers or snapshots open. */
void sh_unload(store_host *h);

/* An answer captured from the plugin. */
typedef struct sh_response {
    int status;
    char content_type[128];
    char www_authenticate[64];
    char *body; /* NUL-terminated */
    size_t len;
    json_t *json; /* the body parsed when it is JSON, else NULL */
} sh_response;

/* Makes a GET request (target: path with an optional ?query) with the
 * given Accept and Authorization headers (NULL: none) and runs the loop
 * until the plugin answered, taking every byte of a streamed answer. */
sh_response sh_get(store_host *h, const char *target, const char *accept,
                   const char *authorization);
void sh_response_clear(sh_response *r);

/* ---- a request step by step: streaming, flow control, a client that leaves ---- */

/* A request in flight, seen from the client. */
typedef struct sh_call sh_call;

/* The high-water mark of unsent bytes for requests started from now on
 * (0, the default: none, stream_write always says "go on"). With one,
 * stream_write answers DTR_RETRY once the bytes the client has not taken reach it,
 * and on_drain comes when the client took them down below a quarter. */
void sh_set_high_water(store_host *h, size_t bytes);

/* Calls the route's handler (method "GET" or "HEAD") and returns at once;
 * the loop has not run. */
sh_call *sh_call_start(store_host *h, const char *method, const char *target, const char *accept,
                       const char *authorization);
/* Runs the loop until the answer ended or the plugin waits for the client
 * (stream_write said DTR_RETRY and no work of the host's is in flight). */
void sh_call_wait(sh_call *c);
/* The client takes up to n more bytes of the streamed answer (SIZE_MAX:
 * all written so far); on_drain runs inside when that brings the unsent
 * bytes low enough after a DTR_RETRY from stream_write. Returns the bytes taken. */
size_t sh_call_take(sh_call *c, size_t n);
/* The client goes away: the plugin's abort callback runs, and the request
 * is freed (a plugin touching it later trips the sanitizer). */
void sh_call_abort(sh_call *c);
bool sh_call_answered(const sh_call *c);
/* Bytes the plugin streamed so far, and those the client has not taken. */
size_t sh_call_sent(const sh_call *c);
size_t sh_call_unsent(const sh_call *c);
/* True while the plugin waits for on_drain with nothing in flight. */
bool sh_call_waits(const sh_call *c);
/* How many stream_write calls came while the plugin had been told to wait. */
size_t sh_call_writes_over(const sh_call *c);
/* Takes every byte until the answer ends; returns it and frees c. */
sh_response sh_call_finish(sh_call *c);
/* Frees a call that ended (answered or aborted) and its response. */
void sh_call_free(sh_call *c);

/* Readers the plugin opened and has not closed (its idle ones included),
 * and snapshots it began and has not ended. sh_unload fails the test
 * program when either is left after the plugin's free. */
long sh_readers_open(const store_host *h);
long sh_snapshots_open(store_host *h);
/* Lets n more reads (read_list, read_get) succeed, then fails every
 * further one with 503; -1 lets all succeed again. Any thread. */
void sh_fail_reads_after(store_host *h, long n);
/* Work items of the plugin's on the pool or waiting for their done. */
size_t sh_work_in_flight(const store_host *h);

/* The first problem+json fejl kode of an answer ("" when none). */
const char *sh_problem_kode(const sh_response *r);

/* ---- changing the register ------------------------------------------------ */

/* What a command did. */
typedef struct sh_result {
    int status;
    char nummer[7];
    int64_t seq_last;
} sh_result;

/* Runs a command as support through the store's writer and waits for it.
 * Steals body. */
sh_result sh_run(store_host *h, reg_op op, reg_level level, const char *nummer, json_t *body);
/* Like sh_run, failing the test (abort with a message) unless accepted;
 * returns the number. */
const char *sh_must(store_host *h, reg_op op, reg_level level, const char *nummer, json_t *body,
                    char out[7]);
/* Runs n commands of one kind (creates: no target) as support, all queued
 * at once so that the writer commits them in batches, and waits for them
 * all; failing the test program unless every one is accepted. Steals the
 * bodies. records (may be NULL) gets each command's record after it, as
 * store_get shows it nested (new references). */
void sh_run_many(store_host *h, reg_op op, reg_level level, json_t **bodies, size_t n,
                 json_t **records);

/* A register's numbers as a test keeps them: arrays grown by sh_create,
 * freed by the test. */
typedef struct sh_numbers {
    char (*dis)[7];
    size_t ndis;
    char (*units)[7]; /* in the order created */
    size_t nunits;
} sh_numbers;

/* Creates n daginstitutioner (bodies may nest their anvisningsenheder) with
 * sh_run_many, and appends the numbers the register gave them to out: the
 * daginstitutioner's and their units'. Steals the bodies. */
void sh_create(store_host *h, json_t **bodies, size_t n, sh_numbers *out);
/* Moves the store's clock to noon UTC of day, then runs the timed changes
 * (store_tick) and waits for them. */
void sh_set_day_and_tick(store_host *h, const char *day);

/* Runs the loop until cond(udata) holds; aborts the test program after 120
 * s (a hang is a failure; a sanitizer build beside stress-ng took over 10 s
 * for a stream of a few thousand units). */
void sh_run_until(store_host *h, bool (*cond)(void *udata), void *udata);

/* The feed's view of a consumer: its durable cursor (-1 when unknown). */
int64_t sh_consumer_durable(store_host *h, const char *name);

/* ---- record bodies the register accepts --------------------------------------- */

json_t *sh_di_body(const char *navn, int kommune, int ejerform, int lovgrundlag);
/* An anvisningsenhed; cvr and p may be NULL. */
json_t *sh_ae_body(const char *parent, const char *navn, int inst_type3, int kommune,
                   const char *cvr, const char *p);
json_t *sh_aa_body(const char *parent, const char *navn, int kommune, const char *cvr,
                   const char *p);

#endif /* STORE_HOST_H */
