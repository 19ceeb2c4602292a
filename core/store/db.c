/*
 * db.c -- the store's connections (sql.h) and their statement caches, binding helpers,
 * time and text helpers, the store's logger.
 *
 * Every statement the store runs more than once is named in sq_id and
 * prepared once per connection (persistent: sql_prepare), on first use.
 * conn_stmt hands it out reset, so a statement never holds a read
 * transaction open after its caller is done with it (the caller resets it
 * again when it stops stepping early).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <utf8proc.h>

#include "store/store_int.h"

static const char *const sq_text[SQ_COUNT] = {
    [SQ_REC_GET] = "SELECT level, deleted, json FROM record WHERE nummer = ?1",
    [SQ_REC_CHILDREN] = "SELECT level, json FROM record WHERE parent = ?1 AND deleted = 0 "
                        "ORDER BY nummer",
    [SQ_REC_PUT] =
        "INSERT INTO record (nummer, level, parent, version, virkning_fra, virkning_til, "
        "reg_day, deleted, adm_kommune, kommune, inst_type3, p_nummer, cvr_nummer, navn_fold, "
        "json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
        "ON CONFLICT (nummer) DO UPDATE SET level = excluded.level, parent = excluded.parent, "
        "version = excluded.version, virkning_fra = excluded.virkning_fra, "
        "virkning_til = excluded.virkning_til, reg_day = excluded.reg_day, deleted = 0, "
        "adm_kommune = excluded.adm_kommune, kommune = excluded.kommune, "
        "inst_type3 = excluded.inst_type3, p_nummer = excluded.p_nummer, "
        "cvr_nummer = excluded.cvr_nummer, navn_fold = excluded.navn_fold, json = excluded.json",
    [SQ_REC_DELETE] = "UPDATE record SET deleted = 1, reg_day = ?2 WHERE nummer = ?1",
    [SQ_HIST_OPEN] = "SELECT version, virkning_fra FROM history WHERE nummer = ?1 AND "
                     "registrering_til IS NULL ORDER BY version DESC LIMIT 1",
    [SQ_HIST_CLOSE] = "UPDATE history SET registrering_til = ?2, virkning_til = "
                      "coalesce(?3, virkning_til) WHERE nummer = ?1 AND registrering_til IS NULL",
    [SQ_HIST_INSERT] =
        "INSERT INTO history (nummer, version, level, parent, registrering_fra, virkning_fra, "
        "actor, adm_kommune, kommune, inst_type3, p_nummer, cvr_nummer, navn_fold, json) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [SQ_HIST_LIST] = "SELECT version, registrering_fra, registrering_til, virkning_fra, "
                     "virkning_til, actor, json FROM history WHERE nummer = ?1 ORDER BY version",
    [SQ_ASOF_GET] =
        "SELECT h.level, h.json FROM history h JOIN record r ON r.nummer = h.nummer "
        "WHERE h.nummer = ?1 AND r.deleted = 0 AND r.virkning_fra <= ?2 AND "
        "(r.virkning_til IS NULL OR r.virkning_til > ?2) AND h.virkning_fra <= ?2 AND "
        "(h.virkning_til IS NULL OR h.virkning_til > ?2) ORDER BY h.version DESC LIMIT 1",
    [SQ_ASOF_CHILDREN] =
        "SELECT h.level, h.json FROM history h JOIN record r ON r.nummer = h.nummer "
        "WHERE h.parent = ?1 AND r.deleted = 0 AND r.virkning_fra <= ?2 AND "
        "(r.virkning_til IS NULL OR r.virkning_til > ?2) AND h.virkning_fra <= ?2 AND "
        "(h.virkning_til IS NULL OR h.virkning_til > ?2) ORDER BY h.nummer",
    [SQ_HEV_NEXT] = "SELECT coalesce(max(sekvensnummer), 0) + 1 FROM haendelse",
    [SQ_HEV_INSERT] = "INSERT INTO haendelse (sekvensnummer, tidspunkt, operation, entitet, "
                      "nummer, version, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [SQ_HEV_RANGE] = "SELECT sekvensnummer, tidspunkt, operation, entitet, nummer, version, "
                     "data FROM haendelse WHERE sekvensnummer >= ?1 ORDER BY sekvensnummer "
                     "LIMIT ?2",
    [SQ_HEV_LATEST] =
        "SELECT sekvensnummer, tidspunkt FROM haendelse ORDER BY sekvensnummer DESC LIMIT 1",
    [SQ_ALLOC_GET] = "SELECT highest FROM allocator WHERE id = 1",
    [SQ_ALLOC_RAISE] = "UPDATE allocator SET highest = ?1 WHERE id = 1 AND highest < ?1",
    [SQ_BURNT_GET] = "SELECT 1 FROM burnt WHERE nummer = ?1",
    [SQ_BURNT_PUT] = "INSERT INTO burnt (nummer, deleted_at) VALUES (?1, ?2) "
                     "ON CONFLICT (nummer) DO NOTHING",
    [SQ_IDEM_GET] = "SELECT body_hash, status, response, created FROM idempotency "
                    "WHERE client = ?1 AND key = ?2",
    [SQ_IDEM_PUT] = "INSERT INTO idempotency (client, key, body_hash, status, response, "
                    "created) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (client, key) DO UPDATE "
                    "SET body_hash = excluded.body_hash, status = excluded.status, "
                    "response = excluded.response, created = excluded.created",
    [SQ_IDEM_DELETE] = "DELETE FROM idempotency WHERE client = ?1 AND key = ?2",
    [SQ_IDEM_PURGE] = "DELETE FROM idempotency WHERE created < ?1",
    [SQ_CURSOR_GET] = "SELECT sekvensnummer FROM consumer_cursor WHERE consumer = ?1",
    [SQ_CURSOR_SET] = "INSERT INTO consumer_cursor (consumer, sekvensnummer, updated) "
                      "VALUES (?1, ?2, ?3) ON CONFLICT (consumer) DO UPDATE SET "
                      "sekvensnummer = excluded.sekvensnummer, updated = excluded.updated",
    /* The first two terms repeat the partial index's WHERE, so the planner
     * uses it: only records with a date still ahead of their version. */
    [SQ_BEGIN] = "BEGIN",
    [SQ_COMMIT] = "COMMIT",
    [SQ_SAVEPOINT] = "SAVEPOINT job",
    [SQ_RELEASE] = "RELEASE job",
    [SQ_ROLLBACK_TO] = "ROLLBACK TO job",
    [SQ_TIMED_DUE] = "SELECT nummer, level, json FROM record WHERE deleted = 0 AND "
                     "(virkning_fra > reg_day OR virkning_til > reg_day) AND "
                     "((virkning_fra > reg_day AND virkning_fra <= ?1) OR "
                     "(virkning_til > reg_day AND virkning_til <= ?1)) ORDER BY level, nummer",
};

