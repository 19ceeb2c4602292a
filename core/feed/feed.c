/*
 * feed.c -- delivery of hændelser to consumers (see feed.h).
 *
 * One channel per consumer name holds what outlives a subscription: the
 * position (the last sekvensnummer acknowledged), the durable cursor, the
 * reader its batches are read with, its backoff timer and the batch it has
 * outstanding. A channel is always in exactly one state:
 *
 *   IDLE         nothing in flight; feed_pump starts a read when the channel
 *                has a subscriber and is behind the newest sekvensnummer
 *   READING      a read of the next batch runs on the thread pool
 *   OUTSTANDING  a batch was handed to a subscriber and awaits its answer
 *   BACKOFF      a retry waits for the channel's timer
 *
 * Cursor writes run beside these states (one in flight per channel).
 * Everything here runs on the loop thread but read_work, which only touches
 * the channel's own reader and the fields of the read in flight.
 */
#include "feed/feed.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEED_BATCH_DEFAULT 1000
#define FEED_BATCH_LIMIT 10000
#define FEED_RETRY_MIN_MS 1000
#define FEED_RETRY_MAX_MS 60000

typedef enum chan_state { CH_IDLE, CH_READING, CH_OUTSTANDING, CH_BACKOFF } chan_state;

typedef struct feed_channel feed_channel;

struct feed_consumer {
    feed_channel *ch;
    feed_consume_fn fn;
    void *udata;
    feed_consumer *next; /* the channel's subscriptions, newest first */
};

struct feed_channel {
    feed *f;
    feed_channel *next;
    char *name;
    feed_consumer *subs;
    store_reader *reader; /* for the pool reads; one in flight at a time */
    chan_state state;
    int64_t position; /* the last sekvensnummer acknowledged */
    int64_t durable;  /* the cursor the store holds (-1: none written yet) */
    bool cursor_busy; /* a store_cursor_set in flight */
    int64_t cursor_writing;

    /* the read in flight (READING) */
    uv_work_t work;
    int64_t read_from;
    size_t read_max;
    json_t *read_result;
    int read_rc;

    /* the batch outstanding (OUTSTANDING) */
    json_t *batch;
    feed_consumer *batch_owner;
    int64_t batch_first, batch_last;

    uv_timer_t timer; /* the backoff */
    unsigned failures;
};

struct feed {
    uv_loop_t *loop;
    store *s;
    store_reader *reader; /* the loop thread's: cursors and the newest */
    size_t batch_max;
    uint64_t retry_min_ms, retry_max_ms;
    feed_log_fn log;
    void *log_udata;
    int64_t newest;
    feed_channel *channels; /* in order of first subscription */
    feed_channel **tail;
    size_t pending; /* reads, cursor writes and handle closes not yet back */
    bool closing;
    void (*closed)(void *udata);
    void *closed_udata;
};

static void feed_pump(feed_channel *ch);

__attribute__((format(printf, 3, 4))) static void feed_log(const feed *f, int level,
                                                           const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (f->log)
        f->log(f->log_udata, level, line);
    else
        fprintf(stderr, "feed: %s\n", line);
}

/* ---- opening and closing ----------------------------------------------------- */

/* The store's commit hook: a commit wrote hændelser up to last. Every channel
 * that is idle and now behind starts reading. Loop thread. */
static void feed_on_commit(void *udata, int64_t last)
{
    feed *f = udata;
    if (last > f->newest) f->newest = last;
    for (feed_channel *ch = f->channels; ch; ch = ch->next)
        feed_pump(ch);
}

feed *feed_new(const feed_options *opt, char *err, size_t errlen)
{
    if (!opt || !opt->loop || !opt->store) {
        snprintf(err, errlen, "feed_new: a loop and a store are required");
        return NULL;
    }
    feed *f = calloc(1, sizeof *f);
    if (!f) abort();
    f->loop = opt->loop;
    f->s = opt->store;
    f->batch_max = opt->batch_max ? opt->batch_max : FEED_BATCH_DEFAULT;
    if (f->batch_max > FEED_BATCH_LIMIT) f->batch_max = FEED_BATCH_LIMIT;
    f->retry_min_ms = opt->retry_min_ms ? opt->retry_min_ms : FEED_RETRY_MIN_MS;
    f->retry_max_ms = opt->retry_max_ms ? opt->retry_max_ms : FEED_RETRY_MAX_MS;
    if (f->retry_max_ms < f->retry_min_ms) f->retry_max_ms = f->retry_min_ms;
    f->log = opt->log;
    f->log_udata = opt->log_udata;
    f->tail = &f->channels;
    f->reader = store_reader_open(f->s, err, errlen);
    if (!f->reader) {
        free(f);
        return NULL;
    }
    char tidspunkt[40];
    if (store_latest(f->reader, &f->newest, tidspunkt) != 0) {
        snprintf(err, errlen, "feed: cannot read the newest sekvensnummer");
        store_reader_close(f->reader);
        free(f);
        return NULL;
    }
    store_on_commit(f->s, feed_on_commit, f);
    return f;
}

