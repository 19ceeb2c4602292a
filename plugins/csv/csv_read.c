/*
 * csv_read.c -- import_read: the three files of the export layout, streamed
 * through libcsv in fixed-size chunks, each row delivered to the host's
 * dtr_import_sink as a record or a refusal.
 *
 * Memory is bounded whatever the file's size: one read chunk, one row (at
 * most READ_MAX_FIELDS fields kept, each at most READ_FIELD_MAX bytes: libcsv
 * grows its field buffer through bounded_realloc, which refuses more), and
 * the record being delivered.
 *
 * Line numbers. The sink wants the physical line a row starts on (the header
 * is line 1), and a quoted field may span lines. libcsv does not count lines,
 * so the reader cuts every chunk after each CR and LF and hands libcsv one
 * piece at a time: after each piece it knows the line it is on, and whether
 * that piece ended a row (libcsv called the row callback: CSV_REPALL_NL makes
 * it do so for every unquoted line end) or left one open (inside a quoted
 * field). A row starts on the line where a piece begins with no row open.
 * CRLF, LF and a lone CR each end one line.
 *
 * Broken quoting. CSV_STRICT makes libcsv stop at a quote inside an unquoted
 * field or text after a closing quote, and CSV_STRICT_FINI at a quoted field
 * the file ends inside. The row is refused with the line it started on; the
 * reader then drops the rest of the physical line the fault is on, starts a
 * fresh parser and goes on with the next line.
 *
 * Runs on the caller's thread (the loop or the CLI's main thread), with
 * blocking file I/O; the reader's state is its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csv.h>

#include "csvp.h"

#define READ_CHUNK (64 * 1024)
#define READ_FIELD_MAX (64 * 1024)
#define READ_MAX_FIELDS 64 /* kept per row; more are only counted */
#define NUMMER_MAX 32      /* longer "numbers" are not echoed in a refusal */

typedef struct reader {
    const csvp_layout *layout;
    const char *file;            /* the file's name, for the sink and messages */
    const csvp_state *codes;     /* the code lists' instance */
    const dtr_import_sink *sink; /* NULL: only check the header */

    struct csv_parser parser;
    bool parser_ready;

    /* The row being assembled: each field's bytes, NUL-terminated. */
    char *row;
    size_t row_len, row_cap;
    size_t field_off[READ_MAX_FIELDS], field_len[READ_MAX_FIELDS];
    size_t n_fields;

    /* Where we are. */
    uint64_t line;     /* the physical line the next byte is on */
    bool pending_cr;   /* the last line end was a CR: an LF right after it is the same end */
    bool mid_row;      /* a row has begun and not ended */
    bool row_ended;    /* libcsv ended a row during the current piece */
    uint64_t row_line; /* the line the current row started on */
    bool skipping;     /* after a parse error: dropping the rest of the line */

    /* The header: where each layout column is in the file. */
    bool have_header;
    int position_of[CSVP_MAX_COLUMNS];

    /* The outcome. */
    bool stop; /* header checked (check pass), a fatal error, or the sink said stop */
    dtr_status status;
    char *err;
    size_t errlen;
} reader;

/* libcsv's field buffer grows through this: past READ_FIELD_MAX it reports
 * no memory, which the reader turns into a refusal of the row. */
static void *bounded_realloc(void *p, size_t n)
{
    if (n > READ_FIELD_MAX) return NULL;
    return realloc(p, n);
}

/* Nothing is a space: libcsv must keep leading and trailing blanks. */
static int never_space(unsigned char c)
{
    (void)c;
    return 0;
}

static void parser_start(reader *r)
{
    csv_init(&r->parser, CSV_STRICT | CSV_REPALL_NL | CSV_STRICT_FINI);
    csv_set_delim(&r->parser, ';');
    csv_set_quote(&r->parser, '"');
    csv_set_space_func(&r->parser, never_space);
    csv_set_realloc_func(&r->parser, bounded_realloc);
    csv_set_blk_size(&r->parser, 4096);
    r->parser_ready = true;
}

