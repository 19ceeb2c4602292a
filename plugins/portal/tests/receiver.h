/*
 * receiver.h -- a webhook receiver for the unit tests: a tiny HTTP/1.1
 * server on 127.0.0.1 (an ephemeral port) on the fake host's libuv loop.
 * It records every request (the webhook headers and the body) and answers
 * with the status its policy picks: a number, or RECV_HANG (never answer),
 * or RECV_CLOSE (close the connection without an answer).
 */
#ifndef PORTAL_RECEIVER_H
#define PORTAL_RECEIVER_H

#include <stddef.h>

#include <uv.h>

#define RECV_HANG (-1)
#define RECV_CLOSE (-2)

typedef struct recv_hit {
    char id[64];
    char timestamp[32];
    char signature[160];
    char content_type[64];
    char *body;
    int answered; /* the status sent (or RECV_HANG / RECV_CLOSE) */
} recv_hit;

typedef struct receiver receiver;

/* Picks the answer to hit, the n-th request this receiver got (0-based). */
typedef int (*recv_policy)(receiver *r, const recv_hit *hit, size_t n, void *udata);

receiver *receiver_new(uv_loop_t *loop, recv_policy policy, void *udata);
/* Closes the listener and every connection; memory goes when the loop ran. */
void receiver_close(receiver *r);
int receiver_port(const receiver *r);
size_t receiver_count(const receiver *r);
const recv_hit *receiver_hit(const receiver *r, size_t i);
/* "http://127.0.0.1:<port>/hook" */
const char *receiver_url(const receiver *r);

/* The policies the tests use: always 200; a status per request from an
 * int array (udata: {n, s0, s1, ...}; requests past n get 200). */
int recv_always_ok(receiver *r, const recv_hit *hit, size_t n, void *udata);
int recv_script(receiver *r, const recv_hit *hit, size_t n, void *udata);

#endif