/* Frees what is left once nothing is in flight, then tells the owner. */
static void feed_maybe_finish(feed *f)
{
    if (!f->closing || f->pending) return;
    feed_channel *ch = f->channels;
    while (ch) {
        feed_channel *next = ch->next;
        if (ch->reader) store_reader_close(ch->reader);
        free(ch->name);
        free(ch);
        ch = next;
    }
    store_reader_close(f->reader);
    void (*done)(void *) = f->closed;
    void *udata = f->closed_udata;
    free(f);
    if (done) done(udata);
}

static void feed_timer_closed(uv_handle_t *h)
{
    feed_channel *ch = h->data;
    feed *f = ch->f;
    f->pending--;
    feed_maybe_finish(f);
}

void feed_close(feed *f, void (*done)(void *udata), void *udata)
{
    if (!f || f->closing) return;
    f->closing = true;
    f->closed = done;
    f->closed_udata = udata;
    store_on_commit(f->s, NULL, NULL);
    for (feed_channel *ch = f->channels; ch; ch = ch->next) {
        while (ch->subs) {
            feed_consumer *c = ch->subs;
            ch->subs = c->next;
            free(c);
        }
        json_decref(ch->batch);
        ch->batch = NULL;
        ch->batch_owner = NULL;
        uv_timer_stop(&ch->timer);
        f->pending++;
        uv_close((uv_handle_t *)&ch->timer, feed_timer_closed);
    }
    feed_maybe_finish(f);
}

/* ---- the cursor ---------------------------------------------------------------- */

static void feed_write_cursor(feed_channel *ch);

/* The store's answer to a cursor write. A failure is logged and left: the
 * next acknowledgement writes again, and a restart before that only
 * delivers some hændelser a second time. */
static void feed_cursor_written(const store_result *res, void *udata)
{
    feed_channel *ch = udata;
    feed *f = ch->f;
    f->pending--;
    ch->cursor_busy = false;
    if (res->status == 0) {
        ch->durable = ch->cursor_writing;
        if (!f->closing && ch->position != ch->durable) feed_write_cursor(ch);
    } else {
        feed_log(f, 2, "consumer %s: the cursor %lld could not be stored (status %d)", ch->name,
                 (long long)ch->cursor_writing, res->status);
    }
    feed_maybe_finish(f);
}

/* Writes the position as the durable cursor through the store's writer,
 * unless a write is in flight (its answer writes the newer value). */
static void feed_write_cursor(feed_channel *ch)
{
    feed *f = ch->f;
    if (ch->cursor_busy || ch->position == ch->durable) return;
    ch->cursor_busy = true;
    ch->cursor_writing = ch->position;
    f->pending++;
    if (store_cursor_set(f->s, ch->name, ch->position, feed_cursor_written, ch) != 0) {
        f->pending--;
        ch->cursor_busy = false;
        feed_log(f, 3, "consumer %s: the store refused the cursor write", ch->name);
    }
}

/* ---- backoff --------------------------------------------------------------------- */

static void feed_backoff_fired(uv_timer_t *t)
{
    feed_channel *ch = t->data;
    if (ch->state != CH_BACKOFF) return;
    ch->state = CH_IDLE;
    feed_pump(ch);
}

/* The delay before the next attempt after `failures` failures in a row:
 * retry_min, doubling, at most retry_max. */
static uint64_t feed_backoff_ms(const feed *f, unsigned failures)
{
    uint64_t ms = f->retry_min_ms;
    for (unsigned i = 1; i < failures && ms < f->retry_max_ms; i++)
        ms *= 2;
    return ms < f->retry_max_ms ? ms : f->retry_max_ms;
}

