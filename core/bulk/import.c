/*
 * import.c -- `dtr import`: the format plugin's rows, one command each,
 * through the store's writer and the register's rules (see bulk.h).
 *
 * The flow. The plugin streams the three files, parents' file first, and
 * hands every row to on_record (or, when the row could not be read at all,
 * to on_refuse). For each row the importer looks its number up on a reader
 * (the register as committed) and submits the command it calls for:
 *
 *   unknown number          create, keeping the number (keep_numbers); a
 *                           Nedlagt row is created with virkningTil = today
 *   known, closed already   nothing for a Nedlagt row (unchanged); otherwise
 *                           an update, which the register refuses (NEDLAGT)
 *   known, in effect        a move first when the row names another parent,
 *                           then an update with the row's fields; a Nedlagt
 *                           row is closed once every file is in (below)
 *   deleted (burnt)         create, which the register refuses (NUMMER_BRUGT)
 *
 * Rows are submitted in batches; after each batch the importer waits for
 * the answers to the batch before it (store_wait_below runs the store's
 * private loop, and the group commit makes a batch about one transaction),
 * so that reading one batch overlaps the writer's work on the one before.
 * Answers count the row created,
 * updated, unchanged or refused. Between files it waits too, so that every
 * refused parent is known before its children are read: a child of a
 * refused row is refused with it ("parent G40001 was refused").
 *
 * Closing records that exist already waits until every file is in, and runs
 * bottom-up (alternative adresser, anvisningsenheder, daginstitutioner): a
 * daginstitution can only close once its units are closed, and those are
 * in the next file. What is kept for that is one small entry per such row.
 *
 * Memory is bounded: two batches of rows in flight, and two bitmaps over the
 * whole number space (A00000..Z99999, 325 KiB each) for the numbers seen in
 * this import and the numbers refused.
 *
 * Dry run: the store is opened with dry_run, so the writer decides and
 * writes every batch inside one transaction it never commits; the answers
 * (and so the report) are those of a real run, and nothing stays.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bulk/bulk_int.h"

#define IMPORT_BATCH 10000
#define NUMBER_SPACE (26L * 100000L)
#define REASONS_MAX 1536

typedef enum outcome { OUT_NONE = 0, OUT_CREATED, OUT_UPDATED, OUT_UNCHANGED } outcome;

/* A Nedlagt row whose record existed and was in effect: closed at the end. */
typedef struct pending_close {
    uint64_t line;
    char nummer[7];
    uint8_t level;
    uint8_t prior; /* the outcome of the row's update */
} pending_close;

typedef struct importer importer;

/* One row in flight: the commands submitted for it and what they did. */
typedef struct row {
    importer *im;
    reg_level level;
    uint64_t line;
    char nummer[33];
    int pending;      /* commands not yet answered */
    outcome result;   /* the strongest outcome so far */
    bool refused;     /* a command was refused: the row is */
    bool duplicate;   /* refused as a second row of the number: children are not */
    bool close_late;  /* close once every file is in */
    bool closing;     /* this is the late close itself */
    bool done;        /* every command answered; counted when its turn comes */
    char *reasons;    /* the first refusal's reasons (malloc'd) */
    struct row *next; /* the rows in flight, in file order */
} row;

struct importer {
    const bulk_import_options *opt;
    bulk_format *f;
    store *s;
    store_reader *r;
    char today[11];
    const char *file_names[3];
    bulk_counts n;
    bulk_report report;
    uint64_t *seen;    /* bitmap: numbers of rows read so far */
    uint64_t *refused; /* bitmap: numbers of refused rows */
    size_t batch;
    size_t in_flight; /* commands submitted and not answered */
    size_t submitted; /* commands submitted since the last pace */
    row *head, *tail; /* rows in flight in the order they were read */
    size_t queued;    /* rows in that queue */
    int level;        /* the file being read (-1 before the first row) */
    pending_close *closes;
    size_t n_closes, cap_closes;
    bool indexes_deferred; /* an initial load: the store builds list indexes at the end */
    bool failed;           /* the store failed: stop */
    char *err;
    size_t errlen;
};

/* ---- numbers ------------------------------------------------------------------ */

/* The place of a number of the form ^[A-Z][0-9]{5}$ in the bitmaps; -1 for
 * anything else. */
