/*
 * PLACEHOLDER: replaced by the lead's libpq driver at merge.
 */
#include <stdio.h>

#include "store/sql_driver.h"

static sql_conn *pg_open(const sql_target *t, bool readonly, int busy_timeout_ms, char *err,
                         size_t errlen)
{
    (void)t;
    (void)readonly;
    (void)busy_timeout_ms;
    snprintf(err, errlen, "the postgresql driver is not in this build");
    return NULL;
}

const sql_driver sql_pg_driver = {.name = "postgresql", .open = pg_open};
