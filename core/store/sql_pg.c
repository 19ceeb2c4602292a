/*
 * sql_pg.c -- the statement layer (sql.h) over PostgreSQL's libpq.
 *
 * A statement's text is the store's portable SQL with parameters ?1, ?2;
 * prepare rewrites them to $1, $2 (outside quotes and identifiers) once.
 * Parameters go to the server as text, except blobs (binary); the server
 * infers their types from the columns they meet, so the store's statements
 * need no casts. A persistent statement is prepared on the server on its
 * first run (named s<n> per connection); another one runs unnamed.
 *
 * Rows: sql_step runs the statement on its first call and keeps the whole
 * result; later calls walk it. The store steps one statement while it runs
 * others on the same connection (a list decorates each row with its
 * children), which libpq's single-row mode cannot do: the connection is busy
 * until that result is drained. The store bounds what one statement reads
 * (list windows, feed pages), so a whole result stays small.
 *
 * Results arrive in text form: integers are parsed, bytea ("\x" and hex
 * digits) is decoded into a buffer of the statement's.
 *
 * Errors map SQLSTATE classes onto the layer's codes (sql.h); the message is
 * libpq's, which never contains the connection's password.
 *
 * data_version: the server's current snapshot (pg_current_snapshot: the
 * oldest transaction still running, the next id, the ones in progress)
 * changes whenever a transaction that wrote anything begins or ends on any
 * connection, so a connection that sees the same text as last time knows
 * that nothing was committed since; a different text moves the version.
 * One round trip, exact: a notification (LISTEN) would cost none but
 * could arrive after the commit it announces, and a client added by `dtr
 * client` must work at the very next request.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store/sql_driver.h"

typedef struct pg_conn {
    struct sql_conn base;
    PGconn *pg;
    char setup[256];     /* the session settings, run again after a reconnect */
    unsigned generation; /* grows with each reconnect: statements prepare again */
    bool txn_open;       /* a transaction was open when last seen (see usable) */
    char err[512];
    int64_t changes;
    unsigned next_name;
    char *last_snapshot; /* pg_current_snapshot() at the last data_version */
    int64_t data_version;
    bool (*budget)(void *udata);
    void *budget_udata;
} pg_conn;

#define PG_MAX_PARAMS 32
/* PostgreSQL's type oids (pg_type.h is a server header). */
#define PG_TEXT_OID 25
#define PG_BYTEA_OID 17

typedef struct pg_stmt {
    struct sql_stmt base;
    char *sql; /* with $n */
    bool persistent;
    char name[24];       /* "" until prepared on the server */
    unsigned generation; /* the connection's when name was prepared */
    int nparams;
    Oid types[PG_MAX_PARAMS]; /* 0 (the server infers it), or text for a number the
                                 statement skips: SQLite lets ?1, ?3 go without ?2,
                                 PostgreSQL must be told what $2 is */
    char *value[PG_MAX_PARAMS];
    int length[PG_MAX_PARAMS];
    int format[PG_MAX_PARAMS];
    PGresult *res;
    int row; /* the current row; -1 before the first */
    bool ran;
    unsigned char *blob; /* the current row's decoded bytea */
    int blob_col;
    int blob_len;
} pg_stmt;

static void set_err(pg_conn *c, const char *msg)
{
    snprintf(c->err, sizeof c->err, "%s", msg ? msg : "unknown error");
    size_t n = strlen(c->err);
    while (n && (c->err[n - 1] == '\n' || c->err[n - 1] == ' '))
        c->err[--n] = '\0';
}

/* The layer's code for a failed result (or for a connection gone bad). */
static int code_of(pg_conn *c, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    set_err(c, res && PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res)
                                                   : PQerrorMessage(c->pg));
    if (PQstatus(c->pg) != CONNECTION_OK) return SQL_IOERR;
    if (!state) return res ? SQL_ERROR : SQL_NOMEM;
    if (strncmp(state, "23", 2) == 0) return SQL_CONSTRAINT;
    if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03"))
        return SQL_BUSY;
    if (!strcmp(state, "57014")) return SQL_INTERRUPT;
    if (!strcmp(state, "53100")) return SQL_FULL;
    if (!strcmp(state, "53200")) return SQL_NOMEM;
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0) return SQL_IOERR;
    return SQL_ERROR;
}

