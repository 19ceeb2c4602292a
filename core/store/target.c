/*
 * target.c -- which database this process's stores use: the driver and,
 * for PostgreSQL, the DSN, chosen once at start (store_configure, from the
 * config's "store" section) like SQLite's own sqlite3_config, before any
 * store or store_db opens. A data directory then names the instance (its
 * keys, its lock, and with SQLite its database file); with PostgreSQL the
 * database is the DSN's, shared by every instance configured with it.
 * docs/decisions.md, "Choosing the database once per process".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errtext.h"
#include "store/store_int.h"

static struct {
    sql_dialect dialect;
    char *dsn;
} chosen = {SQL_DIALECT_SQLITE, NULL};

int store_driver_check(const char *name, char *err, size_t errlen)
{
    if (name && (strcmp(name, "sqlite") == 0 || strcmp(name, "postgresql") == 0)) return 0;
    return errtext(err, errlen, -1,
                   "unknown driver \"%.64s\" (this build has \"sqlite\" and \"postgresql\")",
                   name ? name : "");
}

int store_configure(const char *driver, const char *dsn, char *err, size_t errlen)
{
    if (store_driver_check(driver ? driver : STORE_DRIVER_DEFAULT, err, errlen) != 0) return -1;
    bool pg = driver && strcmp(driver, "postgresql") == 0;
    if (pg && (!dsn || !dsn[0]))
        return errtext(err, errlen, -1, "the postgresql driver needs a dsn");
    if (!pg && dsn) return errtext(err, errlen, -1, "only the postgresql driver takes a dsn");
    char *copy = NULL;
    if (pg && !(copy = strdup(dsn))) return errtext(err, errlen, -1, "out of memory");
    free(chosen.dsn);
    chosen.dsn = copy;
    chosen.dialect = pg ? SQL_DIALECT_POSTGRESQL : SQL_DIALECT_SQLITE;
    return 0;
}

void store_configure_reset(void)
{
    free(chosen.dsn);
    chosen.dsn = NULL;
    chosen.dialect = SQL_DIALECT_SQLITE;
}

const char *store_driver_name(void)
{
    return chosen.dialect == SQL_DIALECT_POSTGRESQL ? "postgresql" : "sqlite";
}

int store_location(const char *data_dir, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s/dtr.sqlite", data_dir);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int store_target_of(const char *data_dir, sql_target *t, char *path, size_t pathlen)
{
    memset(t, 0, sizeof *t);
    t->dialect = chosen.dialect;
    if (chosen.dialect == SQL_DIALECT_POSTGRESQL) {
        t->dsn = chosen.dsn;
        return 0;
    }
    if (store_location(data_dir, path, pathlen) != 0) return -1;
    t->path = path;
    return 0;
}
