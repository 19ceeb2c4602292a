/*
 * dtr/plugin.h -- the plugin ABI of the Dagtilbudsregister gateway.
 *
 * This header is the only one a plugin includes (with <jansson.h>, whose json_t
 * is part of the ABI). It is the authoritative documentation of the ABI: every
 * type, field and function says what it does, who owns what and on which
 * thread it is called.
 *
 * Versioning (as Varnish's vrt.h and SQLite's sqlite3ext.h):
 *   - DTR_ABI_MAJOR changes when anything already here changes meaning, order
 *     or signature. The host refuses a plugin built for another major.
 *   - DTR_ABI_MINOR grows when something is appended: a function at the end
 *     of dtr_host_api, a field at the end of dtr_plugin_descriptor. The host
 *     refuses a plugin built for a newer minor than its own (the plugin might
 *     call functions the host does not have); an older minor runs as it is.
 *   - Both tables carry their own size (struct_size), so each side knows how
 *     much of the other's table exists.
 *
 * Threads: the host runs one libuv loop thread. Every plugin callback
 * (init, start, stop, free, route handlers, timers, work "done" callbacks,
 * command callbacks, consumer deliveries) is called on that loop thread,
 * except the "work" callback of dtr_host_api.work_submit, which runs on a
 * pool thread. Every host function states its thread rule once, as the last
 * words of its comment:
 *   [loop]    only on the loop thread;
 *   [any]     on any thread;
 *   [reader]  on any thread, but one thread at a time per dtr_reader.
 *
 * Status: every host function and callback that can fail returns a
 * dtr_status (below); what failed is said in an err buffer where one is
 * given. HTTP statuses appear only where a plugin answers HTTP itself
 * (respond, stream_begin) and as the http_status a refusal maps to
 * (dtr_status_http, dtr_command_result.http_status).
 *
 * Lifetimes a plugin cannot get wrong by accident:
 *   - A dtr_request is a handle, not a pointer: used after its answer ended
 *     (or after its abort callback ran) it is caught by a generation check;
 *     the host logs the misuse and the call has no effect. It never reaches
 *     another client's request.
 *   - Commands in flight count as the instance's work: stop and free wait
 *     for their callbacks, and a callback is never called on a freed
 *     instance, not across a reload (SIGHUP) either.
 *   - Identities (who a command is for) are made by the host only: a plugin
 *     gets one from req_authenticate, identity_configured or session
 *     cookies, and keeps one past its request with identity_retain.
 *
 * Changelog
 *   1.0  first version: routes, asynchronous and streamed answers, work
 *        queue, timers, the loop, logger, code lists; format plugins'
 *        import_read / export_write / generate.
 *   1.1  the register: clients (req_authenticate, public_read), commands
 *        (command_submit), reads (reader, read_*, snapshots).
 *   1.2  consumers (descriptor.consume, consume_done, feed_start_at) and
 *        signing with the server's Ed25519 key (sign, signing_public_key).
 *   1.3  req_query_name: the names of a request's query parameters, so a
 *        protocol plugin can refuse the ones it does not know.
 *   1.4  openapi_describe, openapi_paths: a plugin describes the routes it
 *        registered (OpenAPI 3.1), and the plugin that serves the OpenAPI
 *        document collects every description.
 *   2.0  (a new major: 1.x plugins are refused, with a message that says so)
 *        - Only the host makes identities: dtr_client, a struct the plugin
 *          could fill itself and so act as any client, is gone. Commands
 *          are submitted for an opaque dtr_identity the host issued
 *          (req_authenticate, identity_configured, a session); anything else
 *          is refused. identity_retain/release keep one past its request.
 *        - Transactions and dry runs: command_submit takes a dtr_submission
 *          of one or more commands that commit all or nothing, optionally
 *          as a dry run (DTR_SUBMIT_DRY_RUN: every check, the same answer,
 *          nothing written, no number burnt). DTR_OP_REOPEN (genåbn).
 *        - One status convention: reads return dtr_status (DTR_NOT_FOUND,
 *          DTR_GONE, DTR_INVALID are new) instead of HTTP integers;
 *          stream_write returns DTR_OK or DTR_RETRY instead of 1/0; command
 *          results carry a dtr_status and the http_status separately.
 *        - A context on every call: req_authenticate and code_text take the
 *          calling instance (the host had to keep a global to serve them).
 *        - One thread rule per function ([loop], [any], [reader]); reads on
 *          a reader of one's own are [reader], as the portal plugin always
 *          used them.
 *        - Lifetimes: request handles carry a generation; commands in flight
 *          are the instance's work (see Lifetimes above).
 *        - People: session_login, session_logout, session_password,
 *          session_csrf for the web UI; req_authenticate accepts the
 *          session cookie (with X-CSRF-Token on writes).
 *   2.1  respond_owned: answers with a malloc'd body the host takes over and
 *        sends without copying it (a large answer built on the pool costs
 *        the loop thread nothing but the write); reader_open_for: a reader
 *        whose snapshots count against a request's client address
 *        (limits.max_snapshots_per_client). 2.0 plugins run as they are.
 */
#ifndef DTR_PLUGIN_H
#define DTR_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DTR_ABI_MAJOR 2
#define DTR_ABI_MINOR 1