/* Remembers whether a transaction is open, while the connection can tell. */
static void note_txn(pg_conn *c)
{
    PGTransactionStatusType t = PQtransactionStatus(c->pg);
    if (t != PQTRANS_UNKNOWN) c->txn_open = t != PQTRANS_IDLE;
}

/* Runs one command without rows on the connection. */
static int run_simple(pg_conn *c, const char *sql)
{
    PGresult *res = PQexec(c->pg, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? SQL_OK : code_of(c, res);
    PQclear(res);
    note_txn(c);
    return rc;
}

/*
 * A lost connection (the server restarted, a failover, a network cut).
 * When no transaction was open, the next statement reconnects first and
 * runs as if nothing happened (statements prepare again). When one was
 * open, its work is gone with the connection, and running the caller's
 * next statement on a new connection would commit it on its own, outside
 * the transaction the caller believes it is in: so every statement fails
 * with SQL_IOERR until the caller ends the transaction with ROLLBACK (which
 * then succeeds: there is nothing left to roll back). The writer answers
 * that batch 503, as for any failed commit.
 */
static bool usable(pg_conn *c, const char *exec_sql)
{
    if (PQstatus(c->pg) == CONNECTION_OK) return true;
    bool rollback = exec_sql && strncmp(exec_sql, "ROLLBACK", 8) == 0 && !strchr(exec_sql, ' ');
    if (c->txn_open && !rollback) {
        set_err(c, "the connection to PostgreSQL was lost inside a transaction");
        return false;
    }
    c->txn_open = false;
    PQreset(c->pg);
    if (PQstatus(c->pg) != CONNECTION_OK) {
        set_err(c, PQerrorMessage(c->pg));
        return false;
    }
    c->generation++;
    return run_simple(c, c->setup) == SQL_OK;
}

/* Notices (a DROP ... IF EXISTS that found nothing) are not errors and
 * have no reader: libpq would print them on stderr. */
static void drop_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static sql_conn *pg_open(const sql_target *t, bool readonly, int busy_timeout_ms, char *err,
                         size_t errlen)
{
    if (!t->dsn) {
        snprintf(err, errlen, "postgresql: no dsn");
        return NULL;
    }
    pg_conn *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "postgresql: out of memory");
        return NULL;
    }
    c->base.drv = &sql_pg_driver;
    c->base.dialect = SQL_DIALECT_POSTGRESQL;
    c->pg = PQconnectdb(t->dsn);
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
        set_err(c, c->pg ? PQerrorMessage(c->pg) : "out of memory");
        snprintf(err, errlen, "postgresql: %s", c->err);
        PQfinish(c->pg);
        free(c);
        return NULL;
    }
    PQsetNoticeProcessor(c->pg, drop_notice, NULL);
    /* Texts are UTF-8 both ways; a lock wait ends like SQLite's busy
     * timeout; a read-only connection refuses writes on the server too. */
    snprintf(c->setup, sizeof c->setup,
             "SET client_encoding = 'UTF8'; SET lock_timeout = %d; "
             "SET default_transaction_read_only = %s; SET synchronous_commit = on",
             busy_timeout_ms > 0 ? busy_timeout_ms : 0, readonly ? "on" : "off");
    if (run_simple(c, c->setup) != SQL_OK) {
        snprintf(err, errlen, "postgresql: %s", c->err);
        PQfinish(c->pg);
        free(c);
        return NULL;
    }
    return &c->base;
}

static void pg_close(sql_conn *base)
{
    pg_conn *c = (pg_conn *)base;
    PQfinish(c->pg);
    free(c->last_snapshot);
    free(c);
}

static const char *pg_errmsg(sql_conn *base)
{
    return ((pg_conn *)base)->err;
}

static int pg_exec(sql_conn *base, const char *sql)
{
    pg_conn *c = (pg_conn *)base;
    if (!usable(c, sql)) {
        /* the ROLLBACK of a transaction lost with its connection */
        return strcmp(sql, "ROLLBACK") == 0 && !c->txn_open ? SQL_OK : SQL_IOERR;
    }
    /* PQexec runs several ;-separated statements and returns the last
     * result; an error stops the rest. */
    return run_simple(c, sql);
}

static bool pg_in_transaction(sql_conn *base)
{
    pg_conn *c = (pg_conn *)base;
    note_txn(c);
    return c->txn_open;
}

static int64_t pg_changes(sql_conn *base)
{
    return ((pg_conn *)base)->changes;
}