static long number_index(const char *nummer)
{
    if (!nummer || nummer[0] < 'A' || nummer[0] > 'Z' || strlen(nummer) != 6) return -1;
    long digits = 0;
    for (int i = 1; i < 6; i++) {
        if (nummer[i] < '0' || nummer[i] > '9') return -1;
        digits = digits * 10 + (nummer[i] - '0');
    }
    return (long)(nummer[0] - 'A') * 100000L + digits;
}

static bool bit_test(const uint64_t *bits, long i)
{
    return i >= 0 && (bits[i / 64] >> (i % 64)) & 1u;
}

static void bit_set(uint64_t *bits, long i)
{
    if (i >= 0) bits[i / 64] |= (uint64_t)1 << (i % 64);
}

/* ---- rows ------------------------------------------------------------------- */

static row *row_new(importer *im, reg_level level, uint64_t line, const char *nummer)
{
    row *w = calloc(1, sizeof *w);
    if (!w) abort();
    w->im = im;
    w->level = level;
    w->line = line;
    snprintf(w->nummer, sizeof w->nummer, "%s", nummer ? nummer : "");
    if (im->tail)
        im->tail->next = w;
    else
        im->head = w;
    im->tail = w;
    im->queued++;
    return w;
}

/* Marks the row refused with reasons (the first refusal wins). */
static void row_refuse(row *w, const char *reasons)
{
    if (w->refused) return;
    w->refused = true;
    w->reasons = strdup(reasons);
    if (!w->reasons) abort();
}

static void remember_close(importer *im, const row *w)
{
    if (im->n_closes == im->cap_closes) {
        im->cap_closes = im->cap_closes ? im->cap_closes * 2 : 256;
        im->closes = realloc(im->closes, im->cap_closes * sizeof *im->closes);
        if (!im->closes) abort();
    }
    pending_close *c = &im->closes[im->n_closes++];
    c->line = w->line;
    snprintf(c->nummer, sizeof c->nummer, "%.6s", w->nummer);
    c->level = (uint8_t)w->level;
    c->prior = (uint8_t)w->result;
}

/* Every command of the row is answered: count it, report a refusal, or
 * keep it for its late close. Frees the row. */
static void row_count(row *w)
{
    importer *im = w->im;
    if (w->refused) {
        im->n.refused++;
        if (!w->duplicate) bit_set(im->refused, number_index(w->nummer));
        bulk_report_refusal(&im->report, im->file_names[w->level], w->line, w->nummer, w->reasons);
    } else if (w->close_late) {
        remember_close(im, w);
    } else if (w->result == OUT_CREATED) {
        im->n.created++;
    } else if (w->result == OUT_UPDATED) {
        im->n.updated++;
    } else {
        im->n.unchanged++;
    }
    free(w->reasons);
    free(w);
}

/* Marks the row done and counts every done row at the head of the queue:
 * rows are counted and reported in the order they were read, although a
 * row refused by the reader is done before the rows above it are answered. */
static void row_finish(row *w)
{
    importer *im = w->im;
    w->done = true;
    while (im->head && im->head->done) {
        row *first = im->head;
        im->head = first->next;
        if (!im->head) im->tail = NULL;
        im->queued--;
        row_count(first);
    }
}

/* The store answered one command of a row. */
static void on_result(const store_result *res, void *udata)
{
    row *w = udata;
    importer *im = w->im;
    im->in_flight--;
    if (res->status == 503 && !im->failed) {
        im->failed = true;
        snprintf(im->err, im->errlen, "the register could not store %s (line %llu of %s): %s",
                 w->nummer, (unsigned long long)w->line, im->file_names[w->level],
                 res->n_errors ? res->errors[0].tekst : "store failure");
    }
    if (res->status != 0) {
        char reasons[REASONS_MAX];
        bulk_format_reasons(res, reasons, sizeof reasons);
        if (w->closing) {
            char more[REASONS_MAX + 64];
            snprintf(more, sizeof more, "could not be closed: %s", reasons);
            row_refuse(w, more);
        } else {
            row_refuse(w, reasons);
        }
    } else if (res->n_changes > 0) {
        bool created = false;
        for (size_t i = 0; i < res->n_changes; i++)
            created = created || strcmp(res->changes[i].operation, "oprettet") == 0;
        outcome o = created ? OUT_CREATED : OUT_UPDATED;
        if (o == OUT_CREATED || w->result != OUT_CREATED) w->result = o;
    } else if (w->result == OUT_NONE) {
        w->result = OUT_UNCHANGED;
    }
    if (--w->pending == 0) row_finish(w);
}

