/*
 * state.c -- the webhooks' durable state: <data_dir>/portal/webhooks.json.
 *
 *   {"format": 1, "queuedUpTo": Q,
 *    "subscribers": [{"url", "position",
 *                     "parked": [{"sekvensnummer", "operation", "entitet", "nummer",
 *                                 "attempts", "lastError", "parkedAt", "replay"}]}]}
 *
 * (portal.h says why positions are enough: the events themselves stay in
 * the register's hændelser.) The file is small and rewritten whole, on the
 * pool, atomically: temp file, fsync, rename, fsync of the directory. One
 * write is in flight at a time; changes made meanwhile are coalesced into
 * the next write, so a burst of deliveries costs a few fsyncs, not one
 * each. A position written late only means an event may be sent again
 * after a crash (at-least-once), never that one is lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portal.h"

#define STATE_FORMAT 1
#define WRITE_RETRY_MS 1000

/* Serialises writes of the file across instances of one process (a reload
 * runs the old and the new instance side by side for a moment). */
static pthread_mutex_t state_write_lock = PTHREAD_MUTEX_INITIALIZER;

/* The generation (plugin.c) of the instance whose write reached the disk
 * last. A write of an older instance that was still in flight when a newer
 * one took over is dropped instead of putting the file back. */
static pthread_mutex_t state_order_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t state_newest_written;

/* Writes all of data to fd; -1 on error. */
static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int portal_write_atomic(const char *dir, const char *path, const char *data, size_t len)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    pthread_mutex_lock(&state_write_lock);
    int rc = -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        int failed = write_all(fd, data, len) || fsync(fd);
        int saved = errno;
        close(fd);
        errno = saved;
        if (!failed && rename(tmp, path) == 0) {
            int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                rc = fsync(dfd);
                saved = errno;
                close(dfd);
                errno = saved;
            }
        } else {
            saved = errno;
            unlink(tmp);
            errno = saved;
        }
    }
    pthread_mutex_unlock(&state_write_lock);
    return rc;
}

/* ---- the JSON form ---------------------------------------------------------- */

static json_t *parked_json(const portal_parked *pk)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:i, s:s, s:I, s:b}", "sekvensnummer",
                     (json_int_t)pk->ev.seq, "operation", pk->ev.operation, "entitet",
                     pk->ev.entitet, "nummer", pk->ev.nummer, "attempts", (int)pk->attempts,
                     "lastError", pk->last_error, "parkedAt", (json_int_t)pk->parked_at, "replay",
                     pk->replay);
}

json_t *portal_state_json(const portal *p)
{
    json_t *subs = json_array();
    for (size_t i = 0; subs && i < p->n_subs; i++) {
        const portal_sub *s = &p->subs[i];
        json_t *parked = json_array();
        for (size_t k = 0; parked && k < s->n_parked; k++)
            json_array_append_new(parked, parked_json(&s->parked[k]));
        json_array_append_new(subs, json_pack("{s:s, s:I, s:o*}", "url", s->url, "position",
                                              (json_int_t)s->position, "parked", parked));
    }
    return json_pack("{s:i, s:I, s:o*}", "format", STATE_FORMAT, "queuedUpTo",
                     (json_int_t)p->queued_up_to, "subscribers", subs);
}

/* Reads one parked entry; -1 when it is malformed. */
static int parked_from_json(const json_t *j, portal_parked *pk)
{
    memset(pk, 0, sizeof *pk);
    if (portal_event_from_json(j, &pk->ev)) return -1;
    json_t *attempts = json_object_get(j, "attempts");
    json_t *at = json_object_get(j, "parkedAt");
    json_t *replay = json_object_get(j, "replay");
    const char *last = json_string_value(json_object_get(j, "lastError"));
    if (!json_is_integer(attempts) || !json_is_integer(at) || !json_is_boolean(replay) || !last)
        return -1;
    pk->attempts = (unsigned)json_integer_value(attempts);
    pk->parked_at = json_integer_value(at);
    pk->replay = json_is_true(replay);
    snprintf(pk->last_error, sizeof pk->last_error, "%s", last);
    return 0;
}