static void parser_stop(reader *r)
{
    if (r->parser_ready) csv_free(&r->parser);
    r->parser_ready = false;
}

static void fail(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, r->errlen, fmt, ap);
    va_end(ap);
    r->status = DTR_ERROR;
    r->stop = true;
}

/* libcsv's field callback: keeps the field's bytes (NUL-terminated) in the
 * row buffer. Fields past READ_MAX_FIELDS are counted, not kept. */
static void on_field(void *data, size_t len, void *ctx)
{
    reader *r = ctx;
    if (r->n_fields < READ_MAX_FIELDS && !r->stop) {
        if (r->row_len + len + 1 > r->row_cap) {
            size_t cap = r->row_cap ? r->row_cap : 1024;
            while (cap < r->row_len + len + 1)
                cap *= 2;
            char *p = realloc(r->row, cap);
            if (p == NULL) {
                fail(r, "%s: out of memory", r->file);
                return;
            }
            r->row = p;
            r->row_cap = cap;
        }
        if (len > 0) memcpy(r->row + r->row_len, data, len);
        r->row[r->row_len + len] = '\0';
        r->field_off[r->n_fields] = r->row_len;
        r->field_len[r->n_fields] = len;
        r->row_len += len + 1;
    }
    r->n_fields++;
}

static void row_clear(reader *r)
{
    r->n_fields = 0;
    r->row_len = 0;
}

/* The row's number for a refusal, when it could be read: the number column's
 * field if the row reaches it and it is short, valid UTF-8. NULL otherwise. */
static const char *row_nummer(const reader *r)
{
    if (!r->have_header) return NULL;
    size_t pos = (size_t)r->position_of[0];
    if (pos >= r->n_fields || pos >= READ_MAX_FIELDS) return NULL;
    size_t len = r->field_len[pos];
    const char *p = r->row + r->field_off[pos];
    if (len == 0 || len > NUMMER_MAX || !csvp_utf8_valid(p, len)) return NULL;
    return p;
}

/* Checks the header row: exactly the layout's columns, in any order, each
 * once. On a mismatch the whole file is refused, naming what is missing,
 * unexpected or repeated. */
static void check_header(reader *r)
{
    const csvp_layout *l = r->layout;
    char unexpected[512] = "", repeated[512] = "", missing[512] = "";
    for (size_t c = 0; c < l->n_columns; c++)
        r->position_of[c] = -1;
    for (size_t i = 0; i < r->n_fields && i < READ_MAX_FIELDS; i++) {
        const char *name = r->row + r->field_off[i];
        size_t len = r->field_len[i];
        size_t c = 0;
        while (c < l->n_columns &&
               !(strlen(l->columns[c].name) == len && memcmp(l->columns[c].name, name, len) == 0))
            c++;
        char *list = c == l->n_columns ? unexpected : r->position_of[c] >= 0 ? repeated : NULL;
        if (list) {
            size_t used = strlen(list);
            bool printable = csvp_utf8_valid(name, len);
            snprintf(list + used, 512 - used, "%s'%.*s'", used ? ", " : "",
                     printable ? (int)csvp_utf8_cut(name, len, 40) : 9,
                     printable ? name : "(invalid)");
        } else {
            r->position_of[c] = (int)i;
        }
    }
    for (size_t c = 0; c < l->n_columns; c++) {
        if (r->position_of[c] >= 0) continue;
        size_t used = strlen(missing);
        snprintf(missing + used, sizeof missing - used, "%s%s", used ? ", " : "",
                 l->columns[c].name);
    }
    if (r->n_fields > READ_MAX_FIELDS)
        snprintf(unexpected + strlen(unexpected), sizeof unexpected - strlen(unexpected),
                 "%s%zu more", unexpected[0] ? ", " : "", r->n_fields - READ_MAX_FIELDS);
    if (missing[0] || unexpected[0] || repeated[0]) {
        fail(r, "%s: the header is not the layout's column set:%s%s%s%s%s%s", r->file,
             missing[0] ? " missing " : "", missing, unexpected[0] ? " unexpected " : "",
             unexpected, repeated[0] ? " repeated " : "", repeated);
        return;
    }
    r->have_header = true;
}

