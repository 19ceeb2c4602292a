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
 * consumer deliveries) is called on that loop thread, except the "work"
 * callback of dtr_host_api.work_submit, which runs on a pool thread. Every
 * host function must be called on the loop thread unless its comment says
 * otherwise (only log() may be called from any thread).
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
 */
#ifndef DTR_PLUGIN_H
#define DTR_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DTR_ABI_MAJOR 1
#define DTR_ABI_MINOR 4

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
    DTR_OK = 0,       /* done */
    DTR_DECLINED = 1, /* not mine / refused on purpose (bad config, not this route) */
    DTR_RETRY = 2,    /* temporarily unable: try again later (consumers: back off) */
    DTR_ERROR = -1    /* failed; the error text says why */
} dtr_status;

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
 *                whichever comes first.
 *   dtr_timer    a timer started with timer_start; valid until timer_stop.
 */
typedef struct dtr_plugin dtr_plugin;
typedef struct dtr_request dtr_request;
typedef struct dtr_timer dtr_timer;

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

/* Work queue: work runs on a pool thread (it must not call host functions
 * other than log); done runs afterwards on the loop thread with status 0, or
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
    DTR_OP_MOVE = 4    /* body: {"daginstitutionsNummer"} or {"anvisningsenhedsNummer"} */
} dtr_op;

/* A client (tilslutning) the host authenticated. Owned by the host; valid
 * while the request it came from is. */
typedef struct dtr_client {
    const char *id;
    const char *name;
    const char *role;    /* "kommune", "support", "laeser" or "admin" */
    const int *kommuner; /* the kommune role's scope */
    size_t n_kommuner;
} dtr_client;

/* A command for the register. Everything is borrowed for the duration of
 * command_submit, which copies what it keeps. */
typedef struct dtr_command {
    dtr_op op;
    dtr_level level;
    const char *nummer;          /* the target; NULL on create */
    const json_t *body;          /* see dtr_op */
    int64_t if_match;            /* the version If-Match names; -1 when absent */
    const char *request_id;      /* for the audit log; may be NULL */
    const char *idempotency_key; /* create only; NULL when absent */
    const void *body_bytes;      /* the request body's bytes (for the idempotency key) */
    size_t body_len;
} dtr_command;

/* The answer to a command. Owned by the host, valid during the callback
 * only: json_incref what you keep. */
typedef struct dtr_command_result {
    int status;           /* 0: accepted and on disk; else the HTTP status of the refusal
                             (400, 403, 404, 409, 410, 412, 422) or of a failure (503) */
    const json_t *fejl;   /* on refusal: [{"kode", "felt", "tekst"}, ...]; else NULL */
    const char *nummer;   /* the target or the created top record ("" when none) */
    dtr_level level;      /* nummer's level */
    const json_t *record; /* the record after the change as read_get shows it (nested for a
                             daginstitution); NULL on refusal and delete */
    int64_t version;      /* the record's version after (its ETag) */
    int64_t seq_first;    /* the sekvensnumre of the command's hændelser; 0 when none */
    int64_t seq_last;
    int replayed; /* 1: the stored answer of an earlier request with the same
                     Idempotency-Key */
} dtr_command_result;

/* Called on the loop thread when the command committed or failed. */
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

/* The host API table, handed to init. Append-only: new functions go at the
 * end, with a minor version bump; a plugin checks struct_size (DTR_HOST_HAS, below)
 * before it calls a function newer than the minor it was built for. The
 * table is const and lives as long as the process. */
