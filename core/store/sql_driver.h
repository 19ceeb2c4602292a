/*
 * sql_driver.h -- what a driver of the statement layer (sql.h) supplies:
 * one table of functions. sql.c dispatches every sql_* call through the
 * connection's or the statement's table; the drivers are sql_sqlite.c and
 * sql_pg.c. Only these three files include this header.
 */
#ifndef DTR_STORE_SQL_DRIVER_H
#define DTR_STORE_SQL_DRIVER_H

#include "store/sql.h"

typedef struct sql_driver {
    const char *name;
    sql_conn *(*open)(const sql_target *t, bool readonly, int busy_timeout_ms, char *err,
                      size_t errlen);
    void (*close)(sql_conn *c);
    const char *(*errmsg)(sql_conn *c);
    int (*exec)(sql_conn *c, const char *sql);
    bool (*in_transaction)(sql_conn *c);
    int64_t (*changes)(sql_conn *c);
    int (*prepare)(sql_conn *c, const char *sql, bool persistent, sql_stmt **out);
    void (*finalize)(sql_stmt *st);
    void (*reset)(sql_stmt *st);
    void (*clear_bindings)(sql_stmt *st);
    int (*bind_null)(sql_stmt *st, int i);
    int (*bind_int64)(sql_stmt *st, int i, int64_t v);
    int (*bind_text)(sql_stmt *st, int i, const char *s, int len);
    int (*bind_blob)(sql_stmt *st, int i, const void *p, int len);
    int (*bind_text_ref)(sql_stmt *st, int i, const char *s, int len); /* NULL: bind_text */
    int (*bind_blob_ref)(sql_stmt *st, int i, const void *p, int len); /* NULL: bind_blob */
    int (*step)(sql_stmt *st);
    bool (*column_is_null)(sql_stmt *st, int i);
    int64_t (*column_int64)(sql_stmt *st, int i);
    const char *(*column_text)(sql_stmt *st, int i);
    const void *(*column_blob)(sql_stmt *st, int i);
    int (*column_bytes)(sql_stmt *st, int i);
    void (*set_budget)(sql_conn *c, bool (*check)(void *udata), void *udata);
    int (*data_version)(sql_conn *c, int64_t *out);
    void *(*sqlite_handle)(sql_conn *c);
} sql_driver;

/* The first member of every driver's connection and statement. */
struct sql_conn {
    const sql_driver *drv;
    sql_dialect dialect;
};
struct sql_stmt {
    const sql_driver *drv;
    sql_conn *conn;
};

extern const sql_driver sql_sqlite_driver;
extern const sql_driver sql_pg_driver;

#endif /* DTR_STORE_SQL_DRIVER_H */