static void refuse(reader *r, const char *reason)
{
    r->sink->refuse(r->sink->ctx, r->file, r->row_line, row_nummer(r), reason);
}

/* A data row: refused (wrong column count, a field that cannot be read) or
 * turned into a record and handed to the sink. */
static void data_row(reader *r)
{
    const csvp_layout *l = r->layout;
    char reason[CSVP_REASON_MAX];
    if (r->n_fields != l->n_columns) {
        snprintf(reason, sizeof reason, "expected %zu columns, found %zu", l->n_columns,
                 r->n_fields);
        refuse(r, reason);
        return;
    }
    csvp_field fields[CSVP_MAX_COLUMNS];
    for (size_t c = 0; c < l->n_columns; c++) {
        size_t pos = (size_t)r->position_of[c];
        fields[c].p = r->row + r->field_off[pos];
        fields[c].len = r->field_len[pos];
    }
    json_t *record = csvp_row_to_record(l, fields, r->codes, reason, sizeof reason);
    if (record == NULL) {
        refuse(r, reason);
        return;
    }
    dtr_status s = r->sink->record(r->sink->ctx, l->level, record, r->file, r->row_line);
    json_decref(record);
    if (s == DTR_ERROR)
        fail(r, "%s: line %llu: the importer stopped reading", r->file,
             (unsigned long long)r->row_line);
}

/* libcsv's row callback: a line end outside quotes (or the end of the file).
 * An empty line has no fields and is skipped. */
static void on_row(int c, void *ctx)
{
    (void)c;
    reader *r = ctx;
    r->row_ended = true;
    if (r->stop || r->n_fields == 0) {
        row_clear(r);
        return;
    }
    if (!r->have_header) {
        check_header(r);
        if (r->sink == NULL) r->stop = true;
    } else {
        data_row(r);
    }
    row_clear(r);
}

/* Counts one line end (a CR, or an LF that is not the second half of a
 * CRLF). */
static void count_line_end(reader *r, char c)
{
    if (c == '\r') {
        r->line++;
        r->pending_cr = true;
    } else if (r->pending_cr) {
        r->pending_cr = false;
    } else {
        r->line++;
    }
}

/* libcsv stopped early: broken quoting, or a field past READ_FIELD_MAX.
 * Refuses the row (a broken header refuses the file) and starts a fresh
 * parser for what follows. */
static void parse_failed(reader *r, bool at_end)
{
    int code = csv_error(&r->parser);
    const char *reason =
        at_end ? "broken quoting: a quoted field is not closed before the end of the file"
        : code == CSV_EPARSE
            ? "broken quoting: a quote inside an unquoted field, or text after a closing quote"
            : "a field is longer than 65536 bytes (a quote not closed?)";
    if (!r->have_header)
        fail(r, "%s: line %llu: the header cannot be read: %s", r->file,
             (unsigned long long)r->row_line, reason);
    else if (r->sink)
        refuse(r, reason);
    parser_stop(r);
    parser_start(r);
    row_clear(r);
    r->mid_row = false;
}

/* Feeds one chunk to libcsv, one piece per line end (see the top of the
 * file). */
static void feed(reader *r, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && !r->stop) {
        size_t j = i;
        while (j < n && p[j] != '\r' && p[j] != '\n')
            j++;
        bool has_end = j < n;
        size_t end = has_end ? j + 1 : n;
        if (r->pending_cr && j > i) r->pending_cr = false;
        if (r->skipping) {
            if (has_end) {
                r->skipping = false;
                count_line_end(r, p[j]);
            }
            i = end;
            continue;
        }
        if (!r->mid_row) r->row_line = r->line;
        r->row_ended = false;
        size_t done = csv_parse(&r->parser, p + i, end - i, on_field, on_row, r);
        if (done < end - i && !r->stop) {
            parse_failed(r, false);
            if (has_end)
                count_line_end(r, p[j]);
            else
                r->skipping = true;
        } else if (has_end) {
            count_line_end(r, p[j]);
            r->mid_row = !r->row_ended;
        } else {
            r->mid_row = true;
        }
        i = end;
    }
}