static void feed_back_off(feed_channel *ch)
{
    feed *f = ch->f;
    ch->failures++;
    uint64_t ms = feed_backoff_ms(f, ch->failures);
    ch->state = CH_BACKOFF;
    uv_timer_start(&ch->timer, feed_backoff_fired, ms, 0);
    feed_log(f, 2, "consumer %s: retry %u after %llu ms from sekvensnummer %lld", ch->name,
             ch->failures, (unsigned long long)ms, (long long)ch->position + 1);
}

/* ---- reading and delivering ----------------------------------------------------- */

/* Pool thread: the next batch, on the channel's own reader. */
static void feed_read_work(uv_work_t *w)
{
    feed_channel *ch = w->data;
    ch->read_result = NULL;
    ch->read_rc = store_haendelser(ch->reader, ch->read_from, ch->read_max, &ch->read_result);
}

/* Loop thread: hands the batch read to the newest subscription. An empty
 * read leaves the channel idle until the next commit; a failed one backs
 * off. */
static void feed_read_done(uv_work_t *w, int status)
{
    feed_channel *ch = w->data;
    feed *f = ch->f;
    f->pending--;
    json_t *events = ch->read_result;
    ch->read_result = NULL;
    if (f->closing) {
        json_decref(events);
        feed_maybe_finish(f);
        return;
    }
    ch->state = CH_IDLE;
    if (status != 0 || ch->read_rc != 0 || !events) {
        json_decref(events);
        feed_log(f, 2, "consumer %s: reading hændelser from %lld failed", ch->name,
                 (long long)ch->read_from);
        feed_back_off(ch);
        return;
    }
    size_t n = json_array_size(events);
    if (n == 0 || !ch->subs) {
        json_decref(events);
        return;
    }
    int64_t last =
        json_integer_value(json_object_get(json_array_get(events, n - 1), "sekvensnummer"));
    if (last > f->newest) f->newest = last;
    ch->state = CH_OUTSTANDING;
    ch->batch = events;
    ch->batch_owner = ch->subs;
    ch->batch_first =
        json_integer_value(json_object_get(json_array_get(events, 0), "sekvensnummer"));
    ch->batch_last = last;
    /* The consumer may answer inside the call, which releases the batch:
     * hold a reference of our own for the duration. */
    json_incref(events);
    ch->batch_owner->fn(ch->batch_owner->udata, events);
    json_decref(events);
}

/* Starts reading the channel's next batch when it is idle, has someone to
 * deliver to and is behind. Safe to call at any time. */
static void feed_pump(feed_channel *ch)
{
    feed *f = ch->f;
    if (f->closing || ch->state != CH_IDLE || !ch->subs || ch->position >= f->newest) return;
    ch->state = CH_READING;
    ch->read_from = ch->position + 1;
    ch->read_max = f->batch_max;
    ch->work.data = ch;
    if (uv_queue_work(f->loop, &ch->work, feed_read_work, feed_read_done) != 0) {
        ch->state = CH_IDLE;
        feed_log(f, 3, "consumer %s: cannot queue a read", ch->name);
        feed_back_off(ch);
        return;
    }
    f->pending++;
}

/* Reads the newest sekvensnummer on the loop's reader: a consumer may have
 * read a commit whose wake-up has not reached the loop yet. */
static void feed_refresh_newest(feed *f)
{
    int64_t newest = 0;
    char tidspunkt[40];
    if (store_latest(f->reader, &newest, tidspunkt) == 0 && newest > f->newest) f->newest = newest;
}

void feed_consumer_done(feed_consumer *c, int64_t up_to, int status)
{
    if (!c) return;
    feed_channel *ch = c->ch;
    feed *f = ch->f;
    if (ch->state != CH_OUTSTANDING || ch->batch_owner != c) {
        feed_log(f, 1, "consumer %s: an answer without a batch outstanding was ignored", ch->name);
        return;
    }
    json_decref(ch->batch);
    ch->batch = NULL;
    ch->batch_owner = NULL;
    if (status == 0 && up_to >= ch->batch_first) {
        if (up_to > f->newest) feed_refresh_newest(f);
        if (up_to > f->newest) up_to = f->newest;
        ch->position = up_to;
        ch->failures = 0;
        ch->state = CH_IDLE;
        feed_write_cursor(ch);
        feed_pump(ch);
    } else {
        if (status == 0)
            feed_log(f, 2, "consumer %s: acknowledged %lld, before its batch (%lld..%lld)",
                     ch->name, (long long)up_to, (long long)ch->batch_first,
                     (long long)ch->batch_last);
        feed_back_off(ch);
    }
}

