/*
 * curluv.c -- outbound HTTP for the webhooks: libcurl's multi-socket
 * interface driven by the host's libuv loop.
 *
 * libcurl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and
 * when to call it back (CURLMOPT_TIMERFUNCTION); we watch each socket with
 * a uv_poll_t and keep one uv_timer_t, and hand every readiness and expiry
 * to curl_multi_socket_action. After each action the finished transfers are
 * collected (curl_multi_info_read) and their done callbacks run. Nothing
 * here blocks: name resolution uses curl's threaded resolver (never joined
 * on cancel: CURLOPT_QUICK_EXIT), and every
 * request has CURLOPT_TIMEOUT_MS. Redirects are never followed and only
 * http and https are spoken.
 *
 * Memory: the uv handles are closed asynchronously, so each lives in an
 * allocation of its own that its close callback frees; none of them points
 * back at the portal_http once it is closing. Loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <uv.h>

#include "portal.h"

struct portal_http_req {
    portal_http *h;
    CURL *easy;
    struct curl_slist *headers;
    portal_http_done_fn done;
    void *udata;
    char errbuf[CURL_ERROR_SIZE];
    portal_http_req *prev, *next;
};

/* A socket curl asked us to watch. */
typedef struct http_sock {
    uv_poll_t poll;
    portal_http *h;
    curl_socket_t fd;
    struct http_sock *prev, *next;
} http_sock;

typedef struct http_timer {
    uv_timer_t timer;
    portal_http *h;
} http_timer;

struct portal_http {
    uv_loop_t *loop;
    CURLM *multi;
    http_timer *timer;
    portal_http_req *reqs;
    http_sock *socks;
    size_t active;
};

static void http_free_handle(uv_handle_t *handle)
{
    free(handle->data);
}

/* Unlinks a socket's watcher and closes it; its memory goes on close. */
static void http_sock_close(http_sock *s)
{
    portal_http *h = s->h;
    if (s->prev)
        s->prev->next = s->next;
    else
        h->socks = s->next;
    if (s->next) s->next->prev = s->prev;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, http_free_handle);
}

/* Collects the transfers that ended and runs their callbacks. A callback
 * may start new requests (they are only added, never run, from here). */
static void http_collect(portal_http *h)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE) continue;
        portal_http_req *r = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        CURLcode rc = msg->data.result;
        long status = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        char error[CURL_ERROR_SIZE + 64] = "";
        if (rc != CURLE_OK)
            snprintf(error, sizeof error, "%s", r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
        portal_http_done_fn done = r->done;
        void *udata = r->udata;
        portal_http_cancel(h, r);
        done(udata, rc == CURLE_OK ? status : 0, rc == CURLE_OK ? NULL : error);
    }
}

static void http_on_poll(uv_poll_t *poll, int status, int events)
{
    http_sock *s = poll->data;
    portal_http *h = s->h;
    int flags = 0;
    if (status < 0) {
        flags = CURL_CSELECT_ERR;
    } else {
        if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    }
    int running;
    curl_multi_socket_action(h->multi, s->fd, flags, &running);
    http_collect(h);
}