/* The end of the file: the last row may lack its line end, or be inside a
 * quoted field that never closed. */
static void finish(reader *r)
{
    if (r->stop || r->skipping) return;
    if (csv_fini(&r->parser, on_field, on_row, r) != 0 && !r->stop) parse_failed(r, true);
    if (!r->have_header && !r->stop) fail(r, "%s: no header (the file is empty)", r->file);
}

/* Reads one file from fd to its end (or, without a sink, to the end of the
 * header). progress, when given, counts the bytes. */
static dtr_status read_file(reader *r, int fd, uint64_t *done, uint64_t total, char *buf)
{
    bool first = true;
    for (;;) {
        ssize_t n = read(fd, buf, READ_CHUNK);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            fail(r, "%s: read: %s", r->file, strerror(errno));
            break;
        }
        if (n == 0) {
            finish(r);
            break;
        }
        const char *p = buf;
        size_t len = (size_t)n;
        if (first && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3, len -= 3;
        first = false;
        feed(r, p, len);
        if (r->sink && r->sink->progress && done) {
            *done += (uint64_t)n;
            r->sink->progress(r->sink->ctx, *done, total);
        }
        if (r->stop) break;
    }
    return r->status;
}

/* Opens dir/name for reading; fills err when it cannot. */
static int open_in(const char *dir, const char *name, uint64_t *size, char *err, size_t errlen)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
        snprintf(err, errlen, "%s/%s: path too long", dir, name);
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    *size = (uint64_t)sb.st_size;
    return fd;
}

/* Runs a reader over one file: the header check alone (sink NULL) or the
 * whole file. */
static dtr_status read_level(const csvp_state *st, const char *dir, int level,
                             const dtr_import_sink *sink, uint64_t *done, uint64_t total, char *buf,
                             char *err, size_t errlen)
{
    reader *r = calloc(1, sizeof *r);
    if (r == NULL) {
        snprintf(err, errlen, "import_read: out of memory");
        return DTR_ERROR;
    }
    r->layout = csvp_layout_of(level);
    r->file = r->layout->file_name;
    r->codes = st;
    r->sink = sink;
    r->line = 1;
    r->status = DTR_OK;
    r->err = err;
    r->errlen = errlen;
    uint64_t size;
    int fd = open_in(dir, r->file, &size, err, errlen);
    if (fd < 0) {
        free(r);
        return DTR_ERROR;
    }
    parser_start(r);
    dtr_status s = read_file(r, fd, done, total, buf);
    close(fd);
    parser_stop(r);
    free(r->row);
    free(r);
    return s;
}

/* import_read: first every file's header (so that a wrong column set refuses
 * the import before any row is delivered), then the files in level order,
 * parents first. */
dtr_status csvp_import_read(void *state, const char *dir, const dtr_import_sink *sink, char *err,
                            size_t errlen)
{
    const csvp_state *st = state;
    uint64_t total = 0, done = 0;
    for (int level = 0; level < CSVP_LEVELS; level++) {
        uint64_t size;
        int fd = open_in(dir, csvp_layout_of(level)->file_name, &size, err, errlen);
        if (fd < 0) return DTR_ERROR;
        close(fd);
        total += size;
    }
    char *buf = malloc(READ_CHUNK);
    if (buf == NULL) {
        snprintf(err, errlen, "import_read: out of memory");
        return DTR_ERROR;
    }
    dtr_status s = DTR_OK;
    for (int level = 0; level < CSVP_LEVELS && s == DTR_OK; level++)
        s = read_level(st, dir, level, NULL, NULL, 0, buf, err, errlen);
    for (int level = 0; level < CSVP_LEVELS && s == DTR_OK; level++)
        s = read_level(st, dir, level, sink, &done, total, buf, err, errlen);
    free(buf);
    return s;
}
