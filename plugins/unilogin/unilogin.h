/*
 * unilogin.h -- the unilogin plugin's parts: the rows of the list of
 * numbers users can be attached to and its change sets (rows.c), the whole
 * list streamed over HTTP (stream.c), the files it writes for every batch
 * of the feed (export.c), the routes' OpenAPI description (openapi.c), and
 * the instance (plugin.c).
 *
 * The list (API.md, Consumer plugins): anvisningsenheder and alternative
 * adresser in effect today that have both a cvrNummer and a pNummer, one
 * row each:
 *   {"institutionsnummer", "navn", "niveau", "daginstitutionsNummer",
 *    "anvisningsenhedsNummer", "kommuneKode", "instType3", "cvrNummer",
 *    "pNummer", "adresse"}
 * An anvisningsenhed's anvisningsenhedsNummer is its own number; an
 * alternativ adresse carries its anvisningsenhed's number, that unit's
 * daginstitutionsNummer and that unit's instType3.
 *
 * A change set from the hændelser after S up to T names every number whose
 * row may have changed: the numbers of the anvisningsenheder and
 * alternative adresser the hændelser touched, and the alternative adresser
 * of every anvisningsenhed touched (they carry its type and daginstitution,
 * and follow it when it moves, without hændelser of their own). Each is
 * then read as the register holds it now: a number on the list goes to
 * "aendret" with its row; one that is not goes to "fjernet" when it was on
 * the list before its first change after S (closed, deleted, lost its CVR-
 * or P-nummer), and is left out when it never was.
 *
 * Everything in rows.c runs on a pool thread with a reader of its own.
 */
#ifndef UNILOGIN_H
#define UNILOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtr/plugin.h>

/* What went wrong in a read: the HTTP status to answer with and why. */
typedef struct uni_error {
    int status; /* 400 or 503 */
    const char *kode;
    char tekst[200];
} uni_error;

/* On the list now: a record as read (with "status" for today) that is in
 * effect today and has both a cvrNummer and a pNummer. */
bool uni_listed_now(const json_t *rec);

/* The row of an anvisningsenhed (level 1), or of an alternativ adresse
 * (level 2) whose anvisningsenhed is unit (as read_get shows it). A new
 * object that borrows parts of rec (keep rec alive while it is used from
 * one thread at a time). */
json_t *uni_row(const json_t *rec, dtr_level level, const json_t *unit);

/* The change set of the hændelser after `efter` up to the newest
 * sekvensnummer T of a snapshot, or up to efter + max_events when that comes
 * first (max_events 0: no bound): {"fra": efter + 1, "til": T, "aendret":
 * [...], "fjernet": [...]}. efter after T is a 400. 0, or -1 with e. */
int uni_changes_since(const dtr_host_api *api, dtr_reader *r, int64_t efter, int64_t max_events,
                      json_t **out, uni_error *e);

/* True when a change set has nothing to add and nothing to remove. */
bool uni_changes_empty(const json_t *changes);

/* ---- stream.c ---------------------------------------------------------------- */

/* Rows per piece of the streamed list: the records one read brings and the
 * rows the pool turns into text before the loop writes them. */
#define UNI_STREAM_PAGE 250

/* Called on the loop thread when the stream is done with the reader it was
 * given (its snapshot ended): the caller takes it back. */
typedef void (*uni_reader_back_fn)(void *ctx, dtr_reader *r);

/* Answers GET /v1/unilogin/institutioner on req, streamed:
 *   {"sekvensnummer": S, "institutioner": [rows by institutionsnummer]}
 * as of one snapshot S of reader, with memory bounded by a page whatever
 * the register holds (stream.c says how). From now on the stream owns req
 * and reader: it answers (503 problem+json when the register cannot be
 * read before the first byte) and hands reader back through back(ctx, r).
 * Returns false when it could not start (the pool refused the first
 * read); then it took nothing and the caller answers. Loop thread. */
bool uni_list_stream(const dtr_host_api *api, dtr_plugin *self, dtr_request *req,
                     dtr_reader *reader, uni_reader_back_fn back, void *ctx);

/* ---- export.c --------------------------------------------------------------- */

/* Writes changes as dir/unilogin-<fra>-<til>.json and its detached
 * signature dir/unilogin-<fra>-<til>.json.sig (base64 of the Ed25519
 * signature of the file's bytes, by api->sign) atomically: each through a
 * temporary file that is fsynced and renamed, the directory fsynced after
 * each rename, the .sig in place before the .json. Creates dir (and its
 * parents) when missing. Pool thread (blocking I/O). 0, or -1 with the
 * reason in err. */
int uni_export_write(const dtr_host_api *api, dtr_plugin *self, const char *dir,
                     const json_t *changes, int64_t fra, int64_t til, char *err, size_t errlen);

/* ---- openapi.c ---------------------------------------------------------------- */

/* Describes GET /v1/unilogin/institutioner and /v1/unilogin/aendringer to
 * the host (openapi_describe), after they were added. Does nothing on a host
 * without openapi_describe (a test's fake host); a refusal is logged. Loop thread (init). */
void uni_openapi_describe(const dtr_host_api *api, dtr_plugin *self);

#endif /* UNILOGIN_H */