/* The name of the one symbol a plugin exports: a const dtr_plugin_descriptor.
 * A plugin defines it as
 *
 *     DTR_PLUGIN_EXPORT const dtr_plugin_descriptor dtr_plugin_entry = { ... };
 *
 * (plugins are built with hidden visibility; DTR_PLUGIN_EXPORT makes this one
 * symbol visible to the host's dlsym). */
#define DTR_PLUGIN_SYMBOL "dtr_plugin_entry"
#define DTR_PLUGIN_EXPORT __attribute__((visibility("default")))

/* The flags to dump JSON for the wire with (json_dumps): compact, and
 * doubles with 15 significant digits, so that a coordinate given as 55.6
 * is written back as 55.6 (jansson's default, 17 digits, writes
 * 55.600000000000001). Every double the register holds has at most 15. */
#define DTR_JSON_WIRE (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* One status convention for every callback and host function that can fail.
 * A function returning DTR_ERROR or DTR_DECLINED fills the caller's error
 * text when it is given one. */
typedef enum dtr_status {
    DTR_OK = 0,        /* done */
    DTR_DECLINED = 1,  /* refused on purpose: bad config, wrong credentials, a command the
                          register refuses */
    DTR_RETRY = 2,     /* temporarily unable: try again later (consumers: back off; streams:
                          wait for on_drain; logins: throttled) */
    DTR_NOT_FOUND = 3, /* no such record (HTTP 404) */
    DTR_GONE = 4,      /* the record was deleted; its number stays burnt (HTTP 410) */
    DTR_INVALID = 5,   /* a bad argument: a query the store cannot answer (HTTP 400), a
                          missing CSRF token (HTTP 403) */
    DTR_ERROR = -1     /* failed; the error text says why (HTTP 503 for the store) */
} dtr_status;

/* The HTTP status a read's dtr_status maps to (200 for DTR_OK). */
static inline int dtr_status_http(dtr_status st)
{
    switch (st) {
    case DTR_OK:
        return 200;
    case DTR_NOT_FOUND:
        return 404;
    case DTR_GONE:
        return 410;
    case DTR_INVALID:
        return 400;
    case DTR_DECLINED:
        return 403;
    case DTR_RETRY:
        return 429;
    case DTR_ERROR:
        break;
    }
    return 503;
}

/* Kinds, a bitmask: one plugin may be several. */
enum {
    DTR_KIND_PROTOCOL = 1u << 0, /* registers routes, turns a wire format into commands */
    DTR_KIND_CONSUMER = 1u << 1, /* receives hændelser in order with a durable cursor */
    DTR_KIND_FORMAT = 1u << 2    /* reads and writes bulk files (import/export) */
};

/* Log levels for dtr_host_api.log. */
typedef enum dtr_log_level {
    DTR_LOG_DEBUG = 0,
    DTR_LOG_INFO,
    DTR_LOG_WARN,
    DTR_LOG_ERROR
} dtr_log_level;

/* Opaque handles; the host owns all of them.
 *   dtr_plugin   one loaded plugin instance: the host's handle for "who is
 *                calling". Valid from init until free returns.
 *   dtr_request  one HTTP request and its answer. Valid from the moment the
 *                handler is called until the plugin ends the answer
 *                (respond/stream_end) or the abort callback has run,
 *                whichever comes first. A handle, never dereferenced by the
 *                plugin: one used later is caught (logged, no effect).
 *   dtr_timer    a timer started with timer_start; valid until timer_stop.
 *   dtr_identity who a command is for: a client or a logged-in person, as
 *                the host authenticated it. Valid while the request it came
 *                from is, or until identity_release for one retained or
 *                configured. A plugin cannot make one.
 */
typedef struct dtr_plugin dtr_plugin;
typedef struct dtr_request dtr_request;
typedef struct dtr_timer dtr_timer;
typedef struct dtr_identity dtr_identity;

/* A route handler. Called on the loop thread once the whole request (headers
 * and body, within the limits) has arrived. The handler answers now or later:
 * it must eventually call respond(), or stream_begin() ... stream_end(), on
 * req exactly once, unless the request is aborted first (see on_abort).
 * Returning DTR_ERROR without having answered makes the host answer 500. */
typedef dtr_status (*dtr_route_fn)(dtr_request *req, void *udata);

/* Called when the client went away (or the send timeout fired) before the
 * plugin ended its answer. After it returns, req is gone: the plugin must not
 * touch it again (cancel the work that would have answered it). */
typedef void (*dtr_abort_fn)(dtr_request *req, void *udata);

/* Called when a streamed answer's unsent bytes fell below the low-water
 * mark: the plugin may write more. */
typedef void (*dtr_drain_fn)(dtr_request *req, void *udata);

/* Work queue: work runs on a pool thread (it may call only the host
 * functions marked [any] or [reader]); done runs afterwards on the loop thread with status 0, or
 * with a negative value when the work was cancelled before it ran. */
typedef void (*dtr_work_fn)(void *udata);
typedef void (*dtr_work_done_fn)(void *udata, int status);

/* Timer callback, on the loop thread. */
typedef void (*dtr_timer_fn)(dtr_timer *timer, void *udata);

/* --- the register (1.1) ---------------------------------------------------- */

/* The three levels of the register. */
typedef enum dtr_level {
    DTR_LEVEL_DAGINSTITUTION = 0,
    DTR_LEVEL_ANVISNINGSENHED = 1,
    DTR_LEVEL_ALTERNATIV_ADRESSE = 2
} dtr_level;

