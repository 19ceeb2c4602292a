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

#define SUPPORT_MAX_MUST_CHANGE 64

typedef struct support_plugin {
    dtr_plugin *self;
    const dtr_host_api *api;
    char (*etags)[20]; /* one per support_assets[] row: "\"<16 hex>\"" */
    /* people logged in with a one-time password they have not changed yet */
    char *must_change[SUPPORT_MAX_MUST_CHANGE];
    size_t n_must_change;
    bool stopped;
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

/* Frees what the session routes keep. */
void support_session_free(support_plugin *sp);

/* The logged-in person of req: DTR_OK with *info filled; otherwise, when
 * answer is true, answers 401 (no or an ended session), 403 (a write
 * without the CSRF token) or 503, and returns DTR_DECLINED. */
#if DTR_ABI_MAJOR >= 2
dtr_status support_person(support_plugin *sp, dtr_request *req, dtr_identity_info *info,
                          bool answer);
#endif

/* Registers GET /support/api/konsistens and GET /support/api/spor/{nummer}
 * (report.c). During init. */
dtr_status support_report_routes(support_plugin *sp, char *err, size_t errlen);

#endif /* SUPPORT_H */