/* ?n -> $n outside '...', "..." and comments; a bare ? becomes the next
 * number; used[n - 1] is set for each number that occurs. NULL when out of
 * memory. */
static char *rewrite_params(const char *sql, int *max_param, bool used[PG_MAX_PARAMS])
{
    size_t n = strlen(sql);
    char *out = malloc(n * 5 + 1); /* a bare ? grows to at most $999 */
    if (!out) return NULL;
    size_t o = 0;
    int next = 1;
    *max_param = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = sql[i];
        if (ch == '\'' || ch == '"') {
            out[o++] = ch;
            for (i++; i < n; i++) {
                out[o++] = sql[i];
                if (sql[i] == ch) {
                    if (i + 1 < n && sql[i + 1] == ch) { /* a doubled quote */
                        out[o++] = sql[++i];
                        continue;
                    }
                    break;
                }
            }
            continue;
        }
        if (ch == '-' && i + 1 < n && sql[i + 1] == '-') {
            while (i < n && sql[i] != '\n')
                out[o++] = sql[i++];
            if (i < n) out[o++] = sql[i];
            continue;
        }
        if (ch == '?') {
            int num = 0;
            size_t j = i + 1;
            while (j < n && sql[j] >= '0' && sql[j] <= '9' && num < 1000)
                num = num * 10 + (sql[j++] - '0');
            if (j == i + 1) num = next;
            next = num + 1;
            if (num > *max_param) *max_param = num;
            if (num >= 1 && num <= PG_MAX_PARAMS) used[num - 1] = true;
            o += (size_t)sprintf(out + o, "$%d", num);
            i = j - 1;
            continue;
        }
        out[o++] = ch;
    }
    out[o] = '\0';
    return out;
}

static int pg_prepare(sql_conn *base, const char *sql, bool persistent, sql_stmt **out)
{
    pg_conn *c = (pg_conn *)base;
    pg_stmt *st = calloc(1, sizeof *st);
    if (!st) return SQL_NOMEM;
    bool used[PG_MAX_PARAMS] = {false};
    st->sql = rewrite_params(sql, &st->nparams, used);
    if (!st->sql) {
        free(st);
        return SQL_NOMEM;
    }
    if (st->nparams > PG_MAX_PARAMS) {
        set_err(c, "too many parameters for the postgresql driver");
        free(st->sql);
        free(st);
        return SQL_MISUSE;
    }
    for (int i = 0; i < st->nparams; i++)
        st->types[i] = used[i] ? 0 : PG_TEXT_OID;
    st->base.drv = &sql_pg_driver;
    st->base.conn = base;
    st->persistent = persistent;
    st->row = -1;
    st->blob_col = -1;
    for (int i = 0; i < PG_MAX_PARAMS; i++)
        st->length[i] = -1;
    *out = &st->base;
    return SQL_OK;
}

static void drop_result(pg_stmt *st)
{
    PQclear(st->res);
    st->res = NULL;
    st->row = -1;
    st->ran = false;
    free(st->blob);
    st->blob = NULL;
    st->blob_col = -1;
}

static void pg_clear_bindings(sql_stmt *base)
{
    pg_stmt *st = (pg_stmt *)base;
    for (int i = 0; i < PG_MAX_PARAMS; i++) {
        free(st->value[i]);
        st->value[i] = NULL;
        st->length[i] = -1;
        st->format[i] = 0;
    }
}

static void pg_finalize(sql_stmt *base)
{
    pg_stmt *st = (pg_stmt *)base;
    drop_result(st);
    pg_clear_bindings(base);
    free(st->sql);
    free(st);
}

static void pg_reset(sql_stmt *base)
{
    drop_result((pg_stmt *)base);
}

/* Stores a parameter's bytes (copied); fmt 0 text, 1 binary. */
static int set_param(pg_stmt *st, int i, const void *p, int len, int fmt)
{
    if (st->ran) return SQL_MISUSE; /* as SQLite: reset before binding anew */
    if (i < 1 || i > st->nparams) return SQL_RANGE;
    char *copy = NULL;
    if (p) {
        copy = malloc((size_t)len + 1);
        if (!copy) return SQL_NOMEM;
        memcpy(copy, p, (size_t)len);
        copy[len] = '\0';
    }
    free(st->value[i - 1]);
    st->value[i - 1] = copy;
    st->length[i - 1] = p ? len : -1;
    st->format[i - 1] = fmt;
    return SQL_OK;
}