/* What a command does (DOMAIN.md, Operations). */
typedef enum dtr_op {
    DTR_OP_CREATE = 0, /* body: the record; a daginstitution may nest "anvisningsenheder" */
    DTR_OP_UPDATE = 1, /* body: an RFC 7396 merge patch */
    DTR_OP_CLOSE = 2,  /* body: {"virkningTil": "YYYY-MM-DD"} */
    DTR_OP_DELETE = 3, /* body: NULL */
    DTR_OP_MOVE = 4,   /* body: {"daginstitutionsNummer"} or {"anvisningsenhedsNummer"} */
    DTR_OP_REOPEN = 5  /* genåbn, support only (DOMAIN.md); body: NULL or {} */
} dtr_op;

/* What an identity is, for the plugin's own decisions (what to show, which
 * scope to check before asking the register). Filled by identity_info; the
 * strings and the array belong to the identity. */
typedef struct dtr_identity_info {
    const char *id;      /* the client id, or "bruger:<name>" for a person */
    const char *name;    /* the client's or the person's name */
    const char *role;    /* "kommune", "support", "laeser" or "admin" */
    const int *kommuner; /* the kommune role's scope */
    size_t n_kommuner;
    int person; /* 1: a person logged in through a session (the web UI) */
} dtr_identity_info;

/* One command for the register: one step of a submission. Everything is
 * borrowed for the duration of command_submit, which copies what it keeps. */
typedef struct dtr_command {
    dtr_op op;
    dtr_level level;
    const char *nummer; /* the target; NULL on create. In a transaction "$k" names the number
                           step k (1-based, an earlier step) created or targeted */
    const json_t *body; /* see dtr_op; in a transaction the parent-number fields
                           "daginstitutionsNummer" and "anvisningsenhedsNummer" may be "$k" */
    int64_t if_match;   /* the version If-Match names; -1 when absent */
} dtr_command;

/* command_submit's flags. */
enum {
    /* Every check (fields, codes, authorization, cross-validation, If-Match,
     * the 409 rules) and the same answer as a real submission, but nothing is
     * written, no number is burnt and no hændelse is made. A create's answer
     * shows the numbers it would have been given (the next real create may get
     * them). */
    DTR_SUBMIT_DRY_RUN = 1u << 0
};

/* The largest transaction command_submit takes (n_commands). */
#define DTR_MAX_TRANSACTION 100

/* What to submit: one command, or a transaction of several that commit all
 * or nothing, in order (one hændelse per changed record; one audit entry
 * naming every step). Borrowed for the duration of command_submit. */
typedef struct dtr_submission {
    const dtr_command *commands;
    size_t n_commands;      /* 1..DTR_MAX_TRANSACTION */
    uint32_t flags;         /* DTR_SUBMIT_* */
    const char *request_id; /* for the audit log; may be NULL */
    /* Idempotency (API.md Idempotency-Key): per identity, shared by every
     * plugin. The first answer is kept 24 hours; the same key with the same
     * commands and body bytes answers it again (result.replayed), also while
     * the first is in flight; with other commands or bytes 422
     * IDEMPOTENS_KONFLIKT. NULL: none. Ignored for a dry run. */
    const char *idempotency_key;
    const void *body_bytes; /* the request body's bytes */
    size_t body_len;
} dtr_submission;

/* One step's outcome. Owned by the host, valid during the callback only. */
typedef struct dtr_step_result {
    int http_status;      /* what the REST equivalent answers: 201 created, 200 changed,
                             204 deleted; 0 for a step not reached or rolled back */
    const char *nummer;   /* the step's target or created record ("" when none) */
    dtr_level level;      /* nummer's level */
    const json_t *record; /* the record after the step as read_get shows it (nested for a
                             daginstitution); NULL on delete and refusal */
    int64_t version;      /* the record's version after (its ETag) */
} dtr_step_result;

/* The answer to a submission. Owned by the host, valid during the callback
 * only: json_incref what you keep. */
typedef struct dtr_command_result {
    dtr_status status;  /* DTR_OK: accepted and on disk (dry run: would be accepted);
                           DTR_DECLINED: refused by the register; DTR_ERROR: failed (503) */
    int http_status;    /* 0 when accepted; else the refusal's HTTP status (400, 403, 404,
                           409, 410, 412, 422) or 503 */
    const json_t *fejl; /* on refusal: [{"kode", "felt", "tekst"}, ...]; else NULL */
    long failed_step;   /* the 0-based index of the refusing step; -1 when none */
    size_t n_steps;
    const dtr_step_result *steps; /* one per command, in order */
    /* the last step's (a single command's) outcome, as in steps[n_steps - 1] */
    const char *nummer;
    dtr_level level;
    const json_t *record;
    int64_t version;
    int64_t seq_first; /* the sekvensnumre of the submission's hændelser; 0 when none */
    int64_t seq_last;
    int replayed; /* 1: the stored answer of an earlier submission with the same key */
    int dry_run;  /* 1: nothing was written */
} dtr_command_result;

/* Called on the loop thread when the submission committed, was refused or
 * failed; never on an instance that has been freed. */
typedef void (*dtr_command_fn)(const dtr_command_result *res, void *udata);

/* A read-only view of the register: its own database connection. The host
 * lends each plugin one for the loop thread (reader()); long reads open
 * their own (reader_open) and use it on a pool thread. One thread at a
 * time per reader. */
