/*
 * checkpoint.c -- WAL checkpoints on a thread of their own.
 *
 * Left to SQLite, the commit that takes the WAL past its limit runs the
 * checkpoint itself: that commit, and every command queued behind it, waits
 * while pages are copied into the database file. Instead the writer's
 * connection has automatic checkpoints off and a WAL hook that only wakes
 * this thread, which checkpoints (PASSIVE: it never blocks the writer nor a
 * reader) on its own connection while the writer goes on.
 *
 * A PASSIVE checkpoint copies what no reader still needs; SQLite starts the
 * WAL over from its beginning at the next commit after everything was
 * copied. A writer that commits without pause can keep that from ever
 * happening (each checkpoint ends a little behind the newest commit), and
 * so can a slow disk: the WAL would grow without end. So past
 * CKPT_WRITER_FACTOR times the limit the writer, after its commit, runs a
 * RESTART checkpoint itself: it waits (up to the busy timeout) for the
 * checkpoint thread and for readers of old WAL frames, copies the rest, and
 * its next commit starts the WAL over.
 */
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

/* The checkpointer is woken once the WAL holds store_options.checkpoint_pages
 * (default 64 MiB: index pages written by several commits are copied once);
 * the writer checkpoints itself at this many times that. */
#define CKPT_WRITER_FACTOR 8

static void *checkpointer_main(void *arg)
{
    store *s = arg;
    pthread_mutex_lock(&s->ckpt_mu);
    for (;;) {
        while (!s->ckpt_wanted && !s->ckpt_stop)
            pthread_cond_wait(&s->ckpt_cond, &s->ckpt_mu);
        if (s->ckpt_stop) break;
        s->ckpt_wanted = false;
        pthread_mutex_unlock(&s->ckpt_mu);
        int rc =
            sqlite3_wal_checkpoint_v2(s->ckpt_conn.db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            store_log(s, 3, "checkpoint: %s", sqlite3_errmsg(s->ckpt_conn.db));
        pthread_mutex_lock(&s->ckpt_mu);
        s->ckpt_runs++;
    }
    pthread_mutex_unlock(&s->ckpt_mu);
    return NULL;
}

/* The writer connection's WAL hook: runs on the writer thread after each
 * commit, with the WAL's size in pages. */
static int on_wal_commit(void *udata, sqlite3 *db, const char *name, int pages)
{
    store *s = udata;
    if (pages >= CKPT_WRITER_FACTOR * s->ckpt_wake_pages) {
        int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            store_log(s, 3, "checkpoint: %s", sqlite3_errmsg(db));
        return SQLITE_OK;
    }
    if (pages >= s->ckpt_wake_pages) {
        pthread_mutex_lock(&s->ckpt_mu);
        s->ckpt_wanted = true;
        pthread_cond_signal(&s->ckpt_cond);
        pthread_mutex_unlock(&s->ckpt_mu);
    }
    return SQLITE_OK;
}

int checkpointer_start(store *s, char *err, size_t errlen)
{
    pthread_mutex_init(&s->ckpt_mu, NULL);
    pthread_cond_init(&s->ckpt_cond, NULL);
    s->ckpt_inited = true;
    if (conn_open(&s->ckpt_conn, s, false, err, errlen) != 0) return -1;
    int rc = pthread_create(&s->ckpt_thread, NULL, checkpointer_main, s);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the checkpoint thread: %s", strerror(rc));
        conn_close(&s->ckpt_conn);
        return -1;
    }
    s->ckpt_started = true;
    /* from now on the writer's commits only wake the thread */
    sqlite3_wal_autocheckpoint(s->wconn.db, 0);
    sqlite3_wal_hook(s->wconn.db, on_wal_commit, s);
    return 0;
}

void checkpointer_stop(store *s)
{
    if (!s->ckpt_inited) return;
    if (s->ckpt_started) {
        pthread_mutex_lock(&s->ckpt_mu);
        s->ckpt_stop = true;
        pthread_cond_signal(&s->ckpt_cond);
        pthread_mutex_unlock(&s->ckpt_mu);
        pthread_join(s->ckpt_thread, NULL);
        s->ckpt_started = false;
    }
    conn_close(&s->ckpt_conn);
    pthread_mutex_destroy(&s->ckpt_mu);
    pthread_cond_destroy(&s->ckpt_cond);
    s->ckpt_inited = false;
}