static int pg_bind_null(sql_stmt *base, int i)
{
    return set_param((pg_stmt *)base, i, NULL, 0, 0);
}

static int pg_bind_int64(sql_stmt *base, int i, int64_t v)
{
    char text[24];
    int n = snprintf(text, sizeof text, "%lld", (long long)v);
    return set_param((pg_stmt *)base, i, text, n, 0);
}

static int pg_bind_text(sql_stmt *base, int i, const char *s, int len)
{
    return set_param((pg_stmt *)base, i, s, len < 0 ? (int)strlen(s) : len, 0);
}

static int pg_bind_blob(sql_stmt *base, int i, const void *p, int len)
{
    return set_param((pg_stmt *)base, i, p, len, 1);
}

/* Runs the statement and keeps its result. */
static int run(pg_stmt *st)
{
    pg_conn *c = (pg_conn *)st->base.conn;
    if (c->budget && c->budget(c->budget_udata)) {
        set_err(c, "interrupted: the read's budget is spent");
        return SQL_INTERRUPT;
    }
    if (!usable(c, NULL)) return SQL_IOERR;
    const char *const *values = (const char *const *)st->value;
    PGresult *res;
    if (st->persistent) {
        if (!st->name[0] || st->generation != c->generation) {
            char name[24];
            snprintf(name, sizeof name, "s%u", c->next_name++);
            PGresult *prep = PQprepare(c->pg, name, st->sql, st->nparams, st->types);
            bool ok = PQresultStatus(prep) == PGRES_COMMAND_OK;
            int rc = ok ? SQL_OK : code_of(c, prep);
            PQclear(prep);
            if (!ok) return rc;
            memcpy(st->name, name, sizeof name);
            st->generation = c->generation;
        }
        res = PQexecPrepared(c->pg, st->name, st->nparams, values, st->length, st->format, 0);
    } else {
        res =
            PQexecParams(c->pg, st->sql, st->nparams, st->types, values, st->length, st->format, 0);
    }
    ExecStatusType status = PQresultStatus(res);
    note_txn(c);
    if (status == PGRES_TUPLES_OK) {
        st->res = res;
        c->changes = 0;
    } else if (status == PGRES_COMMAND_OK) {
        const char *n = PQcmdTuples(res);
        c->changes = n && n[0] ? strtoll(n, NULL, 10) : 0;
        /* an INSERT ... RETURNING answers with TUPLES_OK above; this one has no rows */
        st->res = res;
    } else {
        int rc = code_of(c, res);
        PQclear(res);
        return rc;
    }
    st->ran = true;
    st->row = -1;
    return SQL_OK;
}

static int pg_step(sql_stmt *base)
{
    pg_stmt *st = (pg_stmt *)base;
    if (!st->ran) {
        int rc = run(st);
        if (rc != SQL_OK) return rc;
    }
    free(st->blob);
    st->blob = NULL;
    st->blob_col = -1;
    if (st->row + 1 < PQntuples(st->res)) {
        st->row++;
        return SQL_ROW;
    }
    st->row = PQntuples(st->res);
    return SQL_DONE;
}

static bool valid_cell(pg_stmt *st, int i)
{
    return st->res && st->row >= 0 && st->row < PQntuples(st->res) && i >= 0 &&
           i < PQnfields(st->res);
}

static bool pg_column_is_null(sql_stmt *base, int i)
{
    pg_stmt *st = (pg_stmt *)base;
    return !valid_cell(st, i) || PQgetisnull(st->res, st->row, i);
}

static int64_t pg_column_int64(sql_stmt *base, int i)
{
    pg_stmt *st = (pg_stmt *)base;
    if (pg_column_is_null(base, i)) return 0;
    const char *v = PQgetvalue(st->res, st->row, i);
    if (v[0] == 't' && v[1] == '\0') return 1; /* a boolean */
    if (v[0] == 'f' && v[1] == '\0') return 0;
    return strtoll(v, NULL, 10);
}

