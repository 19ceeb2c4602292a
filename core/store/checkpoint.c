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
 * copied and no reader uses the WAL any more. A reader that holds a
 * snapshot (an udtræk being streamed) keeps that from happening, and so can
 * a writer that commits without pause (each checkpoint ends a little behind
 * the newest commit): the WAL would grow without end.
 *
 * So the WAL has a bound (store_limits.wal_max_bytes, default 8 times the
 * pages that wake this thread). At the bound this thread sets the store's
 * wal_pressure: the sweeper (limits.c) ends every snapshot between two of
 * its reads, new snapshots are refused (503), and a checkpoint that copies
 * every frame is tried, without waiting: by the writer after each commit,
 * by this thread every 50 ms while writes pause. One that cannot finish is
 * tried again later, never with a wait inside a commit. Once every frame
 * is copied the writer's next commit starts the WAL over, and the pressure
 * ends.
 *
 * The thread also wakes every second while snapshots are open, to end
 * those past their lifetime (store_limits.snapshot_max_ms). On PostgreSQL
 * (no WAL of the store's own) that is all it does: a long snapshot there
 * holds back VACUUM instead.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h> /* WAL checkpoints: SQLite's own machinery (sql.h, sql_sqlite_handle) */

#include "store/store_int.h"

/* Waits on ckpt_cond for ms at most (ckpt_mu held). */
static void ckpt_wait_ms(store *s, long ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&s->ckpt_cond, &s->ckpt_mu, &until);
}

static void *checkpointer_main(void *arg)
{
    store *s = arg;
    uint64_t last_commits = UINT64_MAX;
    pthread_mutex_lock(&s->ckpt_mu);
    for (;;) {
        bool pressure = __atomic_load_n(&s->wal_pressure, __ATOMIC_RELAXED);
        if (!s->ckpt_wanted && !s->ckpt_stop) {
            if (pressure)
                ckpt_wait_ms(s, 50); /* retry the restart */
            else if (s->ckpt_snapshots)
                ckpt_wait_ms(s, 1000); /* end snapshots past their lifetime */
            else
                pthread_cond_wait(&s->ckpt_cond, &s->ckpt_mu);
        }
        if (s->ckpt_stop) break;
        bool wanted = s->ckpt_wanted;
        s->ckpt_wanted = false;
        pthread_mutex_unlock(&s->ckpt_mu);

        /* NULL on PostgreSQL: no WAL of ours, only snapshots to sweep */
        sqlite3 *db = s->ckpt_conn.db ? sql_sqlite_handle(s->ckpt_conn.db) : NULL;
        int pages = __atomic_load_n(&s->wal_pages, __ATOMIC_RELAXED);
        int max = __atomic_load_n(&s->wal_max_pages, __ATOMIC_RELAXED);
        bool full = max > 0 && pages >= max;
        if (full && !pressure) {
            __atomic_store_n(&s->wal_pressure, true, __ATOMIC_RELAXED);
            store_log(s, 2, "the WAL reached its bound (%d pages): ending read snapshots", pages);
        }
        size_t open = snapshots_sweep(s, full || pressure);
        uint64_t commits = __atomic_load_n(&s->wal_commits, __ATOMIC_RELAXED);
        if (!db) {
            /* nothing to checkpoint */
        } else if (wanted && !full && !pressure) {
            int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
            if (rc != SQLITE_OK && rc != SQLITE_BUSY)
                store_log(s, 3, "checkpoint: %s", sqlite3_errmsg(db));
        } else if ((full || pressure) && commits == last_commits) {
            /* at the bound and the writer pauses (while it writes, it
             * checkpoints after each commit itself) */
            int log = 0, copied = 0;
            int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
            if (rc == SQLITE_OK && copied == log)
                __atomic_store_n(&s->wal_pressure, false, __ATOMIC_RELAXED);
            else if (rc != SQLITE_OK && rc != SQLITE_BUSY)
                store_log(s, 3, "checkpoint: %s", sqlite3_errmsg(db));
        }
        last_commits = commits;
        pthread_mutex_lock(&s->ckpt_mu);
        s->ckpt_snapshots = open;
        if (wanted) s->ckpt_runs++;
    }
    pthread_mutex_unlock(&s->ckpt_mu);
    return NULL;
}