int conn_open(store_conn *c, store *s, bool readonly, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->s = s;
    char why[512], where[300];
    c->db = sql_open(&s->target, readonly, s->busy_timeout_ms, why, sizeof why);
    if (!c->db) {
        sql_describe_target(&s->target, where, sizeof where);
        snprintf(err, errlen, "%s: %s", where, why);
        return -1;
    }
    audit_writer_init(&c->audit, c->db);
    return 0;
}

void conn_close(store_conn *c)
{
    for (int i = 0; i < SQ_COUNT; i++)
        sql_finalize(c->st[i]);
    memset(c->st, 0, sizeof c->st);
    audit_writer_close(&c->audit);
    sql_close(c->db);
    c->db = NULL;
}

sql_stmt *conn_stmt(store_conn *c, sq_id id)
{
    sql_stmt *st = c->st[id];
    if (!st) {
        int rc = sql_prepare(c->db, sq_text[id], true, &st);
        if (rc != SQL_OK) {
            store_log(c->s, 3, "cannot prepare statement %d: %s", (int)id, sql_errmsg(c->db));
            return NULL;
        }
        c->st[id] = st;
    }
    sql_reset(st);
    sql_clear_bindings(st);
    return st;
}

int conn_exec(store_conn *c, const char *sql)
{
    int rc = sql_exec(c->db, sql);
    if (rc != SQL_OK) store_log(c->s, 3, "%s: %s", sql, sql_errmsg(c->db));
    return rc;
}