typedef struct dtr_reader dtr_reader;

/* A list query (API.md's list routes). Zero/NULL fields do not filter. */
typedef struct dtr_query {
    dtr_level level;
    const char *virkningsdato; /* NULL: now; "YYYY-MM-DD": as in effect on that day */
    const char *status;        /* "kommende", "aktiv", "nedlagt" for the day */
    int adm_kommune;           /* daginstitution: admKommuneKode */
    int kommune;               /* adresse.kommuneKode */
    int inst_type3;
    const char *parent; /* daginstitutionsNummer / anvisningsenhedsNummer */
    const char *p_nummer;
    const char *cvr_nummer;
    const char *navn;  /* case-insensitive substring, Danish letters included */
    const char *after; /* the page starts after this number */
    size_t limit;      /* 1..1000; 0: 100 */
    int nested;        /* 1: nest children as the GET of one does */
} dtr_query;

/* What session_login says beyond its status. */
typedef struct dtr_login_result {
    int must_change_password; /* 1: the one-time password of `dtr user add|reset` */
    int retry_after_s;        /* DTR_RETRY: seconds until the next try is taken */
} dtr_login_result;

/* The outcome of session_login or session_password, on the loop thread:
 * the request (still to be answered), the status, the result (login:
 * must_change_password, retry_after_s) and a Danish text for the person
 * (owned by the host, valid during the call). */
typedef void (*dtr_session_fn)(dtr_request *req, dtr_status status, const dtr_login_result *res,
                               const char *tekst, void *udata);

/* The host API table, handed to init. Append-only: new functions go at the
 * end, with a minor version bump; a plugin checks struct_size (DTR_HOST_HAS, below)
 * before it calls a function newer than the minor it was built for. The
 * table is const and lives as long as the process. */