/* Wakes the checkpoint thread (a snapshot began: it watches lifetimes). */
void checkpointer_wake(store *s)
{
    if (!s->ckpt_started) return;
    pthread_mutex_lock(&s->ckpt_mu);
    s->ckpt_snapshots++;
    pthread_cond_signal(&s->ckpt_cond);
    pthread_mutex_unlock(&s->ckpt_mu);
}

/* The writer connection's WAL hook: runs on the writer thread after each
 * commit, with the WAL's size in pages. Below the bound it only records the
 * size and wakes the checkpoint thread. At the bound it sets the pressure
 * (snapshots end, see above), ends the snapshots not being read at this
 * moment itself (the sweeper only try-locks) and checkpoints, PASSIVE (which never
 * waits): right after a commit nothing else writes, so when no reader
 * holds old frames everything is copied and the next commit starts the
 * WAL over. When a reader or the thread's own checkpoint is in the way it
 * is tried again after the next commit (or by the thread). */
static int on_wal_commit(void *udata, sqlite3 *db, const char *name, int pages)
{
    store *s = udata;
    __atomic_store_n(&s->wal_pages, pages, __ATOMIC_RELAXED);
    __atomic_add_fetch(&s->wal_commits, 1, __ATOMIC_RELAXED);
    int max = __atomic_load_n(&s->wal_max_pages, __ATOMIC_RELAXED);
    if (max > 0 && pages >= max) {
        __atomic_store_n(&s->wal_pressure, true, __ATOMIC_RELAXED);
        snapshots_sweep(s, true); /* try-locks only: never waits for a reader */
        int log = 0, copied = 0;
        int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
        if (rc == SQLITE_OK && copied == log) {
            __atomic_store_n(&s->wal_pressure, false, __ATOMIC_RELAXED);
            return SQLITE_OK; /* all copied, no reader behind: the next commit starts over */
        }
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            store_log(s, 3, "checkpoint: %s", sqlite3_errmsg(db));
    }
    if (pages >= s->ckpt_wake_pages || (max > 0 && pages >= max)) {
        pthread_mutex_lock(&s->ckpt_mu);
        s->ckpt_wanted = true;
        pthread_cond_signal(&s->ckpt_cond);
        pthread_mutex_unlock(&s->ckpt_mu);
    }
    return SQLITE_OK;
}

uint64_t store_wal_bytes(store *s)
{
    return (uint64_t)__atomic_load_n(&s->wal_pages, __ATOMIC_RELAXED) * 4096u;
}

int checkpointer_start(store *s, char *err, size_t errlen)
{
    pthread_mutex_init(&s->ckpt_mu, NULL);
    pthread_cond_init(&s->ckpt_cond, NULL);
    s->ckpt_inited = true;
    sqlite3 *wdb = sql_sqlite_handle(s->wconn.db);
    if (wdb) { /* SQLite: the thread checkpoints on a connection of its own */
        if (conn_open(&s->ckpt_conn, s, false, err, errlen) != 0) return -1;
        sqlite3_busy_timeout(sql_sqlite_handle(s->ckpt_conn.db), 0); /* retried, never waits */
    }
    /* on PostgreSQL it only ends snapshots past their lifetime */
    int rc = pthread_create(&s->ckpt_thread, NULL, checkpointer_main, s);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the checkpoint thread: %s", strerror(rc));
        conn_close(&s->ckpt_conn);
        return -1;
    }
    s->ckpt_started = true;
    if (!wdb) return 0;
    /* from now on the writer's commits only wake the thread */
    sqlite3_wal_autocheckpoint(wdb, 0);
    sqlite3_wal_hook(wdb, on_wal_commit, s);
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
