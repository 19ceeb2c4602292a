/*
 * support.h -- what the support plugin's files share: the instance, the
 * embedded files and the answers every page gets.
 */
#ifndef SUPPORT_H
#define SUPPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "assets.h"
#include "dtr/plugin.h"

typedef struct support_plugin {
    dtr_plugin *self;
    const dtr_host_api *api;
    char (*etags)[20]; /* one per support_assets[] row: "\"<16 hex>\"" */
} support_plugin;

/* The embedded file called name ("app.css"), its row in *index; NULL when
 * there is none. */
const support_asset *support_asset_find(const char *name, size_t *index);

/* Adds the headers every answer of the UI carries (CSP, nosniff, no
 * framing, referrer policy). */
void support_security_headers(support_plugin *sp, dtr_request *req);

/* Answers the embedded file name (200, or 304 for its ETag; 404 when there
 * is no such file). Ends the request. */
void support_send_asset(support_plugin *sp, dtr_request *req, const char *name);

/* Registers the workplace's routes (session.c): /support/ and the login,
 * logout and session routes under /support/api/. During init. */
dtr_status support_session_routes(support_plugin *sp, char *err, size_t errlen);

#endif /* SUPPORT_H */
