/*
 * submit.c -- the loop side of the store: opening and closing, queueing
 * jobs for the writer, delivering answers (uv_async), the in-flight
 * idempotency keys, and the private loop of CLI tools and tests.
 *
 * In-flight idempotency keys live only here, on the loop thread: a second
 * request with the key of a request still in flight waits for the first
 * one's answer (same bytes) or is refused at once (other bytes). Keys
 * already committed are the writer's business (writer.c), in the database.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store/store_int.h"

#define IDEM_BUCKETS 256

typedef struct idem_slot {
    struct idem_slot *next;
    char *client;
    char *key;
    uint8_t body_hash[32];
    store_job *job; /* the first request, in flight */
    store_waiter *waiters;
} idem_slot;

static size_t idem_bucket(const char *client, const char *key)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *p = client; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 0x1f) * 1099511628211ULL;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return (size_t)(h % IDEM_BUCKETS);
}

static idem_slot **idem_find(store *s, const char *client, const char *key)
{
    idem_slot **p = &s->idem[idem_bucket(client, key)];
    while (*p && (strcmp((*p)->client, client) != 0 || strcmp((*p)->key, key) != 0))
        p = &(*p)->next;
    return p;
}

static char *dup_or_null(const char *s)
{
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

static store_job *job_new(job_kind kind, store_done_fn cb, void *udata)
{
    store_job *j = calloc(1, sizeof *j);
    if (!j) abort();
    j->kind = kind;
    j->cb = cb;
    j->udata = udata;
    j->res.failed_step = -1;
    return j;
}

/* Hands a job to the writer. */
static void enqueue(store *s, store_job *j)
{
    s->in_flight++;
    pthread_mutex_lock(&s->mu);
    if (s->queue_tail)
        s->queue_tail->next = j;
    else
        s->queue_head = j;
    s->queue_tail = j;
    s->queue_len++;
    s->stats.queued = s->queue_len;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

/* Delivers an answer made on the loop side through the done list, so that
 * the callback never runs inside store_submit. */
static void answer_later(store *s, store_job *j)
{
    s->in_flight++;
    pthread_mutex_lock(&s->mu);
    if (s->done_tail)
        s->done_tail->next = j;
    else
        s->done_head = j;
    s->done_tail = j;
    pthread_mutex_unlock(&s->mu);
    uv_async_send(s->async);
}

static void deliver(store *s, store_job *j)
{
    j->res.errors = j->errors;
    j->res.n_errors = j->n_errors;
    j->res.changes = j->changes;
    j->res.n_changes = j->n_changes;
    j->res.steps = j->step_results;
    j->res.n_steps = j->step_results ? j->n_steps : 0;
    store_waiter *waiters = NULL;
    if (j->idem_client && j->kind == JOB_COMMAND) {
        idem_slot **p = idem_find(s, j->idem_client, j->idem_key);
        if (*p && (*p)->job == j) {
            idem_slot *slot = *p;
            *p = slot->next;
            waiters = slot->waiters;
            free(slot->client);
            free(slot->key);
            free(slot);
        }
    }
    s->in_flight--;
    if (j->cb) j->cb(&j->res, j->udata);
    j->res.replayed = j->res.status != 503;
    while (waiters) {
        store_waiter *w = waiters;
        waiters = w->next;
        s->in_flight--;
        w->cb(&j->res, w->udata);
        free(w);
    }
    job_free(j);
}

/* Runs every answer the writer has finished, then the commit hook. */
static void deliver_done(store *s)
{
    pthread_mutex_lock(&s->mu);
    store_job *list = s->done_head;
    s->done_head = s->done_tail = NULL;
    int64_t last_seq = s->done_last_seq;
    pthread_mutex_unlock(&s->mu);
    while (list) {
        store_job *j = list;
        list = j->next;
        j->next = NULL;
        deliver(s, j);
    }
    if (s->on_commit && last_seq > s->notified_seq) {
        s->notified_seq = last_seq;
        s->on_commit(s->on_commit_udata, last_seq);
    }
}

static void on_async(uv_async_t *h)
{
    deliver_done(h->data);
}

static void free_store(store *s)
{
    limits_free(s);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cond);
    free(s->idem);
    free(s->db_path);
    free(s->vfs);
    sodium_memzero(s->key, sizeof s->key);
    free(s);
}

static void on_async_closed(uv_handle_t *h)
{
    store *s = h->data;
    free(h);
    free_store(s);
}

int store_open(const store_options *opt, store **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!opt || !opt->data_dir || !opt->audit_key) {
        snprintf(err, errlen, "store_open: data_dir and audit_key are required");
        return -1;
    }
    char why[160];
    if (store_driver_check(opt->driver ? opt->driver : STORE_DRIVER_DEFAULT, why, sizeof why) !=
        0) {
        snprintf(err, errlen, "store.driver: %s", why);
        return -1;
    }
    if (opt->driver && strcmp(opt->driver, store_driver_name()) != 0) {
        snprintf(err, errlen, "store.driver: \"%s\" is not the database this process uses (%s)",
                 opt->driver, store_driver_name());
        return -1;
    }
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium could not start");
        return -1;
    }
    store *s = calloc(1, sizeof *s);
    if (!s) abort();
    size_t len = strlen(opt->data_dir) + 64;
    s->db_path = malloc(len);
    if (!s->db_path) abort();
    store_target_of(opt->data_dir, &s->target, s->db_path, len);
    s->vfs = dup_or_null(opt->vfs);
    s->target.vfs = s->vfs;
    memcpy(s->key, opt->audit_key, AUDIT_KEY_BYTES);
    s->busy_timeout_ms = opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms : 5000;
    s->no_group_commit = opt->no_group_commit;
    s->dry_run = opt->dry_run;
    s->max_batch = opt->max_batch ? opt->max_batch : 1000;
    s->ckpt_wake_pages = opt->checkpoint_pages > 0 ? opt->checkpoint_pages : 16384;
    s->wal_max_pages = CKPT_WAL_FACTOR * s->ckpt_wake_pages;
    limits_init(s);
    s->clock = opt->clock;
    s->clock_udata = opt->clock_udata;
    s->log = opt->log;
    s->log_udata = opt->log_udata;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->idem = calloc(IDEM_BUCKETS, sizeof *s->idem);
    if (!s->idem) abort();

    if (conn_open(&s->wconn, s, false, err, errlen) != 0 ||
        store_migrate(&s->wconn, err, errlen) != 0 ||
        (opt->build_deferred_indexes && !s->dry_run &&
         indexes_restore_at_open(&s->wconn, err, errlen) != 0) ||
        checkpointer_start(s, err, errlen) != 0) {
        checkpointer_stop(s);
        conn_close(&s->wconn);
        free_store(s);
        return -1;
    }

    alloc_note_left(&s->wconn);
    if (opt->loop) {
        s->loop = opt->loop;
    } else {
        s->own_loop = malloc(sizeof *s->own_loop);
        if (!s->own_loop || uv_loop_init(s->own_loop) != 0) abort();
        s->loop = s->own_loop;
    }
    s->async = malloc(sizeof *s->async);
    if (!s->async || uv_async_init(s->loop, s->async, on_async) != 0) abort();
    s->async->data = s;
    int rc = pthread_create(&s->thread, NULL, writer_main, s);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the writer thread: %s", strerror(rc));
        s->closed = true;
        checkpointer_stop(s);
        conn_close(&s->wconn);
        uv_close((uv_handle_t *)s->async, on_async_closed);
        if (s->own_loop) {
            uv_run(s->own_loop, UV_RUN_DEFAULT);
            uv_loop_close(s->own_loop);
            free(s->own_loop);
        }
        return -1;
    }
    s->thread_started = true;
    *out = s;
    return 0;
}