/* ---- subscriptions ------------------------------------------------------------------ */

static feed_channel *feed_find_channel(feed *f, const char *name)
{
    for (feed_channel *ch = f->channels; ch; ch = ch->next)
        if (strcmp(ch->name, name) == 0) return ch;
    return NULL;
}

/* A channel for a name seen for the first time: its position from the
 * stored cursor, or -- for a new consumer -- from start_at or the newest
 * sekvensnummer, stored at once. */
static feed_channel *feed_open_channel(feed *f, const char *name, int64_t start_at, char *err,
                                       size_t errlen)
{
    int64_t cursor = 0;
    int rc = store_cursor_get(f->reader, name, &cursor);
    if (rc != 0 && rc != 404) {
        snprintf(err, errlen, "consumer %s: cannot read its cursor", name);
        return NULL;
    }
    char tidspunkt[40];
    int64_t newest = 0;
    if (store_latest(f->reader, &newest, tidspunkt) != 0) {
        snprintf(err, errlen, "consumer %s: cannot read the newest sekvensnummer", name);
        return NULL;
    }
    if (newest > f->newest) f->newest = newest;

    feed_channel *ch = calloc(1, sizeof *ch);
    if (!ch) abort();
    ch->f = f;
    ch->name = strdup(name);
    if (!ch->name) abort();
    ch->reader = store_reader_open(f->s, err, errlen);
    if (!ch->reader) {
        free(ch->name);
        free(ch);
        return NULL;
    }
    if (rc == 0) {
        ch->position = ch->durable = cursor;
    } else {
        ch->durable = -1;
        if (start_at >= 0)
            ch->position = start_at > 0 ? start_at - 1 : 0;
        else
            ch->position = f->newest;
        feed_log(f, 1, "consumer %s: new, starts after sekvensnummer %lld", name,
                 (long long)ch->position);
    }
    uv_timer_init(f->loop, &ch->timer);
    ch->timer.data = ch;
    *f->tail = ch;
    f->tail = &ch->next;
    if (ch->durable < 0) feed_write_cursor(ch);
    return ch;
}

feed_consumer *feed_subscribe(feed *f, const char *name, int64_t start_at, feed_consume_fn fn,
                              void *udata, char *err, size_t errlen)
{
    if (!f || f->closing || !name || !*name || !fn) {
        snprintf(err, errlen, "feed_subscribe: %s",
                 f && f->closing ? "the feed is closing" : "a name and a callback are required");
        return NULL;
    }
    feed_channel *ch = feed_find_channel(f, name);
    if (!ch) ch = feed_open_channel(f, name, start_at, err, errlen);
    if (!ch) return NULL;
    feed_consumer *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->ch = ch;
    c->fn = fn;
    c->udata = udata;
    c->next = ch->subs;
    ch->subs = c;
    feed_pump(ch);
    return c;
}

void feed_unsubscribe(feed_consumer *c)
{
    if (!c) return;
    feed_channel *ch = c->ch;
    for (feed_consumer **p = &ch->subs; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    if (ch->state == CH_OUTSTANDING && ch->batch_owner == c) {
        json_decref(ch->batch);
        ch->batch = NULL;
        ch->batch_owner = NULL;
        ch->state = CH_IDLE;
        feed_pump(ch);
    }
    free(c);
}

/* ---- what /metrics shows -------------------------------------------------------------- */

int64_t feed_newest(const feed *f)
{
    return f->newest;
}

void feed_each_consumer(const feed *f, void (*fn)(void *udata, const feed_consumer_info *info),
                        void *udata)
{
    for (const feed_channel *ch = f->channels; ch; ch = ch->next) {
        feed_consumer_info info = {.name = ch->name,
                                   .position = ch->position,
                                   .durable = ch->durable < 0 ? 0 : ch->durable,
                                   .lag = f->newest > ch->position ? f->newest - ch->position : 0,
                                   .failures = ch->failures};
        fn(udata, &info);
    }
}
