/*
 * pump.h -- a long answer streamed on the thread pool a piece at a time:
 * the loop-thread half of every streamed list, shared by the plugins that
 * stream one (unilogin/stream.c, statistik/stream.c). Plugin-side code: it
 * sees only the ABI (include/dtr/plugin.h) and is compiled into each
 * plugin's .so that lists it among its sources.
 *
 * The plugin says what a piece is: ops->piece runs on a pool thread
 * (work_submit), reads what it needs through the plugin's own reader and
 * appends the piece's bytes with pump_put / pump_put_item. The pump does
 * the rest on the loop thread:
 *   - the first piece is made before the head is sent, so a failure there
 *     answers 503 problem+json; on success stream_begin(200, content_type)
 *     (for HEAD: the head, then stream_end, with no body);
 *   - each piece is written with stream_write; one piece is in flight at a
 *     time, and the next is made only when stream_write said there is room
 *     or on_drain came, so a slow client holds at most one piece plus the
 *     host's high-water mark;
 *   - the piece that sets *last ends the answer; a failure once the head is
 *     out ends it cut short (the plugin leaves out its closing bytes) and is
 *     logged: "<what> <request id> cut short after N <items>: <why>";
 *   - when the client goes away the pump forgets the request and releases
 *     ctx at once, or when the piece in flight comes back.
 * Whichever way the answer ends, ops->release(ctx) is called exactly once,
 * on the loop thread, after the last piece.
 */
#ifndef PLUGINS_COMMON_PUMP_H
#define PLUGINS_COMMON_PUMP_H

#include <stdbool.h>
#include <stddef.h>

#include <dtr/plugin.h>

typedef struct pump pump;

typedef struct pump_ops {
    const char *what;  /* the answer in the log line, e.g. "unilogin list" */
    const char *items; /* what pump_put_item counts, in the log line: "rows" */
    /* Pool thread: makes the next piece (the answer's head in the first,
     * its tail in the last) by appending to p; sets *last when the answer
     * is complete. Touches only ctx and the plugin's own reader. 0, or -1
     * when a read failed (the piece's bytes are then dropped). */
    int (*piece)(void *ctx, pump *p, bool *last);
    /* Loop thread: the pump is done with ctx (end the snapshot, give the
     * reader back, free ctx). */
    void (*release)(void *ctx);
} pump_ops;

/* Starts answering req with the pieces ops->piece makes from ctx, as
 * content_type (a string that outlives the answer: a literal). ops must
 * outlive it too (a static). From now on the pump owns req and ctx: it
 * answers, and hands ctx to ops->release when done. Returns false when it
 * could not start (the pool refused the first piece); then it took
 * nothing: ctx and req are still the caller's. Loop thread. */
bool pump_start(const dtr_host_api *api, dtr_plugin *self, dtr_request *req,
                const char *content_type, const pump_ops *ops, void *ctx);

/* Appends n bytes to the piece being made. False when out of memory.
 * Pool thread, inside ops->piece. */
bool pump_put(pump *p, const void *bytes, size_t n);

/* Appends one item of the answer (a row, a line) and counts it for the log
 * line: sep (NULL for none, e.g. "," between JSON elements) goes before
 * every item but the answer's first. False when out of memory. Pool
 * thread, inside ops->piece. */
bool pump_put_item(pump *p, const char *sep, const void *bytes, size_t n);

#endif /* PLUGINS_COMMON_PUMP_H */