/* Runs the store's loop until every submitted command is answered. */
static void drain(importer *im)
{
    if (im->in_flight > 0) store_wait(im->s);
    im->submitted = 0;
}

/* A batch is submitted: the importer waits only until the batch before it
 * is answered, so that reading and planning the next rows overlaps the
 * writer's work on this one. The rows of one file do not depend on each
 * other's answers (enter_level drains between files). */
static void pace(importer *im)
{
    im->submitted = 0;
    store_wait_below(im->s, im->batch);
}

/* Looks a row's number up in the register as committed. The writer may be
 * committing the batches before, but a number not seen earlier in this
 * import is untouched by them, so any committed state answers as the
 * register before the import would. Each lookup is a read transaction of
 * its own: a read held across a batch would keep the WAL from starting
 * over (the writer never pauses in a bulk load), and it grew to the
 * writer's checkpoint limit. Returns store_get's value. */
static int lookup(importer *im, const char *nummer, reg_level *level, json_t **stored)
{
    return store_get(im->r, nummer, NULL, 0, level, stored);
}

/* Submits one command for the row. */
static void submit(importer *im, row *w, reg_op op, const char *nummer, const json_t *body)
{
    store_command cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.op = op;
    cmd.level = w->level;
    cmd.nummer = nummer;
    cmd.body = body;
    cmd.actor.id = BULK_IMPORT_ACTOR;
    cmd.actor.role = REG_ROLE_SYSTEM;
    cmd.keep_numbers = true;
    cmd.no_audit = true;
    cmd.no_record = true;
    w->pending++;
    if (store_submit(im->s, &cmd, on_result, w) != 0) {
        w->pending--;
        if (!im->failed) snprintf(im->err, im->errlen, "the store refused a command (closing?)");
        im->failed = true;
        return;
    }
    im->in_flight++;
    im->submitted++;
}

/* After the row's commands are submitted (or none were): a row without
 * commands is finished at once; a full batch is waited for. */
static void row_submitted(importer *im, row *w)
{
    if (w->pending == 0) row_finish(w);
    if (im->queued >= 3 * im->batch)
        drain(im);
    else if (im->submitted >= im->batch)
        pace(im);
}

/* ---- reading ---------------------------------------------------------------- */

/* A new file starts: everything of the one before is answered first, so its
 * refusals are known when its children are read. */
static void enter_level(importer *im, int level)
{
    if (level == im->level) return;
    drain(im);
    im->level = level;
}

static int level_of_file(const importer *im, const char *file)
{
    for (int i = 0; i < 3; i++)
        if (im->file_names[i] && strcmp(im->file_names[i], file) == 0) return i;
    return im->level >= 0 ? im->level : 0;
}

/* The fields the layout has no column for are null in every row; in an
 * update they must leave what the register holds alone (a record created
 * through the API may have an etage). Returns the patch to send (a new
 * reference). */
static json_t *update_patch(json_t *body)
{
    json_t *adresse = json_object_get(body, "adresse");
    if (!json_is_object(adresse)) return json_incref(body);
    static const char *const not_in_layout[] = {"etage", "doer", "dawaId"};
    json_t *copy = json_copy(adresse);
    for (size_t i = 0; i < sizeof not_in_layout / sizeof not_in_layout[0]; i++)
        if (json_is_null(json_object_get(copy, not_in_layout[i])))
            json_object_del(copy, not_in_layout[i]);
    json_t *patch = json_copy(body);
    json_object_set_new(patch, "adresse", copy);
    return patch;
}

