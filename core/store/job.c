/*
 * job.c -- a queued job's answer: errors, changes, the record, and its JSON
 * form (what an idempotency key stores and replays).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

void job_reset_answer(store_job *j)
{
    json_decref(j->res.record);
    for (size_t i = 0; j->step_results && i < j->n_steps; i++) {
        json_decref(j->step_results[i].record);
        memset(&j->step_results[i], 0, sizeof j->step_results[i]);
    }
    free(j->errors);
    free(j->changes);
    j->errors = NULL;
    j->n_errors = 0;
    j->changes = NULL;
    j->n_changes = 0;
    j->cap_changes = 0;
    memset(&j->res, 0, sizeof j->res);
    j->res.failed_step = -1;
}

void job_free(store_job *j)
{
    if (!j) return;
    job_reset_answer(j);
    free(j->nummer);
    json_decref(j->body);
    free(j->actor_id);
    free(j->kommuner);
    free(j->request_id);
    free(j->idem_client);
    free(j->idem_key);
    free(j->consumer);
    for (size_t i = 0; i < j->n_steps; i++)
        job_free(j->steps[i]);
    free(j->steps);
    free(j->step_results);
    for (size_t i = 0; i < sizeof j->entry_text / sizeof j->entry_text[0]; i++)
        free(j->entry_text[i]);
    free(j);
}

void job_set_errors(store_job *j, const reg_error *errors, size_t n)
{
    free(j->errors);
    j->errors = NULL;
    j->n_errors = 0;
    if (n == 0) return;
    j->errors = malloc(n * sizeof *errors);
    if (!j->errors) abort();
    memcpy(j->errors, errors, n * sizeof *errors);
    j->n_errors = n;
}

void job_fail(store_job *j, int status, const char *kode, const char *tekst)
{
    job_reset_answer(j);
    reg_error e;
    memset(&e, 0, sizeof e);
    snprintf(e.kode, sizeof e.kode, "%s", kode);
    snprintf(e.tekst, sizeof e.tekst, "%s", tekst);
    job_set_errors(j, &e, 1);
    j->res.status = status;
}

void job_add_change(store_job *j, const char *operation, reg_level level, const char *nummer,
                    int64_t version)
{
    if (j->n_changes == j->cap_changes) {
        size_t cap = j->cap_changes ? j->cap_changes * 2 : 4;
        store_change *grown = realloc(j->changes, cap * sizeof *grown);
        if (!grown) abort();
        j->changes = grown;
        j->cap_changes = cap;
    }
    store_change *c = &j->changes[j->n_changes++];
    memset(c, 0, sizeof *c);
    snprintf(c->operation, sizeof c->operation, "%s", operation);
    c->level = level;
    snprintf(c->nummer, sizeof c->nummer, "%s", nummer);
    c->version = version;
}

json_t *job_answer_to_json(const store_job *j)
{
    json_t *errors = json_array();
    for (size_t i = 0; i < j->n_errors; i++)
        json_array_append_new(errors,
                              json_pack("{s:s, s:s, s:s}", "kode", j->errors[i].kode, "felt",
                                        j->errors[i].felt, "tekst", j->errors[i].tekst));
    json_t *changes = json_array();
    for (size_t i = 0; i < j->n_changes; i++)
        json_array_append_new(
            changes, json_pack("{s:s, s:i, s:s, s:I}", "operation", j->changes[i].operation,
                               "level", (int)j->changes[i].level, "nummer", j->changes[i].nummer,
                               "version", (json_int_t)j->changes[i].version));
    json_t *steps = json_array();
    for (size_t i = 0; j->step_results && i < j->n_steps; i++) {
        const store_step *st = &j->step_results[i];
        json_array_append_new(steps,
                              json_pack("{s:i, s:s, s:i, s:I, s:b, s:O}", "status", st->status,
                                        "primary", st->primary, "level", (int)st->level, "version",
                                        (json_int_t)st->version, "done", st->done, "record",
                                        st->record ? st->record : json_null()));
    }
    return json_pack("{s:i, s:s, s:i, s:I, s:I, s:I, s:o, s:o, s:O, s:o, s:I}", "status",
                     j->res.status, "primary", j->res.primary, "level", (int)j->res.level,
                     "version", (json_int_t)j->res.version, "seqFirst",
                     (json_int_t)j->res.seq_first, "seqLast", (json_int_t)j->res.seq_last, "errors",
                     errors, "changes", changes, "record",
                     j->res.record ? j->res.record : json_null(), "steps", steps, "failedStep",
                     (json_int_t)j->res.failed_step);
}

static const char *str_of(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

void job_answer_from_json(store_job *j, const json_t *a)
{
    job_reset_answer(j);
    j->res.status = (int)json_integer_value(json_object_get(a, "status"));
    snprintf(j->res.primary, sizeof j->res.primary, "%s", str_of(a, "primary"));
    j->res.level = (reg_level)json_integer_value(json_object_get(a, "level"));
    j->res.version = json_integer_value(json_object_get(a, "version"));
    j->res.seq_first = json_integer_value(json_object_get(a, "seqFirst"));
    j->res.seq_last = json_integer_value(json_object_get(a, "seqLast"));
    json_t *record = json_object_get(a, "record");
    if (json_is_object(record)) j->res.record = json_deep_copy(record);
    json_t *fs = json_object_get(a, "failedStep");
    j->res.failed_step = fs ? (long)json_integer_value(fs) : -1;
    json_t *steps = json_object_get(a, "steps");
    for (size_t k = 0; j->step_results && k < j->n_steps && k < json_array_size(steps); k++) {
        const json_t *st = json_array_get(steps, k);
        store_step *out = &j->step_results[k];
        out->status = (int)json_integer_value(json_object_get(st, "status"));
        snprintf(out->primary, sizeof out->primary, "%s", str_of(st, "primary"));
        out->level = (reg_level)json_integer_value(json_object_get(st, "level"));
        out->version = json_integer_value(json_object_get(st, "version"));
        out->done = json_is_true(json_object_get(st, "done"));
        const json_t *rec = json_object_get(st, "record");
        out->record = json_is_object(rec) ? json_deep_copy(rec) : NULL;
    }
    size_t i;
    json_t *v;
    json_t *errors = json_object_get(a, "errors");
    if (json_array_size(errors) > 0) {
        j->errors = calloc(json_array_size(errors), sizeof *j->errors);
        if (!j->errors) abort();
        json_array_foreach(errors, i, v)
        {
            reg_error *e = &j->errors[j->n_errors++];
            snprintf(e->kode, sizeof e->kode, "%s", str_of(v, "kode"));
            snprintf(e->felt, sizeof e->felt, "%s", str_of(v, "felt"));
            snprintf(e->tekst, sizeof e->tekst, "%s", str_of(v, "tekst"));
        }
    }
    json_array_foreach(json_object_get(a, "changes"), i, v)
    {
        job_add_change(j, str_of(v, "operation"),
                       (reg_level)json_integer_value(json_object_get(v, "level")),
                       str_of(v, "nummer"), json_integer_value(json_object_get(v, "version")));
    }
}