static void http_on_timeout(uv_timer_t *timer)
{
    http_timer *t = timer->data;
    int running;
    curl_multi_socket_action(t->h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    http_collect(t->h);
}

/* CURLMOPT_SOCKETFUNCTION: start, change or stop watching one socket. */
static int http_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    portal_http *h = userp;
    http_sock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(h->multi, fd, NULL);
            http_sock_close(s);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return -1;
        if (uv_poll_init_socket(h->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        s->h = h;
        s->fd = fd;
        s->next = h->socks;
        if (h->socks) h->socks->prev = s;
        h->socks = s;
        curl_multi_assign(h->multi, fd, s);
    }
    int events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, http_on_poll);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: (re)arm or stop the one timer. curl must not be
 * called back from inside this function, so even 0 goes through the loop. */
static int http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    portal_http *h = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&h->timer->timer);
    else
        uv_timer_start(&h->timer->timer, http_on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

/* libcurl's global state is set up once per process and never torn down
 * (a reload creates new instances in the same process). */
static int http_global_init(void)
{
    static int done;
    if (done) return 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return -1;
    done = 1;
    return 0;
}

portal_http *portal_http_new(void *uv_loop, char *err, size_t errlen)
{
    if (!uv_loop || http_global_init() != 0) {
        snprintf(err, errlen, "libcurl could not be initialised");
        return NULL;
    }
    portal_http *h = calloc(1, sizeof *h);
    http_timer *t = calloc(1, sizeof *t);
    if (!h || !t) {
        free(h);
        free(t);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->loop = uv_loop;
    h->multi = curl_multi_init();
    if (!h->multi || uv_timer_init(h->loop, &t->timer) != 0) {
        if (h->multi) curl_multi_cleanup(h->multi);
        free(h);
        free(t);
        snprintf(err, errlen, "libcurl multi handle could not be made");
        return NULL;
    }
    t->timer.data = t;
    t->h = h;
    h->timer = t;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, http_timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    return h;
}

void portal_http_close(portal_http *h)
{
    if (!h) return;
    while (h->reqs)
        portal_http_cancel(h, h->reqs);
    curl_multi_cleanup(h->multi);
    while (h->socks)
        http_sock_close(h->socks);
    uv_timer_stop(&h->timer->timer);
    uv_close((uv_handle_t *)&h->timer->timer, http_free_handle);
    free(h);
}

/* The response body is not kept: a 2xx is all a webhook needs. */
static size_t http_discard(char *data, size_t size, size_t nmemb, void *udata)
{
    (void)data;
    (void)udata;
    return size * nmemb;
}

portal_http_req *portal_http_post(portal_http *h, const char *url, const char *body, size_t len,
                                  const char *const *headers, size_t n_headers, uint64_t timeout_ms,
                                  portal_http_done_fn done, void *udata, char *err, size_t errlen)
{
    portal_http_req *r = calloc(1, sizeof *r);
    if (!r || !(r->easy = curl_easy_init())) {
        free(r);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->h = h;
    r->done = done;
    r->udata = udata;
    struct curl_slist *list = curl_slist_append(NULL, "Content-Type: application/json");
    if (list) list = curl_slist_append(list, "Expect:");
    for (size_t i = 0; list && i < n_headers; i++) {
        struct curl_slist *more = curl_slist_append(list, headers[i]);
        if (!more) {
            curl_slist_free_all(list);
            list = NULL;
        }
        list = more;
    }
    r->headers = list;
    CURL *e = r->easy;
    CURLcode rc = list ? CURLE_OK : CURLE_OUT_OF_MEMORY;
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, CURLOPT_URL, url);
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    /* a request cancelled while its name lookup runs leaves the resolver
     * thread to finish alone: without this, curl joins it on the loop */
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L);
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, CURLOPT_POST, 1L);
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, CURLOPT_USERAGENT, "dtr-portal/1.0");
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_discard);
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
    if (rc != CURLE_OK || curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        snprintf(err, errlen, "the request could not be set up: %s",
                 rc != CURLE_OK ? curl_easy_strerror(rc) : "curl_multi_add_handle failed");
        curl_easy_cleanup(e);
        curl_slist_free_all(r->headers);
        free(r);
        return NULL;
    }
    r->next = h->reqs;
    if (h->reqs) h->reqs->prev = r;
    h->reqs = r;
    h->active++;
    return r;
}

void portal_http_cancel(portal_http *h, portal_http_req *r)
{
    if (!h || !r) return;
    if (r->prev)
        r->prev->next = r->next;
    else
        h->reqs = r->next;
    if (r->next) r->next->prev = r->prev;
    h->active--;
    curl_multi_remove_handle(h->multi, r->easy);
    curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    free(r);
}

size_t portal_http_active(const portal_http *h)
{
    return h ? h->active : 0;
}