/* Fills the configured subscribers from the file's content. */
static int state_apply(portal *p, const json_t *root, char *err, size_t errlen)
{
    json_t *q = json_object_get(root, "queuedUpTo");
    json_t *subs = json_object_get(root, "subscribers");
    if (!json_is_integer(json_object_get(root, "format")) ||
        json_integer_value(json_object_get(root, "format")) != STATE_FORMAT ||
        !json_is_integer(q) || json_integer_value(q) < 0 || !json_is_array(subs)) {
        snprintf(err, errlen, "%s: not a portal state file of format %d", p->state_path,
                 STATE_FORMAT);
        return -1;
    }
    p->queued_up_to = p->durable_queued_up_to = json_integer_value(q);
    for (size_t i = 0; i < p->n_subs; i++)
        p->subs[i].position = p->queued_up_to > 0 ? p->queued_up_to : -1;
    size_t i;
    json_t *entry;
    json_array_foreach(subs, i, entry)
    {
        const char *url = json_string_value(json_object_get(entry, "url"));
        json_t *pos = json_object_get(entry, "position");
        json_t *parked = json_object_get(entry, "parked");
        if (!url || !json_is_integer(pos) || !json_is_array(parked)) {
            snprintf(err, errlen, "%s: subscribers[%zu] is malformed", p->state_path, i);
            return -1;
        }
        portal_sub *s = NULL;
        for (size_t k = 0; k < p->n_subs && !s; k++)
            if (strcmp(p->subs[k].url, url) == 0) s = &p->subs[k];
        if (!s) {
            p->api->log(p->self, DTR_LOG_WARN,
                        "webhook %s is no longer configured: its position %" PRId64
                        " and %zu parked events are dropped",
                        url, (int64_t)json_integer_value(pos), json_array_size(parked));
            continue;
        }
        s->position = json_integer_value(pos);
        size_t k;
        json_t *pj;
        json_array_foreach(parked, k, pj)
        {
            portal_parked pk;
            if (parked_from_json(pj, &pk) || portal_sub_park(s, &pk)) {
                snprintf(err, errlen, "%s: subscribers[%zu].parked[%zu] is malformed",
                         p->state_path, i, k);
                return -1;
            }
        }
    }
    return 0;
}