/* Decides the commands of a row whose record exists (stored, at slevel). */
static void plan_existing(importer *im, row *w, json_t *body, const json_t *stored,
                          reg_level slevel, bool nedlagt)
{
    if (slevel != w->level) {
        char why[256];
        snprintf(why, sizeof why, "NUMMER_BRUGT nummer: %s is a %s in the register", w->nummer,
                 reg_level_name(slevel));
        row_refuse(w, why);
        return;
    }
    bool closed = strcmp(reg_status(stored, im->today), "nedlagt") == 0;
    if (closed && nedlagt) { /* imported closed before, or closed since: leave it */
        w->result = OUT_UNCHANGED;
        return;
    }
    const char *pf = reg_level_parent_field(w->level);
    const char *parent = pf ? json_string_value(json_object_get(body, pf)) : NULL;
    const char *was = pf ? json_string_value(json_object_get(stored, pf)) : NULL;
    if (parent && was && strcmp(parent, was) != 0) {
        json_t *move = json_pack("{s:s}", pf, parent);
        submit(im, w, REG_OP_MOVE, w->nummer, move);
        json_decref(move);
    }
    json_t *patch = update_patch(body);
    submit(im, w, REG_OP_UPDATE, w->nummer, patch);
    json_decref(patch);
    if (nedlagt && !closed) w->close_late = true;
}

/* dtr_import_sink.record: one row read. */
static dtr_status on_record(void *ctx, int level, json_t *record, const char *file, uint64_t line)
{
    importer *im = ctx;
    if (im->failed) return DTR_ERROR;
    if (level < REG_DAGINSTITUTION || level > REG_ALTERNATIV_ADRESSE) return DTR_ERROR;
    enter_level(im, level);
    if (im->failed) return DTR_ERROR;
    im->n.read++;
    const char *nummer = json_string_value(json_object_get(record, "nummer"));
    row *w = row_new(im, (reg_level)level, line, nummer);
    const char *pf = reg_level_parent_field(w->level);
    const char *parent = pf ? json_string_value(json_object_get(record, pf)) : NULL;
    long index = number_index(nummer);
    char why[256];

    if (!nummer || !*nummer) {
        row_refuse(w, "MANGLER_FELT nummer: the row has no number");
        w->duplicate = true;
    } else if (parent && bit_test(im->refused, number_index(parent))) {
        snprintf(why, sizeof why, "parent %s was refused", parent);
        row_refuse(w, why);
    } else if (bit_test(im->seen, index)) {
        snprintf(why, sizeof why, "NUMMER_BRUGT nummer: %s is on an earlier row of the import",
                 nummer);
        row_refuse(w, why);
        w->duplicate = true;
    }
    bit_set(im->seen, index);
    if (w->refused) {
        row_submitted(im, w);
        return im->failed ? DTR_ERROR : DTR_OK;
    }

    const char *status = json_string_value(json_object_get(record, "aktivitetsstatus"));
    bool nedlagt = status && strcmp(status, "Nedlagt") == 0;
    json_t *body = json_copy(record);
    json_object_del(body, "aktivitetsstatus");

    reg_level slevel = w->level;
    json_t *stored = NULL;
    int rc = lookup(im, nummer, &slevel, &stored);
    if (rc == 0) {
        plan_existing(im, w, body, stored, slevel, nedlagt);
    } else if (rc == 404 || rc == 410 || rc == 400) {
        if (nedlagt) json_object_set_new(body, "virkningTil", json_string(im->today));
        submit(im, w, REG_OP_CREATE, NULL, body);
    } else {
        im->failed = true;
        snprintf(im->err, im->errlen, "the register could not be read (line %llu of %s)",
                 (unsigned long long)line, file);
    }
    json_decref(stored);
    json_decref(body);
    row_submitted(im, w);
    return im->failed ? DTR_ERROR : DTR_OK;
}

/* dtr_import_sink.refuse: a row the plugin could not read. */
static void on_refuse(void *ctx, const char *file, uint64_t line, const char *nummer,
                      const char *reason)
{
    importer *im = ctx;
    if (im->failed) return;
    int level = level_of_file(im, file);
    enter_level(im, level);
    im->n.read++;
    row *w = row_new(im, (reg_level)level, line, nummer);
    if (bit_test(im->seen, number_index(nummer))) w->duplicate = true;
    bit_set(im->seen, number_index(nummer));
    row_refuse(w, reason);
    row_submitted(im, w);
}

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    importer *im = ctx;
    bulk_report_progress(&im->report, done, total, im->n.read);
}

/* ---- after the files ---------------------------------------------------------- */