bool conn_read_begin(store_conn *c)
{
    if (sql_in_transaction(c->db)) return false;
    return sql_begin_read(c->db) == SQL_OK;
}

void conn_read_end(store_conn *c, bool began)
{
    if (began) conn_run(c, SQ_COMMIT);
}

void store_out_of_memory(const char *what)
{
    fprintf(stderr, "dtr: FATAL: out of memory (%s); aborting\n", what);
    abort();
}

void *store_json_malloc(size_t n)
{
    void *p = malloc(n);
    if (!p && n) store_out_of_memory("jansson");
    return p;
}

/* Binds that failed on this thread (out of memory): a failed bind leaves
 * the parameter NULL, which a lookup takes for "no such row" and a write
 * stores, so the writer checks this count around each command (found by
 * tests/unit/test_store_faults.c: a PATCH answered 404 when SQLite's
 * allocator failed). */
static _Thread_local unsigned bind_failures;

unsigned store_bind_failures(void)
{
    return bind_failures;
}

void bind_text(sql_stmt *st, int i, const char *s)
{
    int rc = s ? sql_bind_text(st, i, s, -1) : sql_bind_null(st, i);
    if (rc != SQL_OK) bind_failures++;
}

int conn_run(store_conn *c, sq_id id)
{
    sql_stmt *st = conn_stmt(c, id);
    if (!st) return SQL_ERROR;
    int rc = sql_step(st);
    sql_reset(st);
    if (rc != SQL_DONE) {
        store_log(c->s, 3, "%s: %s", sq_text[id], sql_errmsg(c->db));
        return rc;
    }
    return SQL_OK;
}

char *bind_json(sql_stmt *st, int i, const json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    int rc = sql_bind_text_ref(st, i, text, -1);
    if (rc != SQL_OK || (v && !text)) bind_failures++;
    return text;
}

json_t *column_json(sql_stmt *st, int i)
{
    const char *text = sql_column_text(st, i);
    if (!text) return NULL;
    return json_loadb(text, (size_t)sql_column_bytes(st, i), JSON_DECODE_ANY, NULL);
}

static int64_t system_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t store_now_ms(store *s)
{
    return s->clock ? s->clock(s->clock_udata) : system_clock_ms();
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void store_format_time(int64_t ms, char out[40])
{
    time_t sec = (time_t)floor_div(ms, 1000);
    int milli = (int)(ms - (int64_t)sec * 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    /* the ranges are spelled out so that the text provably fits */
    unsigned year = (unsigned)(tm.tm_year + 1900) % 10000u;
    snprintf(out, 40, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", year, (unsigned)(tm.tm_mon + 1) % 100u,
             (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
             (unsigned)tm.tm_sec % 100u, (unsigned)milli % 1000u);
}

void store_day(int64_t ms, char out[11])
{
    reg_day_of(floor_div(ms, 1000), out);
}

char *store_fold(const char *s)
{
    if (!s) return NULL;
    /* ASCII: NFC already, and case folding maps only A-Z */
    size_t len = 0;
    while (s[len] && (unsigned char)s[len] < 0x80)
        len++;
    if (!s[len]) {
        char *out = malloc(len + 1);
        if (!out) return NULL;
        for (size_t i = 0; i <= len; i++)
            out[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
        return out;
    }
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t n =
        utf8proc_map((const utf8proc_uint8_t *)s, 0, &out,
                     UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
    if (n < 0) return strdup(s); /* not valid UTF-8: compare bytes */
    return (char *)out;
}

bool store_is_day(const char *s)
{
    if (!s || strlen(s) != 10) return false;
    for (int i = 0; i < 10; i++) {
        bool dash = i == 4 || i == 7;
        if (dash ? s[i] != '-' : (s[i] < '0' || s[i] > '9')) return false;
    }
    return true;
}

void store_log(store *s, int level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (s && s->log) {
        s->log(s->log_udata, level, line);
    } else {
        static const char *const names[] = {"debug", "info", "warn", "error"};
        fprintf(stderr, "store %s: %s\n", names[level < 0 ? 0 : level > 3 ? 3 : level], line);
    }
}
