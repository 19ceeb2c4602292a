/*
 * lease.c -- a named lease: the right of one instance at a time to do a
 * piece of work that must not run twice at once (a consumer's outbound
 * deliveries, the timed changes). docs/postgresql.md, "The lease".
 *
 * On PostgreSQL several instances share the database; a lease is a row of
 * table lease: its holder, an epoch that grows each time the lease changes
 * hands, and an expiry in the database's clock (so the instances' clocks
 * never matter). An instance takes or renews the lease with one statement
 * that succeeds only when the lease is free, expired or already its own;
 * it renews well inside the expiry, and a holder that died loses the lease
 * when the expiry passes. The epoch fences the work: a write the holder
 * makes under the lease (a consumer's cursor) first checks, in its own
 * transaction, that the lease is still its own at that epoch
 * (store_lease_fence), so an instance that stalled past its expiry cannot
 * undo what its successor did.
 *
 * On SQLite one process owns the data directory (its lock), so the lease
 * is always that process's, epoch 1, and nothing is written.
 */
#include <stdio.h>
#include <string.h>

#include "store/sql.h"
#include "store/store_lease.h"

/* Taken when free or expired (a new epoch), renewed when already ours (the
 * same epoch); no row when another instance holds it. */
static const char take_sql[] =
    "INSERT INTO lease (name, holder, epoch, expires) "
    "VALUES (?1, ?2, 1, now() + (?3 || ' milliseconds')::interval) "
    "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
    "epoch = lease.epoch + CASE WHEN lease.holder = excluded.holder THEN 0 ELSE 1 END, "
    "expires = excluded.expires "
    "WHERE lease.holder = excluded.holder OR lease.expires < now() "
    "RETURNING epoch";

int store_lease_take(sql_conn *c, const char *name, const char *holder, int ttl_ms, int64_t *epoch)
{
    *epoch = 0;
    if (sql_dialect_of(c) == SQL_DIALECT_SQLITE) {
        *epoch = 1;
        return 1;
    }
    sql_stmt *st;
    int rc = sql_prepare(c, take_sql, false, &st);
    if (rc != SQL_OK) return -1;
    sql_bind_text(st, 1, name, -1);
    sql_bind_text(st, 2, holder, -1);
    sql_bind_int64(st, 3, ttl_ms);
    rc = sql_step(st);
    int held = -1;
    if (rc == SQL_ROW) {
        *epoch = sql_column_int64(st, 0);
        held = 1;
    } else if (rc == SQL_DONE) {
        held = 0;
    }
    sql_finalize(st);
    return held;
}

int store_lease_release(sql_conn *c, const char *name, const char *holder)
{
    if (sql_dialect_of(c) == SQL_DIALECT_SQLITE) return 0;
    sql_stmt *st;
    if (sql_prepare(c,
                    "UPDATE lease SET expires = now() - interval '1 second' "
                    "WHERE name = ?1 AND holder = ?2",
                    false, &st) != SQL_OK)
        return -1;
    sql_bind_text(st, 1, name, -1);
    sql_bind_text(st, 2, holder, -1);
    int rc = sql_step(st);
    sql_finalize(st);
    return rc == SQL_DONE ? 0 : -1;
}

int store_lease_holder(sql_conn *c, const char *name, char *holder, size_t holderlen,
                       int64_t *epoch, bool *live)
{
    holder[0] = '\0';
    *epoch = 0;
    *live = false;
    if (sql_dialect_of(c) == SQL_DIALECT_SQLITE) return 0;
    sql_stmt *st;
    if (sql_prepare(c, "SELECT holder, epoch, expires > now() FROM lease WHERE name = ?1", false,
                    &st) != SQL_OK)
        return -1;
    sql_bind_text(st, 1, name, -1);
    int rc = sql_step(st);
    if (rc == SQL_ROW) {
        snprintf(holder, holderlen, "%s", sql_column_text(st, 0));
        *epoch = sql_column_int64(st, 1);
        *live = sql_column_int64(st, 2) != 0;
    }
    sql_finalize(st);
    return rc == SQL_ROW || rc == SQL_DONE ? 0 : -1;
}

int store_lease_fence(sql_conn *c, const char *name, const char *holder, int64_t epoch)
{
    if (sql_dialect_of(c) == SQL_DIALECT_SQLITE) return 1;
    sql_stmt *st;
    /* FOR SHARE: a takeover's UPDATE of the row waits until this
     * transaction ends, so the fenced write commits before any successor
     * starts, or not at all */
    if (sql_prepare(c,
                    "SELECT 1 FROM lease WHERE name = ?1 AND holder = ?2 AND epoch = ?3 AND "
                    "expires > now() FOR SHARE",
                    false, &st) != SQL_OK)
        return -1;
    sql_bind_text(st, 1, name, -1);
    sql_bind_text(st, 2, holder, -1);
    sql_bind_int64(st, 3, epoch);
    int rc = sql_step(st);
    sql_finalize(st);
    return rc == SQL_ROW ? 1 : rc == SQL_DONE ? 0 : -1;
}
