/*
 * feed.h -- the change feed: delivers the store's hændelser to consumers in
 * order, one batch at a time, and keeps each consumer's durable cursor.
 *
 * A consumer is known by its name (a consumer plugin's name). Its cursor
 * (the last sekvensnummer it said it durably handled) lives in the store's
 * consumer_cursor table, so after a crash or a restart delivery resumes
 * after it with nothing skipped: at-least-once, and handling must be
 * idempotent. A consumer the store has no cursor for starts after the
 * newest sekvensnummer, or at the start_at it was subscribed with (a
 * plugin's "fra"); that starting point is stored at once, so a crash before
 * the first acknowledgement does not move it. A stored cursor always wins
 * over start_at.
 *
 * Delivery. After each commit (store_on_commit: the feed takes that hook for
 * itself) every consumer that is idle and behind gets its next batch: at
 * most batch_max hændelser after its position, read on the libuv thread
 * pool through a read-only connection of the consumer's own, so reading
 * never waits for the writer and one consumer's backlog never holds up
 * another's delivery. The batch is handed to the consumer's callback on the
 * loop thread; no other batch follows until the consumer answers with
 * feed_consumer_done:
 *   - 0 (DTR_OK) with up_to: every hændelse up to and including up_to is
 *     durably handled. The position moves there at once (the next batch is
 *     read straight away when more is waiting) and the cursor is written
 *     through the store's writer (store_cursor_set; at most one write per
 *     consumer in flight, later values coalesce). up_to may lie past the
 *     batch: a consumer that read further itself (to coalesce a backlog
 *     into one piece of work) acknowledges what it handled; it is clamped
 *     to the newest committed sekvensnummer. An up_to before the batch's
 *     first counts as a retry.
 *   - anything else (DTR_RETRY, DTR_ERROR): not now. The same hændelser
 *     (and whatever came since) are offered again after a backoff that
 *     starts at retry_min_ms and doubles up to retry_max_ms; a success
 *     resets it. A failing read of the store backs off the same way.
 * Neither a slow nor a failing consumer touches the writer beyond its own
 * cursor writes, so it never slows a write.
 *
 * Subscriptions and reloads. feed_subscribe binds a callback to a name. On
 * a reload the host subscribes the new plugin instance before it
 * unsubscribes the old one; the newest subscription of a name receives the
 * batches. A batch is answered by the subscription it was delivered to
 * (later answers from any other are ignored); when that subscription goes
 * away without answering, the batch is offered again from the position.
 *
 * Threads: every function here runs on the loop thread given to feed_new.
 */
#ifndef DTR_FEED_H
#define DTR_FEED_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "store/store.h"

typedef struct feed feed;
typedef struct feed_consumer feed_consumer;

/* A batch for a consumer: events is API.md's /v1/haendelser array
 * [{"sekvensnummer", "tidspunkt", "operation", "entitet", "nummer",
 * "version", "data"}, ...], never empty, borrowed until the consumer answers
 * (json_incref what is kept longer). The consumer answers with
 * feed_consumer_done exactly once, inside the callback or later. */
typedef void (*feed_consume_fn)(void *udata, const json_t *events);

/* Log sink: level 0 debug, 1 info, 2 warn, 3 error; one line, no newline. */
typedef void (*feed_log_fn)(void *udata, int level, const char *msg);

typedef struct feed_options {
    uv_loop_t *loop;       /* required: the loop the store delivers its results on */
    store *store;          /* required; must outlive the feed (feed_close) */
    size_t batch_max;      /* hændelser per batch at most; 0: 1000 (at most 10000) */
    uint64_t retry_min_ms; /* the first backoff; 0: 1000 */
    uint64_t retry_max_ms; /* the longest; 0: 60000 */
    feed_log_fn log;       /* NULL: lines go to stderr */
    void *log_udata;
} feed_options;

/* Creates the feed and takes the store's commit hook. Delivery begins with
 * the first subscription. NULL with a message in err when the store cannot
 * be read. Loop thread. */
feed *feed_new(const feed_options *opt, char *err, size_t errlen);

/* Stops every delivery, then frees the feed once its reads on the pool and
 * its cursor writes have come back and its timers closed (the loop must
 * keep running until then), and calls done(udata) after that (done may be
 * NULL). Subscriptions still held are released: their handles become
 * invalid. Close the feed before store_close. */
void feed_close(feed *f, void (*done)(void *udata), void *udata);

/* Subscribes fn/udata as the consumer `name` (copied). start_at: the first
 * sekvensnummer to deliver when the store has no cursor for name yet (0 and 1:
 * from the first hændelse), or -1: after the newest. Delivery begins at once (the first batch comes
 * on a later loop iteration, never inside this call). Returns the subscription, or NULL with a
 * message in err (the store could not be read, the feed is closing). */
feed_consumer *feed_subscribe(feed *f, const char *name, int64_t start_at, feed_consume_fn fn,
                              void *udata, char *err, size_t errlen);

/* Ends a subscription (a stopped plugin instance). The handle is invalid
 * afterwards. A batch it had not answered is offered again to the name's
 * next subscription. */
void feed_unsubscribe(feed_consumer *c);

/* The consumer's answer to the batch it was given: status 0 with up_to, or
 * a retry (see above). Ignored when c has no batch outstanding. */
void feed_consumer_done(feed_consumer *c, int64_t up_to, int status);

/* What /metrics shows of one consumer. */
typedef struct feed_consumer_info {
    const char *name;
    int64_t position;  /* the last sekvensnummer the consumer acknowledged */
    int64_t durable;   /* the cursor as last written to the store */
    int64_t lag;       /* the newest sekvensnummer minus position */
    unsigned failures; /* consecutive retries (0 when healthy) */
} feed_consumer_info;

/* The newest sekvensnummer the feed knows of. */
int64_t feed_newest(const feed *f);

/* Calls fn for every consumer name the feed has served since it was
 * created (a name stays after its last subscription ended, so its lag
 * stays visible), in the order they first subscribed. */
void feed_each_consumer(const feed *f, void (*fn)(void *udata, const feed_consumer_info *info),
                        void *udata);

/* ---- the server's signing key (signkey.c) -------------------------------- */

#define SIGNKEY_FILE "signing.key"

/* Loads <data_dir>/signing.key (the 32-byte Ed25519 seed, mode 0600), or
 * creates it when missing (crypto_sign_keypair's seed, written to a
 * temporary file, fsynced, linked into place so that two processes starting
 * at once agree, the directory fsynced), and derives the key pair: sk for
 * crypto_sign_detached, pk the public key. A key file readable by group or
 * others, or of the wrong size, is refused. 0, or -1 with the reason in err.
 * Any thread; blocking (call it at start). */
int signkey_load_or_create(const char *data_dir, unsigned char sk[64], unsigned char pk[32],
                           char *err, size_t errlen);

/* base64 (standard alphabet, padded) of the 32-byte public key into out,
 * which must hold SIGNKEY_PK_B64_LEN bytes; NUL-terminated. */
#define SIGNKEY_PK_B64_LEN 45
void signkey_public_base64(const unsigned char pk[32], char out[SIGNKEY_PK_B64_LEN]);

#endif /* DTR_FEED_H */