typedef struct dtr_host_api {
    uint32_t abi_major;   /* the host's DTR_ABI_MAJOR */
    uint32_t abi_minor;   /* the host's DTR_ABI_MINOR */
    uint32_t struct_size; /* sizeof(dtr_host_api) in the host */

    /* --- logging ----------------------------------------------------------- */

    /* Writes one log line, tagged with the plugin's name, through the host's
     * buffered logger (never blocks). printf-style. [any] */
    void (*log)(dtr_plugin *self, dtr_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /* --- routes ------------------------------------------------------------ */

    /* Registers a route: method ("GET", "POST", "PATCH", "DELETE", "PUT") and
     * a path pattern of literal segments and {param} segments, e.g.
     * "/v1/daginstitutioner/{nummer}/nedlaeg". A GET route answers HEAD too.
     * max_body_bytes bounds the request body (0: the config's
     * limits.max_body_bytes). Only during init or start (DTR_ERROR
     * otherwise). The host refuses (DTR_DECLINED) a route that duplicates or
     * is ambiguous with one already registered and names both plugins in
     * err; the start then stops. [loop] */
    dtr_status (*route_add)(dtr_plugin *self, const char *method, const char *pattern,
                            size_t max_body_bytes, dtr_route_fn fn, void *udata, char *err,
                            size_t errlen);

    /* --- reading a request ---------------------------------------------------
     * Every string returned is owned by the request: valid until the answer
     * ends or the request is aborted. On a handle whose answer ended they
     * return NULL (or "" where a comment says never NULL). All [loop]. */

    /* The method, upper case ("GET"; HEAD requests report "HEAD"). Never NULL. [loop] */
    const char *(*req_method)(dtr_request *req);
    /* The path without the query string, percent-decoded. Never NULL. [loop] */
    const char *(*req_path)(dtr_request *req);
    /* The value of the {name} segment of the matched pattern, percent-decoded;
     * NULL when the pattern has no such segment. [loop] */
    const char *(*req_param)(dtr_request *req, const char *name);
    /* The first value of the query parameter name, percent-decoded ('+' is a
     * space); NULL when absent. [loop] */
    const char *(*req_query)(dtr_request *req, const char *name);
    /* The percent-decoded name of the index-th query parameter (0-based, in
     * the order sent; a name sent twice counts twice), or NULL past the last,
     * so a protocol plugin can refuse the ones it does not know. [loop] */
    const char *(*req_query_name)(dtr_request *req, size_t index);
    /* The value of a request header (name case-insensitive); NULL when absent.
     * A header sent several times is joined with ", ". [loop] */
    const char *(*req_header)(dtr_request *req, const char *name);
    /* The request body (not NUL-terminated; *len set), NULL with *len 0 when
     * there is none. [loop] */
    const unsigned char *(*req_body)(dtr_request *req, size_t *len);
    /* The request id: the client's X-Request-Id, or one the host made. It is
     * also sent back in the answer. Never NULL. [loop] */
    const char *(*req_id)(dtr_request *req);

    /* --- answering ------------------------------------------------------------ */

    /* Adds a header to the answer; before respond/stream_begin only. The host
     * copies name and value. Content-Length, Date, Connection and
     * X-Request-Id are the host's own. [loop] */
    void (*resp_header)(dtr_request *req, const char *name, const char *value);
    /* Answers in one piece: status, Content-Type (NULL: none) and body
     * (copied; NULL with len 0 for none). For HEAD the host sends the headers
     * only. Ends the request: the handle is spent after the call. [loop] */
    void (*respond)(dtr_request *req, int status, const char *content_type, const void *body,
                    size_t len);
    /* Answers with a problem+json body (RFC 9457): status, one fejl entry
     * {kode, felt (may be NULL), tekst} and detail = tekst. Ends the request. [loop] */
    void (*respond_problem)(dtr_request *req, int status, const char *kode, const char *felt,
                            const char *tekst);
    /* Answers with a JSON body: the host dumps json (compact, UTF-8) and takes
     * the reference (steals it, also when the handle is spent). content_type
     * NULL means application/json. Ends the request. [loop] */
    void (*respond_json)(dtr_request *req, int status, const char *content_type, json_t *json);

    /* Streams an answer of unknown length (chunked transfer encoding). [loop] */
    void (*stream_begin)(dtr_request *req, int status, const char *content_type);
    /* Queues bytes (copied). DTR_OK while the unsent bytes are below the
     * high-water mark; DTR_RETRY when the plugin should wait for on_drain
     * before writing more (writing more is allowed but grows memory);
     * DTR_ERROR on a spent handle. [loop] */
    dtr_status (*stream_write)(dtr_request *req, const void *data, size_t len);
    /* Ends a streamed answer. The handle is spent after the call. [loop] */
    void (*stream_end)(dtr_request *req);

    /* Sets the callback run when the client goes away before the answer
     * ended. NULL clears it. [loop] */
    void (*req_on_abort)(dtr_request *req, dtr_abort_fn fn, void *udata);
    /* Sets the callback run when a streamed answer can take more bytes. [loop] */
    void (*req_on_drain)(dtr_request *req, dtr_drain_fn fn, void *udata);

    /* --- work queue, timers, the loop ----------------------------------------- */

    /* Runs work on the thread pool, then done on the loop. Counted as the
     * instance's work (free waits for it). DTR_OK or DTR_ERROR. [loop] */
    dtr_status (*work_submit)(dtr_plugin *self, dtr_work_fn work, dtr_work_done_fn done,
                              void *udata);
    /* Starts a timer: fn after timeout_ms, then every repeat_ms (0: once).
     * Returns NULL on failure. A one-shot timer stays allocated until
     * timer_stop; timer_stop from inside its own callback is allowed. Timers
     * left running are stopped when the instance is freed. [loop] */
    dtr_timer *(*timer_start)(dtr_plugin *self, uint64_t timeout_ms, uint64_t repeat_ms,
                              dtr_timer_fn fn, void *udata);
    /* Stops and frees a timer. [loop] */
    void (*timer_stop)(dtr_timer *timer);
    /* The host's uv_loop_t (as void * so that plugins that do not use libuv
     * need not include uv.h), for libraries that integrate with libuv such as
     * libcurl's multi-socket interface. Handles a plugin opens on it must be
     * closed in its stop callback. [loop] */
    void *(*loop)(dtr_plugin *self);
    /* The data directory of this server (absolute path; never NULL). [any] */
    const char *(*data_dir)(dtr_plugin *self);

    /* --- code lists -------------------------------------------------------------- */

    /* The text of a code in one of the register's code lists: list is
     * "kommune", "ejerform", "lovgrundlag" or "institutionstype". Returns a
     * static string (the exact texts of the register's export), or NULL for
     * an unknown list or code. [any] */
    const char *(*code_text)(dtr_plugin *self, const char *list, int kode);

    /* --- identities ----------------------------------------------------------------
     * Only the host makes identities; command_submit refuses any pointer it
     * did not issue. */

    /* Authenticates the request: HTTP Basic credentials (clientId:secret)
     * against the register's clients as they are now (a client added,
     * revoked or rotated by `dtr client` counts from the next request), or
     * the web UI's session cookie. DTR_OK with *who set (NULL when the
     * request carries no credentials); DTR_DECLINED when credentials were
     * given and are wrong, or the session expired (answer 401, with
     * WWW-Authenticate: Basic realm="dtr" for Basic); DTR_INVALID for a
     * session cookie on a method other than GET and HEAD without the
     * session's token in X-CSRF-Token (answer 403); DTR_ERROR when the
     * clients cannot be read (503). Also names the identity in the access
     * log. *who is valid while the request is. [loop] */
    dtr_status (*req_authenticate)(dtr_plugin *self, dtr_request *req, const dtr_identity **who);
    /* The identity of the client that the plugin's entry in dtr.json names
     * ("client": "<clientId>"), for work that is nobody's request (a consumer,
     * a timer); NULL when the entry names none or that client is unknown or
     * revoked (logged). The instance holds it until it is freed. [loop] */
    const dtr_identity *(*identity_configured)(dtr_plugin *self);
    /* Keeps who valid past its request (a multi-step operation that finishes
     * after its caller went away), until identity_release. DTR_DECLINED for a
     * pointer the host did not issue. [loop] */
    dtr_status (*identity_retain)(dtr_plugin *self, const dtr_identity *who);
    void (*identity_release)(dtr_plugin *self, const dtr_identity *who);
    /* What who is (strings owned by the identity). DTR_DECLINED for a pointer
     * the host did not issue. [loop] */
    dtr_status (*identity_info)(dtr_plugin *self, const dtr_identity *who, dtr_identity_info *out);
    /* The config's public_read: whether GETs under /v1 are open to all. [any] */
    int (*public_read)(dtr_plugin *self);

    /* --- commands ------------------------------------------------------------------ */

    /* Queues a submission (one command or a transaction) for the register's
     * writer on behalf of who. done runs later on the loop thread, never
     * inside this call, once the change is on disk, refused, or failed; the
     * instance is not freed before it ran. Returns DTR_OK; DTR_DECLINED (err
     * filled, done not called) when who is NULL or not an identity the host
     * issued (logged: a plugin trying to act as someone else), or the
     * submission is malformed (no commands, more than DTR_MAX_TRANSACTION, an
     * unknown op or level, a "$k" that names no earlier step); DTR_ERROR
     * when the store is closing. [loop] */
    dtr_status (*command_submit)(dtr_plugin *self, const dtr_identity *who,
                                 const dtr_submission *sub, dtr_command_fn done, void *udata,
                                 char *err, size_t errlen);

    /* --- reads -------------------------------------------------------------------------
     * Return DTR_OK when found, DTR_NOT_FOUND unknown, DTR_GONE deleted
     * (read_get), DTR_INVALID a bad query, DTR_ERROR the store could not be
     * read. json_t results are new references the caller releases. */

    /* The plugin's reader for short reads on the loop thread. [loop] */
    dtr_reader *(*reader)(dtr_plugin *self);
    /* A reader of its own for long reads, e.g. on a pool thread; NULL on
     * failure (logged). [any] */
    dtr_reader *(*reader_open)(dtr_plugin *self);
    /* Closes a reader from reader_open (ending its snapshot). [reader] */
    void (*reader_close)(dtr_reader *r);
    /* One record by number at any level as GET shows it; nested: children
     * too. virkningsdato NULL: now. [reader] */
    dtr_status (*read_get)(dtr_reader *r, const char *nummer, const char *virkningsdato, int nested,
                           dtr_level *level, json_t **out);
    /* One page of a list ordered by nummer; next gets the number the next
     * page starts after, or "" on the last page. [reader] */
    dtr_status (*read_list)(dtr_reader *r, const dtr_query *q, json_t **items, char next[7]);
    /* Every version of one record: [{"version", "registreringFra", ...}]. [reader] */
    dtr_status (*read_history)(dtr_reader *r, const char *nummer, json_t **out);
    /* Hændelser from sekvensnummer fra, at most max (1..10000). [reader] */
    dtr_status (*read_haendelser)(dtr_reader *r, int64_t fra, size_t max, json_t **out);
    /* The newest sekvensnummer and its time (0 and "" before the first). [reader] */
    dtr_status (*read_latest)(dtr_reader *r, int64_t *sekvensnummer, char tidspunkt[40]);
    /* Starts a read transaction on r consistent with *sekvensnummer; every
     * read on r sees exactly that state until snapshot_end. [reader] */
    dtr_status (*snapshot_begin)(dtr_reader *r, int64_t *sekvensnummer);
    void (*snapshot_end)(dtr_reader *r);

    /* --- consumers ----------------------------------------------------------------------
     * The feed hands a consumer plugin (DTR_KIND_CONSUMER) the hændelser in
     * order through descriptor.consume, one batch at a time, and keeps its
     * durable cursor in the store: the last sekvensnummer the plugin said it
     * has durably handled. After a crash or restart delivery resumes after
     * the cursor (at-least-once: handling must be idempotent). */

    /* Ends the batch consume was given: status DTR_OK means every event up
     * to and including handled_up_to is durably handled (the cursor moves
     * there, and the next batch follows). handled_up_to may lie past the
     * batch when the plugin read further itself (clamped to the newest
     * committed sekvensnummer); before the batch's first it counts as a
     * retry; DTR_RETRY or DTR_ERROR means "not now": the events after the
     * cursor come again after a backoff (growing from 1 s to 60 s). A
     * consumer may call it from consume itself or later (after work on the
     * pool). [loop] */
    void (*consume_done)(dtr_plugin *self, int64_t handled_up_to, dtr_status status);
    /* During init: where a consumer without a cursor starts (its config's
     * "fra": the first sekvensnummer to deliver). Without it a new consumer
     * starts after the newest sekvensnummer. [loop] */
    void (*feed_start_at)(dtr_plugin *self, int64_t fra);

    /* --- signing ----------------------------------------------------------------------- */

    /* Signs msg with the server's Ed25519 key (created on first start in the
     * data directory, mode 0600; `dtr version --keys` prints its public key):
     * a detached 64-byte signature into sig. [any] */
    dtr_status (*sign)(dtr_plugin *self, const void *msg, size_t len, unsigned char sig[64]);
    /* The 32-byte public key. [any] */
    void (*signing_public_key)(dtr_plugin *self, unsigned char pk[32]);

    /* --- describing routes ---------------------------------------------------------------
     * GET /v1/openapi.json describes everything the server serves. The plugin
     * that serves it (rest) writes its own routes itself; every other plugin
     * describes the routes it registered with openapi_describe, and the
     * document's plugin collects them all with openapi_paths. The host
     * describes its own routes (/healthz, /readyz, /metrics) the same way.
     *
     * A description is an OpenAPI 3.1 "paths" object: {"<pattern>": {"<method>":
     * {operation}}}, the pattern exactly as given to route_add and the method
     * in lower case ("get" for a route added as "GET"). Only operations are
     * taken: put path parameters into each operation's "parameters". An
     * operation may $ref the shared components of the document the rest
     * plugin serves: "#/components/responses/E400" ... "E503" (one per error
     * status: 400, 401, 403, 404, 405, 408, 409, 410, 412, 413, 415, 422,
     * 429, 431, 503; each a problem+json answer), the schemas
     * "#/components/schemas/Problem", "Fejl", "Nummer", "Dato", "Adresse",
     * "Daginstitution", "Anvisningsenhed", "AlternativAdresse", "Haendelse",
     * and the security scheme "basicAuth". Anything else it needs it writes
     * inline. */

    /* Describes routes of the calling instance: paths (borrowed; the host
     * keeps a deep copy) as above. Every path and method in it must be a
     * route this same instance registered with route_add; otherwise the
     * whole description is refused with DTR_DECLINED, err naming the path and
     * method, and nothing of it is kept (so is a paths that is not an object,
     * a path item that is not an object, a key that is not a method, an
     * operation that is not an object). Calling it again adds operations and
     * replaces the ones described before for the same path and method. Only
     * during init or start (DTR_ERROR otherwise, like route_add). A refusal
     * does not stop the start: the route is then missing from the document
     * (the host logs a warning). The description lives as long as the
     * instance. [loop] */
    dtr_status (*openapi_describe)(dtr_plugin *self, const json_t *paths, char *err, size_t errlen);
    /* The union of what the host and every instance of the caller's set of
     * plugins (the ones started together with it; a reload makes a new set)
     * described: a new "paths" object the caller owns (json_decref). Complete
     * once the set started, i.e. from the first request on; the document's
     * plugin builds its document then, not in init. Never NULL but when out
     * of memory. [loop] */
    json_t *(*openapi_paths)(dtr_plugin *self);

    /* --- people: the web UI's sessions ---------------------------------------------------
     * People (not client systems) log in with a user name and password made
     * by `dtr user add`. The host owns users and sessions: the session is a
     * cookie the host sets and req_authenticate turns into an identity. */

    /* Checks user and password; on success makes a session and adds its
     * Set-Cookie to req's answer. The password is verified on the thread
     * pool (Argon2id takes a large fraction of a second), so the outcome
     * comes later, on the loop, through done (never inside this call):
     * DTR_OK (res->must_change_password set when the password is the
     * one-time one), DTR_DECLINED (wrong user or password, or a disabled
     * user), DTR_RETRY (throttled: too many failures for the user or the
     * address; res->retry_after_s), DTR_ERROR; tekst a Danish sentence for
     * the person. Every outcome is in the audit log. Returns DTR_OK, or
     * DTR_ERROR (done not called) while the server stops. [loop] */
    dtr_status (*session_login)(dtr_plugin *self, dtr_request *req, const char *user,
                                const char *password, dtr_session_fn done, void *udata);
    /* Ends the request's session (if any) and clears its cookie. [loop] */
    dtr_status (*session_logout)(dtr_plugin *self, dtr_request *req);
    /* The logged-in person of req changes their password (hashed on the
     * pool): done gets DTR_OK, DTR_DECLINED with tekst when old is wrong or
     * new is too weak (under 12 characters, or the old one), DTR_ERROR.
     * Returns DTR_DECLINED (done not called) when req has no live
     * session. [loop] */
    dtr_status (*session_password)(dtr_plugin *self, dtr_request *req, const char *old_password,
                                   const char *new_password, dtr_session_fn done, void *udata);
    /* The CSRF token of req's session, to send back in X-CSRF-Token on
     * writes; NULL without a session. Owned by the request. [loop] */
    const char *(*session_csrf)(dtr_plugin *self, dtr_request *req);

    /* --- since 2.1 (check with DTR_HOST_HAS) ------------------------------------ */

    /* Answers in one piece like respond, but takes body instead of copying
     * it: body is a buffer from malloc (or NULL with len 0), and the host
     * frees it with free() once written, or at once when it is not sent (a
     * HEAD request, a 204/304, a spent handle, a client gone). The plugin
     * must not touch body after the call. Build a large answer on the pool
     * (work_submit), hand it over here in done: the loop thread does not
     * copy it. Ends the request. [loop] */
    void (*respond_owned)(dtr_request *req, int status, const char *content_type, char *body,
                          size_t len);
    /* Like reader_open, for reads on behalf of req's client: snapshots on
     * this reader count against the client's address, and snapshot_begin
     * answers DTR_RETRY (HTTP 429) when it holds limits.max_snapshots_per_client
     * already (DTR_ERROR, 503, past max_snapshots in all). Call it while req
     * is live; the reader outlives it. [loop] */
    dtr_reader *(*reader_open_for)(dtr_plugin *self, dtr_request *req);
} dtr_host_api;

/* Whether the host's table reaches fn: a host built for an older minor
 * lacks what was appended after it, so a plugin that uses a newer function
 * asks first, e.g. `if (DTR_HOST_HAS(api, openapi_describe)) ...`. */
#define DTR_HOST_HAS(api, fn) ((api)->struct_size >= offsetof(dtr_host_api, fn) + sizeof((api)->fn))

/* --- format plugins (DTR_KIND_FORMAT) ---------------------------------------
 * A format plugin reads and writes the register's bulk files. The host drives
 * it from the command line (dtr import, dtr export, dtr generate) and from
 * its own routes; the plugin never touches the store directly. */

/* Where import_read delivers what it reads. The host owns it. */
typedef struct dtr_import_sink {
    void *ctx;
    /* One record read from a row, as a json_t with API.md's field names plus
     * "nummer" and the parent number (and "aktivitetsstatus" as read), level
     * 0 daginstitution, 1 anvisningsenhed, 2 alternativ adresse. Rows are
     * delivered file by file, parents' files first. record is borrowed.
     * Returns DTR_OK to go on, DTR_ERROR to stop reading. */
    dtr_status (*record)(void *ctx, int level, json_t *record, const char *file, uint64_t line);
    /* A row that could not be read into a record at all (broken quoting,
     * wrong number of columns, invalid UTF-8, a number or code column that is
     * not a number): file, line, the row's number when it could be read (else
     * NULL) and the reason. */
    void (*refuse)(void *ctx, const char *file, uint64_t line, const char *nummer,
                   const char *reason);
    /* Progress, may be NULL: bytes read so far and the total of all files. */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
} dtr_import_sink;

/* Where export_write takes its records from. */
typedef struct dtr_export_source {
    void *ctx;
    /* The next record of the level being written, in export order (by
     * daginstitutionsNummer, then the row's own number), as stored (API.md
     * field names, "status" included); NULL at the end. New reference: the
     * plugin releases it. */
    json_t *(*next)(void *ctx);
} dtr_export_source;

/* Where export_write and generate put bytes. */
typedef struct dtr_byte_sink {
    void *ctx;
    /* Writes len bytes; DTR_ERROR stops the writer. */
    dtr_status (*write)(void *ctx, const void *data, size_t len);
} dtr_byte_sink;

/* The descriptor a plugin exports as `dtr_plugin_entry` (DTR_PLUGIN_SYMBOL).
 * The first three fields never move. Append-only beyond them, like the host
 * table. */
typedef struct dtr_plugin_descriptor {
    uint32_t abi_major;   /* DTR_ABI_MAJOR the plugin was built with */
    uint32_t abi_minor;   /* DTR_ABI_MINOR the plugin was built with */
    uint32_t struct_size; /* sizeof(dtr_plugin_descriptor) in the plugin */
    const char *name;     /* the plugin's name, e.g. "rest" */
    const char *version;  /* the plugin's own version, e.g. "1.0.0" */
    uint32_t kinds;       /* DTR_KIND_* bits */

    /* Creates an instance with this plugin's config (its "config" subtree
     * of dtr.json; borrowed: json_incref what you keep; an empty object when
     * absent). Validates the config: on a bad key answers DTR_DECLINED with a
     * message naming the key in err. May register routes. Stores its state in
     * *state. On SIGHUP the host calls init again for a new instance with the
     * new config; the old instance is stopped and freed when the new ones
     * started. Required. */
    dtr_status (*init)(dtr_plugin *self, const dtr_host_api *api, const json_t *config,
                       void **state, char *err, size_t errlen);
    /* Starts the instance: timers, background work, outbound connections.
     * May be NULL. After every plugin started, the server accepts requests
     * and /readyz says ready. */
    dtr_status (*start)(void *state, char *err, size_t errlen);
    /* Stops the instance: no new work; close the handles opened on the loop.
     * Requests in flight may still be answered. May be NULL. */
    void (*stop)(void *state);
    /* Frees the instance. Called once no request of this instance is in
     * flight. May be NULL. */
    void (*free)(void *state);

    /* --- format plugins (DTR_KIND_FORMAT); NULL otherwise -------------------- */

    /* Reads the bulk files in dir (for the CSV layout: daginstitution.csv,
     * anvisningsenhed.csv, alternativadresse.csv) streaming, with bounded
     * memory, delivering every row to sink. DTR_ERROR (err filled) when a file
     * cannot be read at all (missing, wrong column set). Loop thread or the
     * CLI's main thread; blocking file I/O is allowed here. */
    dtr_status (*import_read)(void *state, const char *dir, const dtr_import_sink *sink, char *err,
                              size_t errlen);
    /* Writes one file of the export: level 0, 1 or 2 (the layout's file for
     * that level), records from src, bytes to out, with the layout's header. */
    dtr_status (*export_write)(void *state, int level, const dtr_export_source *src,
                               const dtr_byte_sink *out, char *err, size_t errlen);
    /* The file name of level's file in the layout ("daginstitution.csv"). */
    const char *(*export_file_name)(void *state, int level);
    /* Writes a realistic synthetic register of `units` anvisningsenheder into
     * outdir in the plugin's layout, deterministic for a seed. */
    dtr_status (*generate)(void *state, uint64_t units, uint64_t seed, const char *outdir,
                           char *err, size_t errlen);

    /* --- consumer plugins (DTR_KIND_CONSUMER); NULL otherwise (1.2) ----------- */

    /* A batch of hændelser after the consumer's cursor, in order: events is a
     * borrowed array of {"sekvensnummer", "tidspunkt", "operation", "entitet",
     * "nummer", "version", "data"} (API.md's /v1/haendelser shape). The
     * plugin answers with api->consume_done exactly once (now or later); no
     * other batch comes before it. Loop thread. */
    void (*consume)(void *state, const json_t *events);
} dtr_plugin_descriptor;

#ifdef __cplusplus
}
#endif

#endif /* DTR_PLUGIN_H */