void store_close(store *s)
{
    if (!s || s->closed) return;
    s->closed = true;
    pthread_mutex_lock(&s->mu);
    s->closing = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mu);
    if (s->thread_started) pthread_join(s->thread, NULL);
    deliver_done(s);      /* every queued job was answered by the writer before it ended */
    checkpointer_stop(s); /* first: the writer's connection, closed last, checkpoints */
    conn_close(&s->wconn);
    for (size_t i = 0; i < IDEM_BUCKETS; i++) {
        while (s->idem[i]) { /* only left if a job was lost; answer nobody twice */
            idem_slot *slot = s->idem[i];
            s->idem[i] = slot->next;
            while (slot->waiters) {
                store_waiter *w = slot->waiters;
                slot->waiters = w->next;
                free(w);
            }
            free(slot->client);
            free(slot->key);
            free(slot);
        }
    }
    uv_loop_t *own = s->own_loop;
    uv_close((uv_handle_t *)s->async, on_async_closed);
    if (own) {
        uv_run(own, UV_RUN_DEFAULT);
        uv_loop_close(own);
        free(own);
    }
}

/* The hash an Idempotency-Key is bound to: the command's operation, level
 * and target number as well as its body's bytes, so that the same key and
 * body sent to another route is a conflict, not a replay of the first
 * answer. */
