/*
 * state.c -- the register's view of the current state (reg_state) over the
 * writer's connection, read inside the write transaction, and the number
 * allocator.
 *
 * Numbers are issued in the series G H J K L M N P R S T U V W X Y Z (the
 * register's reg_series_index order), 00001 to 99999 each. The allocator
 * keeps one value, the highest number ever issued or imported in that order
 * (as an ordinal: series index * 100000 + digits); the next number is the
 * one after it. Numbers of other letters (A-numre) never move it. Because
 * the value only grows, and deleted numbers are also recorded in "burnt",
 * no number is ever issued twice.
 */
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

#define SERIES_COUNT 17
#define PER_SERIES 100000

/* A record the row cannot be read back from (out of memory in SQLite or
 * jansson) fails the command (503) instead of passing for "no such number"
 * (found by tests/unit/test_store_faults.c: a PATCH answered 404). */
static json_t *state_get(void *ctx, const char *nummer, reg_level *level, bool *deleted)
{
    state_ctx *x = ctx;
    *deleted = false;
    sql_stmt *q = conn_stmt(x->c, SQ_REC_GET);
    if (!q) {
        x->failed = true;
        return NULL;
    }
    bind_text(q, 1, nummer);
    json_t *rec = NULL;
    int rc = sql_step(q);
    if (rc == SQL_ROW) {
        *level = (reg_level)sql_column_int(q, 0);
        *deleted = sql_column_int(q, 1) != 0;
        rec = column_json(q, 2);
        if (!rec) x->failed = true;
    } else if (rc != SQL_DONE) {
        x->failed = true;
    }
    sql_reset(q);
    return rec;
}

static json_t *state_children(void *ctx, const char *nummer, reg_level level)
{
    (void)level;
    state_ctx *x = ctx;
    json_t *kids = json_array();
    sql_stmt *q = conn_stmt(x->c, SQ_REC_CHILDREN);
    if (!kids || !q) {
        x->failed = true;
        return kids;
    }
    bind_text(q, 1, nummer);
    int rc;
    while ((rc = sql_step(q)) == SQL_ROW) {
        /* a child that cannot be read must not pass for no child */
        json_t *kid = column_json(q, 1);
        if (!kid || json_array_append_new(kids, kid) != 0) x->failed = true;
    }
    if (rc != SQL_DONE) x->failed = true;
    sql_reset(q);
    return kids;
}

static bool state_next_number(void *ctx, char out[7])
{
    state_ctx *x = ctx;
    return alloc_next(x->c, out, &x->failed);
}

static bool state_is_burnt(void *ctx, const char *nummer)
{
    state_ctx *x = ctx;
    sql_stmt *q = conn_stmt(x->c, SQ_BURNT_GET);
    if (!q) {
        x->failed = true;
        return false;
    }
    bind_text(q, 1, nummer);
    int rc = sql_step(q);
    if (rc != SQL_ROW && rc != SQL_DONE) x->failed = true;
    sql_reset(q);
    return rc == SQL_ROW;
}

void state_init(reg_state *st, state_ctx *ctx)
{
    st->ctx = ctx;
    st->get = state_get;
    st->children = state_children;
    st->next_number = state_next_number;
    st->is_burnt = state_is_burnt;
}

int64_t alloc_ordinal(const char *nummer)
{
    if (!nummer || strlen(nummer) != 6) return -1;
    int series = reg_series_index(nummer[0]);
    if (series < 0) return -1;
    int64_t digits = 0;
    for (int i = 1; i < 6; i++) {
        if (nummer[i] < '0' || nummer[i] > '9') return -1;
        digits = digits * 10 + (nummer[i] - '0');
    }
    return (int64_t)series * PER_SERIES + digits;
}

/* The letter of series index i, found through the register's own order. */
static char series_letter(int i)
{
    for (char l = 'A'; l <= 'Z'; l++)
        if (reg_series_index(l) == i) return l;
    return 0;
}

static int alloc_raise(store_conn *c, int64_t ordinal)
{
    sql_stmt *q = conn_stmt(c, SQ_ALLOC_RAISE);
    if (!q) return SQL_ERROR;
    sql_bind_int64(q, 1, ordinal);
    int rc = sql_step(q);
    sql_reset(q);
    return rc == SQL_DONE ? SQL_OK : rc;
}

int alloc_note_number(store_conn *c, const char *nummer)
{
    int64_t ordinal = alloc_ordinal(nummer);
    return ordinal > 0 ? alloc_raise(c, ordinal) : SQL_OK;
}

/* How many numbers the series have left after the allocator's value. */
static int64_t numbers_left_after(int64_t highest)
{
    int64_t series = highest / PER_SERIES, digits = highest % PER_SERIES;
    if (series >= SERIES_COUNT) return 0;
    return (PER_SERIES - 1 - digits) + (SERIES_COUNT - 1 - series) * (PER_SERIES - 1);
}

void alloc_note_left(store_conn *c)
{
    sql_stmt *q = conn_stmt(c, SQ_ALLOC_GET);
    if (!q) return;
    if (sql_step(q) == SQL_ROW)
        __atomic_store_n(&c->s->numbers_left, numbers_left_after(sql_column_int64(q, 0)),
                         __ATOMIC_RELAXED);
    sql_reset(q);
}

int64_t store_numbers_left(store *s)
{
    return __atomic_load_n(&s->numbers_left, __ATOMIC_RELAXED);
}

bool alloc_next(store_conn *c, char out[7], bool *failed)
{
    sql_stmt *q = conn_stmt(c, SQ_ALLOC_GET);
    if (!q || sql_step(q) != SQL_ROW) {
        if (q) sql_reset(q);
        *failed = true;
        return false;
    }
    int64_t next = sql_column_int64(q, 0) + 1;
    sql_reset(q);
    if (next % PER_SERIES == 0) /* past x99999: the next series starts at 00001 */
        next++;
    int series = (int)(next / PER_SERIES);
    char letter = series < SERIES_COUNT ? series_letter(series) : 0;
    if (!letter) return false; /* after Z99999: nothing left to issue */
    snprintf(out, 7, "%c%05u", letter, (unsigned)(next % PER_SERIES) % 100000u);
    if (alloc_raise(c, next) != SQL_OK) {
        *failed = true;
        return false;
    }
    return true;
}