/* Closes the records whose rows said Nedlagt, bottom-up. */
static void run_late_closes(importer *im)
{
    json_t *body = json_pack("{s:s}", "virkningTil", im->today);
    for (int level = REG_ALTERNATIV_ADRESSE; level >= REG_DAGINSTITUTION && !im->failed; level--) {
        for (size_t i = 0; i < im->n_closes && !im->failed; i++) {
            const pending_close *c = &im->closes[i];
            if (c->level != level) continue;
            row *w = row_new(im, (reg_level)level, c->line, c->nummer);
            w->result = (outcome)c->prior;
            w->closing = true;
            submit(im, w, REG_OP_CLOSE, w->nummer, body);
            row_submitted(im, w);
        }
        drain(im);
    }
    json_decref(body);
}

/* The BLAKE2b-256 digest of a file as hex (65 bytes); false when it cannot
 * be read. */
static bool file_digest(const char *dir, const char *name, char hex[65], uint64_t *size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    static unsigned char buf[1 << 16];
    ssize_t n;
    *size = 0;
    while ((n = read(fd, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            close(fd);
            return false;
        }
        crypto_generichash_update(&st, buf, (size_t)n);
        *size += (uint64_t)n;
    }
    close(fd);
    unsigned char digest[32];
    crypto_generichash_final(&st, digest, sizeof digest);
    sodium_bin2hex(hex, 65, digest, sizeof digest);
    return true;
}

static void audit_done(const store_result *res, void *udata)
{
    *(int *)udata = res->status;
}

/* The answer of store_indexes_defer or store_indexes_restore. */
typedef struct indexes_answer {
    int status;
    int n_indexes;
} indexes_answer;

static void indexes_done(const store_result *res, void *udata)
{
    indexes_answer *a = udata;
    a->status = res->status;
    a->n_indexes = res->n_indexes;
}

/* An import into an empty register is an initial load: the store builds
 * the record table's list indexes once at the end instead of row by row
 * (store_indexes_defer). Not in a dry run, which writes nothing. */
static int defer_indexes(importer *im)
{
    indexes_answer a = {-1, 0};
    if (store_indexes_defer(im->s, indexes_done, &a) != 0) return -1;
    store_wait(im->s);
    im->indexes_deferred = a.n_indexes > 0;
    return a.status == 0 ? 0 : -1;
}

/* Builds the deferred indexes; on the way out of a failed import too (if
 * that fails as well, the next store_open builds them). */
static int restore_indexes(importer *im)
{
    if (!im->indexes_deferred) return 0;
    indexes_answer a = {-1, 0};
    bool bar = im->report.bar_shown;
    if (bar) fputs("\r\033[Kbuilding the register's indexes ...", stderr);
    if (store_indexes_restore(im->s, indexes_done, &a) != 0) return -1;
    store_wait(im->s);
    if (bar) fputs("\r\033[K", stderr);
    if (a.status != 0) return -1;
    im->indexes_deferred = false;
    return 0;
}

/* The import's one audit entry: who, which files (name, size, BLAKE2b),
 * and the counts. files is the array built before reading. */
static int write_audit_entry(importer *im, json_t *files)
{
    char dir[PATH_MAX];
    if (!realpath(im->opt->dir, dir)) snprintf(dir, sizeof dir, "%s", im->opt->dir);
    json_t *after = json_pack("{s:s, s:O, s:I, s:I, s:I, s:I, s:I}", "dir", dir, "files", files,
                              "rows", (json_int_t)im->n.read, "created", (json_int_t)im->n.created,
                              "updated", (json_int_t)im->n.updated, "unchanged",
                              (json_int_t)im->n.unchanged, "refused", (json_int_t)im->n.refused);
    char *text = json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(after);
    audit_entry e = {.actor = BULK_IMPORT_ACTOR, .operation = "import", .after = text};
    int status = -1;
    int rc = store_audit(im->s, &e, audit_done, &status);
    free(text);
    if (rc != 0) return -1;
    store_wait(im->s);
    return status == 0 ? 0 : -1;
}

/* ---- the import ------------------------------------------------------------------ */

static int64_t system_clock(void *udata)
{
    (void)udata;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Lines from the store go to stderr, as the CLI's other messages. */
static void store_log_line(void *udata, int level, const char *msg)
{
    (void)udata;
    if (level >= 2) fprintf(stderr, "dtr import: store: %s\n", msg);
}

/* Opens what the import needs: key, store (dry run or not), reader. */
static int open_store(importer *im, char *err, size_t errlen)
{
    uint8_t key[AUDIT_KEY_BYTES];
    if (audit_load_or_create_key(im->opt->data_dir, key, err, errlen) != 0) return -1;
    store_options so = {.data_dir = im->opt->data_dir,
                        .audit_key = key,
                        .clock = im->opt->clock,
                        .clock_udata = im->opt->clock_udata,
                        .dry_run = im->opt->dry_run,
                        .max_batch = im->batch,
                        .build_deferred_indexes = true, /* bulk_import holds the lock */
                        .log = store_log_line};
    int rc = store_open(&so, &im->s, err, errlen);
    sodium_memzero(key, sizeof key);
    if (rc != 0) return -1;
    im->r = store_reader_open(im->s, err, errlen);
    return im->r ? 0 : -1;
}

int bulk_import(bulk_format *f, const bulk_import_options *opt, bulk_counts *counts, char *err,
                size_t errlen)
{
    if (counts) memset(counts, 0, sizeof *counts);
    int lock_fd;
    int lrc = bulk_lock_data_dir(opt->data_dir, &lock_fd, err, errlen);
    if (lrc != 0) return -1;

    importer im;
    memset(&im, 0, sizeof im);
    im.opt = opt;
    im.f = f;
    im.level = -1;
    im.err = err;
    im.errlen = errlen;
    im.batch = opt->batch ? opt->batch : IMPORT_BATCH;
    im.report.out = opt->out;
    im.report.progress = opt->progress;
    im.report.last_permil = -1;
    reg_day_of((opt->clock ? opt->clock(opt->clock_udata) : system_clock(NULL)) / 1000, im.today);
    for (int level = 0; level < 3; level++)
        im.file_names[level] = f->desc->export_file_name(f->state, level);
    im.seen = calloc(NUMBER_SPACE / 64 + 1, sizeof *im.seen);
    im.refused = calloc(NUMBER_SPACE / 64 + 1, sizeof *im.refused);
    if (!im.seen || !im.refused) abort();

    int result = -1;
    json_t *files = json_array();
    for (int level = 0; level < 3; level++) {
        char hex[65];
        uint64_t size;
        if (!im.file_names[level] || !file_digest(opt->dir, im.file_names[level], hex, &size)) {
            snprintf(err, errlen, "%s/%s: %s", opt->dir,
                     im.file_names[level] ? im.file_names[level] : "?", strerror(errno));
            goto done;
        }
        json_array_append_new(files, json_pack("{s:s, s:I, s:s}", "name", im.file_names[level],
                                               "bytes", (json_int_t)size, "blake2b", hex));
    }
    if (open_store(&im, err, errlen) != 0) goto done;
    if (!opt->dry_run && defer_indexes(&im) != 0) {
        snprintf(err, errlen, "the register could not prepare the load");
        goto done;
    }

    dtr_import_sink sink = {
        .ctx = &im, .record = on_record, .refuse = on_refuse, .progress = on_progress};
    char why[1024] = "";
    dtr_status st = f->desc->import_read(f->state, opt->dir, &sink, why, sizeof why);
    drain(&im);
    if (!im.failed && st != DTR_OK) {
        snprintf(err, errlen, "%s", why[0] ? why : "the files could not be read");
        goto done;
    }
    if (!im.failed) run_late_closes(&im);
    if (im.failed) goto done;
    if (restore_indexes(&im) != 0) {
        snprintf(err, errlen,
                 "the register's indexes could not be built (the next start of the "
                 "register builds them)");
        goto done;
    }
    if (!opt->dry_run && write_audit_entry(&im, files) != 0) {
        snprintf(err, errlen, "the import's audit entry could not be written");
        goto done;
    }
    bulk_report_summary(&im.report, opt->dir, &im.n, opt->dry_run);
    result = im.n.refused ? 1 : 0;
done:
    if (result < 0 && im.report.bar_shown) fputs("\n", stderr);
    if (counts) *counts = im.n;
    if (im.r) store_reader_close(im.r);
    if (im.s && im.indexes_deferred) restore_indexes(&im);
    if (im.s) store_close(im.s);
    json_decref(files);
    free(im.closes);
    free(im.seen);
    free(im.refused);
    close(lock_fd);
    return result;
}