void store_idem_hash(const store_command *cmd, uint8_t out[32])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    char head[64];
    int n = snprintf(head, sizeof head, "op=%d;level=%d;nummer=", (int)cmd->op, (int)cmd->level);
    crypto_generichash_update(&st, (const unsigned char *)head, (size_t)n);
    const char *nummer = cmd->nummer ? cmd->nummer : "";
    crypto_generichash_update(&st, (const unsigned char *)nummer, strlen(nummer) + 1);
    if (cmd->idem_body) crypto_generichash_update(&st, cmd->idem_body, cmd->idem_body_len);
    crypto_generichash_final(&st, out, 32);
}

static int submit_job(store *s, store_job *j);

/* Copies a command into a job. */
static store_job *job_of_command(const store_command *cmd, store_done_fn cb, void *udata)
{
    store_job *j = job_new(JOB_COMMAND, cb, udata);
    j->op = cmd->op;
    j->level = cmd->level;
    j->nummer = dup_or_null(cmd->nummer);
    j->body = cmd->body ? json_deep_copy(cmd->body) : NULL;
    j->has_if_match = cmd->has_if_match;
    j->if_match = cmd->if_match;
    j->actor_id = dup_or_null(cmd->actor.id);
    j->role = cmd->actor.role;
    if (cmd->actor.n_kommuner) {
        j->kommuner = malloc(cmd->actor.n_kommuner * sizeof *j->kommuner);
        if (!j->kommuner) abort();
        memcpy(j->kommuner, cmd->actor.kommuner, cmd->actor.n_kommuner * sizeof *j->kommuner);
        j->n_kommuner = cmd->actor.n_kommuner;
    }
    j->request_id = dup_or_null(cmd->request_id);
    j->keep_numbers = cmd->keep_numbers;
    j->no_audit = cmd->no_audit;
    j->no_record = cmd->no_record;
    j->dry_run = cmd->dry_run;
    if (cmd->idem_key && !cmd->dry_run) {
        j->idem_client = dup_or_null(cmd->idem_client);
        j->idem_key = dup_or_null(cmd->idem_key);
        store_idem_hash(cmd, j->body_hash);
    }
    return j;
}

/* A command past one of the store's bounds (limits.c) is answered without
 * the writer, and not kept with the idempotency key (the same request may
 * succeed later). True when j was answered so. */
static bool limits_refused(store *s, const store_command *cmd, store_job *j)
{
    const char *kode = NULL;
    char tekst[200];
    int refused = limits_check_command(s, cmd, &kode, tekst, sizeof tekst);
    if (!refused) return false;
    j->kind = JOB_ANSWERED;
    job_fail(j, refused, kode, tekst);
    answer_later(s, j);
    return true;
}

int store_submit(store *s, const store_command *cmd, store_done_fn cb, void *udata)
{
    if (!s || s->closed || !cmd || !cmd->actor.id || (!cmd->idem_key != !cmd->idem_client))
        return -1;
    store_job *j = job_of_command(cmd, cb, udata);
    if (limits_refused(s, cmd, j)) return 0;
    return submit_job(s, j);
}

