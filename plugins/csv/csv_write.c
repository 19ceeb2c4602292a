/*
 * csv_write.c -- writing the export layout: a buffered writer that quotes
 * like the register does, and export_write, which streams one file from a
 * dtr_export_source.
 *
 * The register's files: a UTF-8 byte order mark, the header, rows joined by
 * ';' and ended by CRLF. A field is quoted only when it must be: when it holds
 * ';', '"', CR or LF; a '"' inside is doubled. Everything else is written as
 * it is, so a file read and written back is the same bytes.
 *
 * The writer holds one block (CSVP_OUT_BUF) at a time whatever the file's
 * size. Whichever thread calls export_write or generate runs it; nothing is
 * shared.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvp.h"

void csvp_out_init(csvp_out *o, const dtr_byte_sink *sink)
{
    o->sink = sink;
    o->status = DTR_OK;
    o->len = 0;
}

dtr_status csvp_out_flush(csvp_out *o)
{
    if (o->status == DTR_OK && o->len > 0) o->status = o->sink->write(o->sink->ctx, o->buf, o->len);
    if (o->status != DTR_OK) o->status = DTR_ERROR;
    o->len = 0;
    return o->status;
}

/* Appends bytes, handing the block to the sink whenever it fills. */
static void out_bytes(csvp_out *o, const char *p, size_t len)
{
    while (len > 0 && o->status == DTR_OK) {
        size_t room = CSVP_OUT_BUF - o->len;
        size_t n = len < room ? len : room;
        memcpy(o->buf + o->len, p, n);
        o->len += n;
        p += n;
        len -= n;
        if (o->len == CSVP_OUT_BUF) csvp_out_flush(o);
    }
}

static void out_char(csvp_out *o, char c)
{
    if (o->len == CSVP_OUT_BUF) csvp_out_flush(o);
    if (o->status == DTR_OK) o->buf[o->len++] = c;
}

/* Does a field have to be quoted? */
static bool needs_quotes(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] == ';' || p[i] == '"' || p[i] == '\r' || p[i] == '\n') return true;
    return false;
}

/* Writes one field, quoted with its quotes doubled when it needs it. */
static void out_field(csvp_out *o, const char *p, size_t len)
{
    if (!needs_quotes(p, len)) {
        out_bytes(o, p, len);
        return;
    }
    out_char(o, '"');
    const char *end = p + len;
    while (p < end) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (q == NULL) {
            out_bytes(o, p, (size_t)(end - p));
            break;
        }
        out_bytes(o, p, (size_t)(q - p) + 1);
        out_char(o, '"');
        p = q + 1;
    }
    out_char(o, '"');
}

void csvp_out_row(csvp_out *o, const csvp_field *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0) out_char(o, ';');
        out_field(o, fields[i].p, fields[i].len);
    }
    out_bytes(o, "\r\n", 2);
}

void csvp_out_header(csvp_out *o, const csvp_layout *layout)
{
    csvp_field names[CSVP_MAX_COLUMNS];
    for (size_t i = 0; i < layout->n_columns; i++) {
        names[i].p = layout->columns[i].name;
        names[i].len = strlen(layout->columns[i].name);
    }
    out_bytes(o, "\xEF\xBB\xBF", 3);
    csvp_out_row(o, names, layout->n_columns);
}

/* export_write: the header, then one row per record the source yields, in
 * the order it yields them (the host delivers export order). Each record is
 * released as soon as its row is in the buffer. Stops at the first record it
 * cannot write or the first failed write. */
dtr_status csvp_export_write(void *state, int level, const dtr_export_source *src,
                             const dtr_byte_sink *sink, char *err, size_t errlen)
{
    const csvp_state *st = state;
    const csvp_layout *layout = csvp_layout_of(level);
    if (layout == NULL) {
        snprintf(err, errlen, "export_write: no level %d in the csv layout", level);
        return DTR_ERROR;
    }
    csvp_out *o = malloc(sizeof *o);
    if (o == NULL) {
        snprintf(err, errlen, "export_write: out of memory");
        return DTR_ERROR;
    }
    csvp_out_init(o, sink);
    csvp_out_header(o, layout);

    dtr_status status = DTR_OK;
    json_t *record;
    while (o->status == DTR_OK && (record = src->next(src->ctx)) != NULL) {
        csvp_field fields[CSVP_MAX_COLUMNS];
        char scratch[CSVP_SCRATCH];
        bool ok = csvp_record_to_row(layout, record, st, fields, scratch, err, errlen);
        if (ok) csvp_out_row(o, fields, layout->n_columns);
        json_decref(record);
        if (!ok) {
            status = DTR_ERROR;
            break;
        }
    }
    if (status == DTR_OK && csvp_out_flush(o) != DTR_OK) status = DTR_ERROR;
    if (status == DTR_ERROR && o->status != DTR_OK)
        snprintf(err, errlen, "%s: writing failed", layout->file_name);
    free(o);
    return status;
}