static const char *pg_column_text(sql_stmt *base, int i)
{
    pg_stmt *st = (pg_stmt *)base;
    return pg_column_is_null(base, i) ? NULL : PQgetvalue(st->res, st->row, i);
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Decodes column i of the current row as bytea's hex output. */
static bool decode_blob(pg_stmt *st, int i)
{
    if (st->blob_col == i) return true;
    free(st->blob);
    st->blob = NULL;
    st->blob_col = -1;
    st->blob_len = 0;
    const char *v = PQgetvalue(st->res, st->row, i);
    size_t n = (size_t)PQgetlength(st->res, st->row, i);
    if (PQftype(st->res, i) != PG_BYTEA_OID || n < 2 || v[0] != '\\' || v[1] != 'x') {
        /* not bytea: the text's own bytes */
        st->blob = malloc(n + 1);
        if (!st->blob) return false;
        memcpy(st->blob, v, n);
        st->blob_len = (int)n;
    } else {
        st->blob = malloc((n - 2) / 2 + 1);
        if (!st->blob) return false;
        for (size_t k = 2; k + 1 < n; k += 2) {
            int hi = hex_value(v[k]), lo = hex_value(v[k + 1]);
            if (hi < 0 || lo < 0) break;
            st->blob[st->blob_len++] = (unsigned char)(hi << 4 | lo);
        }
    }
    st->blob_col = i;
    return true;
}

static const void *pg_column_blob(sql_stmt *base, int i)
{
    pg_stmt *st = (pg_stmt *)base;
    if (pg_column_is_null(base, i) || !decode_blob(st, i)) return NULL;
    return st->blob;
}

static int pg_column_bytes(sql_stmt *base, int i)
{
    pg_stmt *st = (pg_stmt *)base;
    if (pg_column_is_null(base, i)) return 0;
    if (PQftype(st->res, i) == PG_BYTEA_OID) return decode_blob(st, i) ? st->blob_len : 0;
    return PQgetlength(st->res, st->row, i);
}

static void pg_set_budget(sql_conn *base, bool (*check)(void *udata), void *udata)
{
    pg_conn *c = (pg_conn *)base;
    c->budget = check;
    c->budget_udata = udata;
}

static int pg_data_version(sql_conn *base, int64_t *out)
{
    pg_conn *c = (pg_conn *)base;
    if (!usable(c, NULL)) return SQL_IOERR;
    PGresult *res = PQexec(c->pg, "SELECT pg_current_snapshot()::text");
    note_txn(c);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        int rc = code_of(c, res);
        PQclear(res);
        return rc;
    }
    const char *snap = PQgetvalue(res, 0, 0);
    if (!c->last_snapshot || strcmp(c->last_snapshot, snap) != 0) {
        char *copy = strdup(snap);
        if (!copy) {
            PQclear(res);
            return SQL_NOMEM;
        }
        free(c->last_snapshot);
        c->last_snapshot = copy;
        c->data_version++;
    }
    PQclear(res);
    *out = c->data_version;
    return SQL_OK;
}

static void *pg_sqlite_handle(sql_conn *base)
{
    (void)base;
    return NULL;
}

const sql_driver sql_pg_driver = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .errmsg = pg_errmsg,
    .exec = pg_exec,
    .in_transaction = pg_in_transaction,
    .changes = pg_changes,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .reset = pg_reset,
    .clear_bindings = pg_clear_bindings,
    .bind_null = pg_bind_null,
    .bind_int64 = pg_bind_int64,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .step = pg_step,
    .column_is_null = pg_column_is_null,
    .column_int64 = pg_column_int64,
    .column_text = pg_column_text,
    .column_blob = pg_column_blob,
    .column_bytes = pg_column_bytes,
    .set_budget = pg_set_budget,
    .data_version = pg_data_version,
    .sqlite_handle = pg_sqlite_handle,
};

int sql_describe_target(const sql_target *t, char *out, size_t outlen)
{
    if (t->dialect != SQL_DIALECT_POSTGRESQL) {
        return snprintf(out, outlen, "sqlite:%s", t->path ? t->path : "") < (int)outlen ? 0 : -1;
    }
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(t->dsn ? t->dsn : "", &errmsg);
    if (!opts) {
        PQfreemem(errmsg);
        snprintf(out, outlen, "postgresql:(a dsn libpq cannot parse)");
        return -1;
    }
    size_t o = (size_t)snprintf(out, outlen, "postgresql:");
    for (PQconninfoOption *opt = opts; opt->keyword && o < outlen; opt++) {
        if (!opt->val || !opt->val[0]) continue;
        bool secret = !strcmp(opt->keyword, "password");
        o += (size_t)snprintf(out + o, outlen - o, " %s=%s", opt->keyword,
                              secret ? "********" : opt->val);
    }
    PQconninfoFree(opts);
    return o < outlen ? 0 : -1;
}