/* Whether text is "$k" with 1 <= k < step + 1 (an earlier step, 1-based). */
static bool ref_ok(const char *text, size_t step)
{
    if (!text || text[0] != '$') return true;
    char *end;
    long k = strtol(text + 1, &end, 10);
    return text[1] >= '1' && text[1] <= '9' && *end == '\0' && k >= 1 && (size_t)k <= step;
}

int store_submit_transaction(store *s, const store_command *cmds, size_t n, store_done_fn cb,
                             void *udata)
{
    if (!s || s->closed || !cmds || n < 1 || n > STORE_MAX_STEPS || !cmds[0].actor.id ||
        (!cmds[0].idem_key != !cmds[0].idem_client))
        return -1;
    for (size_t i = 0; i < n; i++) {
        const json_t *b = cmds[i].body;
        if (!ref_ok(cmds[i].nummer, i) ||
            !ref_ok(json_string_value(json_object_get(b, "daginstitutionsNummer")), i) ||
            !ref_ok(json_string_value(json_object_get(b, "anvisningsenhedsNummer")), i))
            return -1;
    }
    store_job *j = job_of_command(&cmds[0], cb, udata);
    for (size_t i = 0; i < n; i++)
        if (limits_refused(s, &cmds[i], j)) return 0;
    j->steps = calloc(n, sizeof *j->steps);
    j->step_results = calloc(n, sizeof *j->step_results);
    if (!j->steps || !j->step_results) abort();
    j->n_steps = n;
    for (size_t i = 0; i < n; i++) {
        store_command step = cmds[i];
        step.actor = cmds[0].actor;
        step.request_id = cmds[0].request_id;
        step.idem_client = step.idem_key = NULL;
        step.dry_run = false; /* the whole is rolled back, not each step */
        j->steps[i] = job_of_command(&step, NULL, NULL);
    }
    if (j->idem_key) {
        /* the key covers every step, not the first one's body alone */
        crypto_generichash_state h;
        crypto_generichash_init(&h, NULL, 0, sizeof j->body_hash);
        crypto_generichash_update(&h, j->body_hash, sizeof j->body_hash);
        for (size_t i = 0; i < n; i++) {
            char line[64];
            int len = snprintf(line, sizeof line, "%d %d %s|", (int)cmds[i].op, (int)cmds[i].level,
                               cmds[i].nummer ? cmds[i].nummer : "");
            crypto_generichash_update(&h, (const unsigned char *)line, (size_t)len);
        }
        crypto_generichash_final(&h, j->body_hash, sizeof j->body_hash);
    }
    return submit_job(s, j);
}

/* Queues a command or transaction job, through the in-flight idempotency
 * keys when it has one. */
static int submit_job(store *s, store_job *j)
{
    if (j->idem_key) {
        idem_slot **p = idem_find(s, j->idem_client, j->idem_key);
        if (*p && memcmp((*p)->body_hash, j->body_hash, sizeof j->body_hash) == 0) {
            store_waiter *w = calloc(1, sizeof *w);
            if (!w) abort();
            w->cb = j->cb;
            w->udata = j->udata;
            w->next = (*p)->waiters;
            (*p)->waiters = w;
            s->in_flight++;
            job_free(j);
            return 0;
        }
        if (*p) {
            j->kind = JOB_ANSWERED;
            job_fail(j, 422, "IDEMPOTENS_KONFLIKT",
                     "Idempotency-Key er brugt før med en anden forespørgsel");
            answer_later(s, j);
            return 0;
        }
        idem_slot *slot = calloc(1, sizeof *slot);
        if (!slot) abort();
        slot->client = dup_or_null(j->idem_client);
        slot->key = dup_or_null(j->idem_key);
        memcpy(slot->body_hash, j->body_hash, sizeof slot->body_hash);
        slot->job = j;
        *p = slot;
    }
    enqueue(s, j);
    return 0;
}

typedef struct sync_wait {
    store_done_fn cb;
    void *udata;
    bool done;
} sync_wait;

static void sync_done(const store_result *res, void *udata)
{
    sync_wait *w = udata;
    if (w->cb) w->cb(res, w->udata);
    w->done = true;
}