typedef struct dtr_host_api {
    uint32_t abi_major;   /* the host's DTR_ABI_MAJOR */
    uint32_t abi_minor;   /* the host's DTR_ABI_MINOR */
    uint32_t struct_size; /* sizeof(dtr_host_api) in the host */

    /* --- logging (1.0) --------------------------------------------------- */

    /* Writes one log line, tagged with the plugin's name, through the host's
     * buffered logger (never blocks). printf-style; any thread. */
    void (*log)(dtr_plugin *self, dtr_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /* --- routes (1.0) ---------------------------------------------------- */

    /* Registers a route: method ("GET", "POST", "PATCH", "DELETE", "PUT") and
     * a path pattern of literal segments and {param} segments, e.g.
     * "/v1/daginstitutioner/{nummer}/nedlaeg". A GET route answers HEAD too.
     * max_body_bytes bounds the request body (0: the config's
     * limits.max_body_bytes). Only during init or start. The host refuses a
     * route that duplicates or is ambiguous with one already registered and
     * names both plugins in err; the start then stops. */
    dtr_status (*route_add)(dtr_plugin *self, const char *method, const char *pattern,
                            size_t max_body_bytes, dtr_route_fn fn, void *udata, char *err,
                            size_t errlen);

    /* --- reading a request (1.0) ------------------------------------------
     * Every string returned is owned by the request: valid until the answer
     * ends or the request is aborted. Never NULL where a comment says so. */

    /* The method, upper case ("GET"; HEAD requests report "HEAD"). Never NULL. */
    const char *(*req_method)(dtr_request *req);
    /* The path without the query string, percent-decoded. Never NULL. */
    const char *(*req_path)(dtr_request *req);
    /* The value of the {name} segment of the matched pattern, percent-decoded;
     * NULL when the pattern has no such segment. */
    const char *(*req_param)(dtr_request *req, const char *name);
    /* The first value of the query parameter name, percent-decoded ('+' is a
     * space); NULL when absent. */
    const char *(*req_query)(dtr_request *req, const char *name);
    /* The value of a request header (name case-insensitive); NULL when absent.
     * A header sent several times is joined with ", ". */
    const char *(*req_header)(dtr_request *req, const char *name);
    /* The request body (not NUL-terminated; *len set), NULL with *len 0 when
     * there is none. */
    const unsigned char *(*req_body)(dtr_request *req, size_t *len);
    /* The request id: the client's X-Request-Id, or one the host made. It is
     * also sent back in the answer. Never NULL. */
    const char *(*req_id)(dtr_request *req);
    /* Marks who the request is from, for the access log ("clientId"). The host
     * copies id. */
    void (*req_set_client)(dtr_request *req, const char *id);

    /* --- answering (1.0) ------------------------------------------------- */

    /* Adds a header to the answer; before respond/stream_begin only. The host
     * copies name and value. Content-Length, Date, Connection and
     * X-Request-Id are the host's own. */
    void (*resp_header)(dtr_request *req, const char *name, const char *value);
    /* Answers in one piece: status, Content-Type (NULL: none) and body
     * (copied; NULL with len 0 for none). For HEAD the host sends the headers
     * only. Ends the request: req is gone after the call. */
    void (*respond)(dtr_request *req, int status, const char *content_type, const void *body,
                    size_t len);
    /* Answers with a problem+json body (RFC 9457): status, one fejl entry
     * {kode, felt (may be NULL), tekst} and detail = tekst. Ends the request. */
    void (*respond_problem)(dtr_request *req, int status, const char *kode, const char *felt,
                            const char *tekst);
    /* Answers with a JSON body: the host dumps json (compact, UTF-8) and takes
     * the reference (steals it). content_type NULL means application/json. Ends
     * the request. */
    void (*respond_json)(dtr_request *req, int status, const char *content_type, json_t *json);

    /* Streams an answer of unknown length (chunked transfer encoding). */
    void (*stream_begin)(dtr_request *req, int status, const char *content_type);
    /* Queues bytes (copied). Returns 1 while the unsent bytes are below the
     * high-water mark, 0 when the plugin should wait for on_drain before
     * writing more (writing more is allowed but grows memory). */
    int (*stream_write)(dtr_request *req, const void *data, size_t len);
    /* Ends a streamed answer. req is gone after the call. */
    void (*stream_end)(dtr_request *req);

    /* Sets the callback run when the client goes away before the answer
     * ended. NULL clears it. */
    void (*req_on_abort)(dtr_request *req, dtr_abort_fn fn, void *udata);
    /* Sets the callback run when a streamed answer can take more bytes. */
    void (*req_on_drain)(dtr_request *req, dtr_drain_fn fn, void *udata);

    /* --- work queue, timers, the loop (1.0) -------------------------------- */

    /* Runs work on the thread pool, then done on the loop. Returns DTR_OK or
     * DTR_ERROR. udata is the caller's. */
    dtr_status (*work_submit)(dtr_plugin *self, dtr_work_fn work, dtr_work_done_fn done,
                              void *udata);
    /* Starts a timer: fn after timeout_ms, then every repeat_ms (0: once).
     * Returns NULL on failure. A one-shot timer stays allocated until
     * timer_stop; timer_stop from inside its own callback is allowed. */
    dtr_timer *(*timer_start)(dtr_plugin *self, uint64_t timeout_ms, uint64_t repeat_ms,
                              dtr_timer_fn fn, void *udata);
    /* Stops and frees a timer. */
    void (*timer_stop)(dtr_timer *timer);
    /* The host's uv_loop_t (as void * so that plugins that do not use libuv
     * need not include uv.h), for libraries that integrate with libuv such as
     * libcurl's multi-socket interface. Handles a plugin opens on it must be
     * closed in its stop callback. */
    void *(*loop)(dtr_plugin *self);
    /* The data directory of this server (absolute path; never NULL). */
    const char *(*data_dir)(dtr_plugin *self);

    /* --- code lists (1.0) -------------------------------------------------- */

    /* The text of a code in one of the register's code lists: list is
     * "kommune", "ejerform", "lovgrundlag" or "institutionstype". Returns a
     * static string (the exact texts of the register's export), or NULL for
     * an unknown list or code. Any thread. */
    const char *(*code_text)(const char *list, int kode);

    /* --- clients (1.1) ------------------------------------------------------ */

    /* Authenticates the request's HTTP Basic credentials (clientId:secret)
     * against the register's clients, as they are now (a client added,
     * revoked or rotated by `dtr client` counts from the next request).
     * DTR_OK with *client set (NULL when the request has no Authorization
     * header), or DTR_DECLINED when credentials were given and are wrong
     * (answer 401 with WWW-Authenticate: Basic realm="dtr"). Also marks the
     * client in the access log. */
    dtr_status (*req_authenticate)(dtr_request *req, const dtr_client **client);
    /* The config's public_read: whether GETs under /v1 are open to all. */
    int (*public_read)(dtr_plugin *self);

    /* --- commands (1.1) ----------------------------------------------------- */

    /* Queues a command for the register's writer on behalf of client (NULL
     * for none: refused 403). done runs later on the loop thread, never inside
     * this call, once the change is on disk or refused. Returns DTR_OK, or
     * DTR_ERROR (err filled) when the store is closing; then done is not
     * called. */
    dtr_status (*command_submit)(dtr_plugin *self, const dtr_client *client, const dtr_command *cmd,
                                 dtr_command_fn done, void *udata, char *err, size_t errlen);

    /* --- reads (1.1) ----------------------------------------------------------
     * Return 0 when found, 404 unknown, 410 deleted (read_get), 400 a bad
     * query, 503 the store could not be read. json_t results are new
     * references the caller releases. */

    /* The plugin's reader for short reads on the loop thread. */
    dtr_reader *(*reader)(dtr_plugin *self);
    /* A reader of its own for long reads (any thread; one at a time). */
    dtr_reader *(*reader_open)(dtr_plugin *self);
    void (*reader_close)(dtr_reader *r);
    /* One record by number at any level as GET shows it; nested: children
     * too. virkningsdato NULL: now. */
    int (*read_get)(dtr_reader *r, const char *nummer, const char *virkningsdato, int nested,
                    dtr_level *level, json_t **out);
    /* One page of a list ordered by nummer; next gets the number the next
     * page starts after, or "" on the last page. */
    int (*read_list)(dtr_reader *r, const dtr_query *q, json_t **items, char next[7]);
    /* Every version of one record: [{"version", "registreringFra", ...}]. */
    int (*read_history)(dtr_reader *r, const char *nummer, json_t **out);
    /* Hændelser from sekvensnummer fra, at most max (1..10000). */
    int (*read_haendelser)(dtr_reader *r, int64_t fra, size_t max, json_t **out);
    /* The newest sekvensnummer and its time (0 and "" before the first). */
    int (*read_latest)(dtr_reader *r, int64_t *sekvensnummer, char tidspunkt[40]);
    /* Starts a read transaction on r consistent with *sekvensnummer; every
     * read on r sees exactly that state until snapshot_end. */
    int (*snapshot_begin)(dtr_reader *r, int64_t *sekvensnummer);
    void (*snapshot_end)(dtr_reader *r);

    /* --- consumers (1.2) ------------------------------------------------------
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
     * retry; DTR_RETRY or DTR_ERROR means "not
     * now": the events after the cursor come again after a backoff (growing
     * from 1 s to 60 s). A consumer may call it from consume itself or later
     * (after work on the pool). Loop thread. */
    void (*consume_done)(dtr_plugin *self, int64_t handled_up_to, dtr_status status);
    /* During init: where a consumer without a cursor starts (its config's
     * "fra": the first sekvensnummer to deliver). Without it a new consumer
     * starts after the newest sekvensnummer. */
    void (*feed_start_at)(dtr_plugin *self, int64_t fra);

    /* --- signing (1.2) -------------------------------------------------------- */

    /* Signs msg with the server's Ed25519 key (created on first start in the
     * data directory, mode 0600; `dtr version --keys` prints its public key):
     * a detached 64-byte signature into sig. Any thread. */
    dtr_status (*sign)(dtr_plugin *self, const void *msg, size_t len, unsigned char sig[64]);
    /* The 32-byte public key. */
    void (*signing_public_key)(dtr_plugin *self, unsigned char pk[32]);

    /* --- reading a request (1.3) ---------------------------------------------- */

    /* The percent-decoded name of the index-th query parameter (0-based, in
     * the order sent; a name sent twice counts twice), or NULL past the last.
     * Owned by the request, like req_query's values. */
    const char *(*req_query_name)(dtr_request *req, size_t index);

    /* --- describing routes (1.4) -----------------------------------------------
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
     * instance. */
    dtr_status (*openapi_describe)(dtr_plugin *self, const json_t *paths, char *err, size_t errlen);
    /* The union of what the host and every instance of the caller's set of
     * plugins (the ones started together with it; a reload makes a new set)
     * described: a new "paths" object the caller owns (json_decref). Complete
     * once the set started, i.e. from the first request on; the document's
     * plugin builds its document then, not in init. Never NULL but when out
     * of memory. */
    json_t *(*openapi_paths)(dtr_plugin *self);
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
