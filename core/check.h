/*
 * check.h -- `dtr check`: the register's consistency report (DOMAIN.md,
 * "Consistency report"): daginstitutioner in effect without an anvisningsenhed
 * in effect, and anvisningsenheder and alternative adresser in effect without
 * a P-nummer (no Unilogin users can be attached to them).
 */
#ifndef DTR_CHECK_H
#define DTR_CHECK_H

#include <stddef.h>
#include <stdio.h>

/* Writes the report for the register in data_dir to out as one JSON object,
 * read from one snapshot (it may run beside a server), streaming: memory stays
 * bounded whatever the register's size. Returns 0 when it found nothing, 1
 * when it found something, -1 with the reason in err when the register could
 * not be read. */
int check_register(const char *data_dir, FILE *out, char *err, size_t errlen);

#endif