int portal_state_load(portal *p, char *err, size_t errlen)
{
    if (mkdir(p->dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", p->dir, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < p->n_subs; i++)
        p->subs[i].position = -1;
    /* Open first and judge that open's errno: asking again after a failed
     * load raced with an older instance's rename putting the file in place. */
    FILE *f = fopen(p->state_path, "r");
    if (!f) {
        if (errno == ENOENT) return 0; /* a first start */
        snprintf(err, errlen, "%s: %s", p->state_path, strerror(errno));
        return -1;
    }
    json_error_t jerr;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!root) {
        snprintf(err, errlen, "%s: %s (line %d)", p->state_path, jerr.text, jerr.line);
        return -1;
    }
    int rc = state_apply(p, root, err, errlen);
    json_decref(root);
    return rc;
}

/* ---- writing ------------------------------------------------------------------ */

typedef struct state_write {
    portal *p;
    char *dir, *path, *data;
    size_t len;
    int64_t queued_up_to; /* what this write makes durable */
    uint64_t generation;
    int rc, error;
    bool superseded; /* a newer instance had written already: not written */
} state_write;

static void state_kick(portal *p);

/* Pool thread: the write itself, on the work item's own copies. */
static void state_write_run(void *udata)
{
    state_write *w = udata;
    pthread_mutex_lock(&state_order_lock);
    if (w->generation < state_newest_written) {
        w->superseded = true;
    } else {
        w->rc = portal_write_atomic(w->dir, w->path, w->data, w->len);
        w->error = w->rc ? errno : 0;
        if (w->rc == 0) state_newest_written = w->generation;
    }
    pthread_mutex_unlock(&state_order_lock);
}

void portal_state_forget(const portal *p)
{
    pthread_mutex_lock(&state_order_lock);
    if (state_newest_written == p->generation) state_newest_written = 0;
    pthread_mutex_unlock(&state_order_lock);
}

static void state_retry_fire(dtr_timer *t, void *udata)
{
    portal *p = udata;
    p->api->timer_stop(t);
    p->write_retry = NULL;
    state_kick(p);
}

/* Loop thread: the write ended. The consume batch waiting for it is
 * answered: DTR_OK once its events are durably queued, DTR_RETRY when the
 * write failed (the feed hands the batch over again after a backoff). */
static void state_write_done(void *udata, int status)
{
    state_write *w = udata;
    portal *p = w->p;
    p->writing = false;
    if (status == 0 && w->superseded) {
        /* a newer instance owns the file (a reload): it delivers from here */
        if (p->consume.waiting) {
            p->consume.waiting = false;
            p->api->consume_done(p->self, p->durable_queued_up_to, DTR_RETRY);
        }
    } else if (status == 0 && w->rc == 0) {
        if (w->queued_up_to > p->durable_queued_up_to) p->durable_queued_up_to = w->queued_up_to;
        p->write_failed = false;
        if (p->consume.waiting && p->durable_queued_up_to >= p->consume.up_to) {
            p->consume.waiting = false;
            p->api->consume_done(p->self, p->consume.up_to, DTR_OK);
        }
    } else {
        p->api->log(p->self, DTR_LOG_ERROR, "writing %s failed: %s", w->path,
                    status != 0 ? "cancelled" : strerror(w->error));
        p->write_failed = true;
        p->dirty = true;
        if (p->consume.waiting) {
            p->consume.waiting = false;
            p->api->consume_done(p->self, p->durable_queued_up_to, DTR_RETRY);
        }
        if (!p->write_retry && !p->stopping)
            p->write_retry = p->api->timer_start(p->self, WRITE_RETRY_MS, 0, state_retry_fire, p);
    }
    free(w->dir);
    free(w->path);
    free(w->data);
    free(w);
    if (!p->write_failed) state_kick(p);
}

/* Starts a write of the current state when one is due and none is in
 * flight (nor waiting out a failure). */
static void state_kick(portal *p)
{
    if (p->writing || !p->dirty || p->write_retry) return;
    if (!portal_is_newest(p)) {
        /* a newer instance owns the file now; this one's batch goes to it */
        p->dirty = false;
        if (p->consume.waiting) {
            p->consume.waiting = false;
            p->api->consume_done(p->self, p->durable_queued_up_to, DTR_RETRY);
        }
        return;
    }
    state_write *w = calloc(1, sizeof *w);
    json_t *j = portal_state_json(p);
    if (w && j) {
        w->p = p;
        w->dir = strdup(p->dir);
        w->path = strdup(p->state_path);
        w->data = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        w->queued_up_to = p->queued_up_to;
        w->generation = p->generation;
    }
    json_decref(j);
    if (!w || !w->dir || !w->path || !w->data) {
        if (w) {
            free(w->dir);
            free(w->path);
            free(w->data);
        }
        free(w);
        p->api->log(p->self, DTR_LOG_ERROR, "out of memory writing %s", p->state_path);
        return;
    }
    w->len = strlen(w->data);
    p->dirty = false;
    p->writing = true;
    if (p->api->work_submit(p->self, state_write_run, state_write_done, w) != DTR_OK) {
        p->writing = false;
        p->dirty = true;
        free(w->dir);
        free(w->path);
        free(w->data);
        free(w);
        p->api->log(p->self, DTR_LOG_ERROR, "could not queue the write of %s", p->state_path);
        if (p->consume.waiting) {
            p->consume.waiting = false;
            p->api->consume_done(p->self, p->durable_queued_up_to, DTR_RETRY);
        }
    }
}

void portal_state_changed(portal *p)
{
    p->dirty = true;
    state_kick(p);
}
