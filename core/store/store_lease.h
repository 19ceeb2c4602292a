/*
 * store_lease.h -- named leases for work one instance at a time does
 * (lease.c). Every function runs on the caller's connection and thread.
 */
#ifndef DTR_STORE_LEASE_H
#define DTR_STORE_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/sql.h"

/* Takes the lease name for holder (an instance's id) for ttl_ms from now,
 * or renews it when holder has it: 1 held (*epoch: the lease's epoch, which
 * grows each time the lease changes hands), 0 another holder's and live,
 * -1 a database error (sql_errmsg). SQLite: always 1, epoch 1. */
int store_lease_take(sql_conn *c, const char *name, const char *holder, int ttl_ms, int64_t *epoch);
/* Gives the lease up at once (a clean shutdown), so that another instance
 * need not wait for it to expire. 0 or -1. */
int store_lease_release(sql_conn *c, const char *name, const char *holder);
/* Who holds name: holder ("" when nobody ever did), epoch, and whether the
 * lease is live. 0 or -1. */
int store_lease_holder(sql_conn *c, const char *name, char *holder, size_t holderlen,
                       int64_t *epoch, bool *live);
/* Inside a transaction about to write under the lease: 1 when the lease is
 * still holder's at epoch and live (it then cannot change hands before this
 * transaction ends), 0 when it is not (write nothing), -1 an error. */
int store_lease_fence(sql_conn *c, const char *name, const char *holder, int64_t epoch);

#endif /* DTR_STORE_LEASE_H */
