/*
 * decide.c -- reg_decide: errors, paths and the decision's memory.
 * (Interim: the command rules follow in the next commit.)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "register/internal.h"

void reg_fail(reg_decision *d, int status, const char *kode, const char *felt, const char *fmt, ...)
{
    if (d->status == 0) d->status = status;
    if (d->n_errors >= REG_MAX_ERRORS) return;
    reg_error *e = &d->errors[d->n_errors++];
    snprintf(e->kode, sizeof e->kode, "%s", kode);
    snprintf(e->felt, sizeof e->felt, "%s", felt ? felt : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->tekst, sizeof e->tekst, fmt, ap);
    va_end(ap);
}

void reg_path(char *out, size_t size, const char *prefix, const char *name)
{
    if (prefix && *prefix)
        snprintf(out, size, "%s.%s", prefix, name);
    else
        snprintf(out, size, "%s", name);
}

void reg_path_index(char *out, size_t size, const char *prefix, const char *name, size_t index)
{
    if (prefix && *prefix)
        snprintf(out, size, "%s.%s[%zu]", prefix, name, index);
    else
        snprintf(out, size, "%s[%zu]", name, index);
}

void reg_decision_clear(reg_decision *d)
{
    for (size_t i = 0; i < d->n_changes; i++)
        reg_change_clear(&d->changes[i]);
    free(d->changes);
    memset(d, 0, sizeof *d);
}

void reg_decide(const reg_command *cmd, const reg_state *state, const reg_actor *actor,
                reg_decision *out)
{
    (void)cmd;
    (void)state;
    (void)actor;
    memset(out, 0, sizeof *out);
    reg_fail(out, 503, "IKKE_KLAR", "", "interim build");
}