int store_submit_sync(store *s, const store_command *cmd, store_done_fn cb, void *udata)
{
    if (!s || !s->own_loop) return -1;
    sync_wait w = {cb, udata, false};
    if (store_submit(s, cmd, sync_done, &w) != 0) return -1;
    while (!w.done)
        uv_run(s->own_loop, UV_RUN_ONCE);
    return 0;
}

int store_wait(store *s)
{
    return store_wait_below(s, 0);
}

int store_wait_below(store *s, size_t max)
{
    if (!s || !s->own_loop) return -1;
    while (s->in_flight > max)
        uv_run(s->own_loop, UV_RUN_ONCE);
    return 0;
}

static void probe_done(const store_result *res, void *udata)
{
    (void)res;
    ((store *)udata)->probe_pending = false;
}

bool store_writable(store *s, char *why, size_t whylen)
{
    if (!s || s->closed) {
        snprintf(why, whylen, "store closed");
        return false;
    }
    pthread_mutex_lock(&s->mu);
    bool failing = s->stats.write_failing;
    pthread_mutex_unlock(&s->mu);
    int64_t now = store_now_ms(s); /* the store's clock: tests set it */
    int64_t every = failing ? 1000 : 10000;
    if (!s->probe_pending && (!s->probe_queued || now >= s->probe_at_ms + every)) {
        s->probe_pending = s->probe_queued = true;
        s->probe_at_ms = now;
        enqueue(s, job_new(JOB_PROBE, probe_done, s));
    }
    if (failing) snprintf(why, whylen, "the store cannot write (the last commit failed)");
    return !failing;
}

int store_tick(store *s, store_done_fn cb, void *udata)
{
    if (!s || s->closed) return -1;
    enqueue(s, job_new(JOB_TICK, cb, udata));
    return 0;
}

int store_cursor_set(store *s, const char *consumer, int64_t sekvensnummer, store_done_fn cb,
                     void *udata)
{
    if (!s || s->closed || !consumer) return -1;
    store_job *j = job_new(JOB_CURSOR, cb, udata);
    j->consumer = dup_or_null(consumer);
    j->cursor_seq = sekvensnummer;
    enqueue(s, j);
    return 0;
}

int store_indexes_defer(store *s, store_done_fn cb, void *udata)
{
    if (!s || s->closed) return -1;
    enqueue(s, job_new(JOB_DEFER_INDEXES, cb, udata));
    return 0;
}

int store_indexes_restore(store *s, store_done_fn cb, void *udata)
{
    if (!s || s->closed) return -1;
    enqueue(s, job_new(JOB_RESTORE_INDEXES, cb, udata));
    return 0;
}

int store_audit(store *s, const audit_entry *e, store_done_fn cb, void *udata)
{
    if (!s || s->closed || !e || !e->actor || !e->operation) return -1;
    store_job *j = job_new(JOB_AUDIT, cb, udata);
    const char *src[8] = {e->tidspunkt, e->actor,  e->request_id, e->operation,
                          e->level,     e->nummer, e->before,     e->after};
    for (int i = 0; i < 8; i++)
        j->entry_text[i] = dup_or_null(src[i]);
    j->entry = (audit_entry){.tidspunkt = j->entry_text[0],
                             .actor = j->entry_text[1],
                             .request_id = j->entry_text[2],
                             .operation = j->entry_text[3],
                             .level = j->entry_text[4],
                             .nummer = j->entry_text[5],
                             .before = j->entry_text[6],
                             .after = j->entry_text[7]};
    enqueue(s, j);
    return 0;
}

void store_on_commit(store *s, store_commit_fn fn, void *udata)
{
    s->on_commit = fn;
    s->on_commit_udata = udata;
}

void store_get_stats(store *s, store_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->stats;
    pthread_mutex_unlock(&s->mu);
    if (s->ckpt_inited) {
        pthread_mutex_lock(&s->ckpt_mu);
        out->checkpoints = s->ckpt_runs;
        pthread_mutex_unlock(&s->ckpt_mu);
    }
}
