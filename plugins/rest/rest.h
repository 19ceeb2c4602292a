/*
 * rest.h -- what the files of the REST plugin (API v1) share. Nothing here
 * leaves the .so but the descriptor; the prefix rest_ marks the plugin's
 * own names.
 *
 * The files, one seam each:
 *   plugin.c    the descriptor, init (config, routes), free; the handler
 *               each route kind dispatches to
 *   routes.c    the route table: every method + path the plugin serves,
 *               with what the OpenAPI document says about it
 *   problem.c   problem+json answers (one error, or a command's fejl list),
 *               401 with WWW-Authenticate, reason phrases
 *   input.c     HTTP-level input: credentials, media types, JSON syntax
 *               (UTF-8, depth, duplicates), If-Match, path segments, query
 *               parameters, the opaque list cursor
 *   read.c      the GET handlers: one record, lists, dagtilbud, historik,
 *               hændelser, code lists
 *   write.c     the write handlers: create, update, close, delete, move as
 *               register commands, answered when the command is on disk
 *   udtraek.c   GET /v1/udtraek: the whole register streamed from a
 *               snapshot, page by page, with backpressure
 *   openapi.c   GET /v1/openapi.json: its own routes from the route table,
 *               merged with what the host and the other plugins described
 *   cache.c     GET answers of records kept as JSON bytes, kept correct by
 *               replaying the change feed
 *
 * Threads: everything runs on the loop thread, except the page reads of an
 * udtræk (udtraek.c), which run on a pool thread with a reader of their own.
 */
#ifndef REST_H
#define REST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtr/plugin.h>

/* The deepest nesting of arrays and objects a request body may have. The
 * deepest legal document (a daginstitution with anvisningsenheder with
 * alternative adresser with adresse) has depth 6. */
#define REST_MAX_JSON_DEPTH 32

/* The udtræk reads this many daginstitutioner (nested) per page unless the
 * config says otherwise. */
#define REST_UDTRAEK_PAGE_DEFAULT 100

/* The plugin's descriptor (plugin.c), the .so's one exported symbol. */
extern const dtr_plugin_descriptor dtr_plugin_entry;

/* ---- the route table ----------------------------------------------------- */

/* What a route does: each kind has one handler. */
typedef enum rest_kind {
    REST_OPENAPI,    /* GET /v1/openapi.json */
    REST_CODES,      /* GET /v1/kodetabeller/<list> */
    REST_LIST,       /* GET /v1/<collection> */
    REST_GET,        /* GET /v1/<collection>/{nummer} */
    REST_HISTORY,    /* GET /v1/<collection>/{nummer}/historik */
    REST_DAGTILBUD,  /* GET /v1/dagtilbud/{nummer} */
    REST_LATEST,     /* GET /v1/haendelser/seneste */
    REST_EVENTS,     /* GET /v1/haendelser */
    REST_UDTRAEK,    /* GET /v1/udtraek */
    REST_CREATE,     /* POST /v1/<collection> */
    REST_UPDATE,     /* PATCH /v1/<collection>/{nummer} */
    REST_CLOSE,      /* POST /v1/<collection>/{nummer}/nedlaeg */
    REST_DELETE,     /* DELETE /v1/<collection>/{nummer} */
    REST_MOVE,       /* POST /v1/<collection>/{nummer}/flyt */
    REST_REOPEN,     /* POST /v1/<collection>/{nummer}/genaabn */
    REST_TRANSACTION /* POST /v1/transaktioner */
} rest_kind;

/* The types of query parameters, each with its own check (input.c). */
typedef enum rest_ptype {
    REST_P_LIMIT,   /* 1..1000 */
    REST_P_CURSOR,  /* the opaque "efter" of a previous page's "naeste" */
    REST_P_DATE,    /* YYYY-MM-DD, a real calendar day */
    REST_P_STATUS,  /* kommende, aktiv, nedlagt */
    REST_P_TEXT,    /* a non-empty text of at most 132 characters (navn) */
    REST_P_CODE,    /* a positive integer code (kommune, instType3) */
    REST_P_NUMMER,  /* ^[A-Z][0-9]{5}$ */
    REST_P_PNUMMER, /* 10 digits */
    REST_P_CVR,     /* 8 digits */
    REST_P_SEQ,     /* a sekvensnummer, >= 0 */
    REST_P_MAXANTAL /* 1..10000 */
} rest_ptype;

typedef struct rest_param {
    const char *name;
    rest_ptype type;
    const char *doc; /* for the OpenAPI document */
} rest_param;

typedef struct rest_route {
    const char *method;
    const char *pattern;
    rest_kind kind;
    dtr_level level;          /* the collection's level (lists, records, writes) */
    const char *list;         /* REST_CODES: the code_text list name */
    const char *summary;      /* one line for the OpenAPI document */
    const rest_param *params; /* the query parameters it takes; NULL-name terminated */
} rest_route;

extern const rest_route rest_routes[];
extern const size_t rest_route_count;

/* Per level: the collection's path segment ("daginstitutioner"), the
 * schema name of the OpenAPI document ("Daginstitution"), the niveau
 * ("daginstitution"). */
const char *rest_collection(dtr_level level);
const char *rest_schema_name(dtr_level level);
const char *rest_niveau(dtr_level level);

/* ---- the answer cache (cache.c) ------------------------------------------------ */

/* The GET answers of records as JSON bytes, kept up to date by the change
 * feed. Loop thread only. */
typedef struct rest_cache rest_cache;

typedef struct rest_cache_stats {
    uint64_t hits, misses;
    uint64_t dropped;   /* entries dropped because their record (or a nested one) changed */
    uint64_t clears;    /* times the whole cache was emptied */
    uint64_t events;    /* hændelser replayed */
    uint64_t memo_hits; /* syncs answered by the sync earlier in the same loop iteration */
    size_t entries, bytes;
} rest_cache_stats;

/* A cache of at most max_bytes of answers; NULL when out of memory. */
rest_cache *rest_cache_new(size_t max_bytes);
void rest_cache_free(rest_cache *c);
/* Brings the cache up to the newest sekvensnummer on r, dropping what
 * changed since (a replay of the hændelser in between). false when the
 * store could not be read: then the caller reads without the cache. */
bool rest_cache_sync(rest_cache *c, const dtr_host_api *api, dtr_reader *r);
/* Whether a sync holds until rest_cache_stale is called (on: the plugin
 * calls it after every loop iteration), or is made anew for each request
 * (off, the default). */
void rest_cache_memo(rest_cache *c, bool on);
/* The register may have moved on: the next sync asks the store. NULL is
 * allowed. */
void rest_cache_stale(rest_cache *c);
/* The cached answer of nummer (borrowed until the next call on the cache)
 * with its level, version and length; NULL when there is none. */
const char *rest_cache_get(rest_cache *c, const char *nummer, dtr_level *level, int64_t *version,
                           size_t *len);
/* Keeps the answer bytes of nummer (copied); doc is the record as GET shows
 * it, whose nested numbers the cache indexes. Call only right after a sync. */
void rest_cache_put(rest_cache *c, const char *nummer, dtr_level level, const json_t *doc,
                    const char *bytes, size_t len, int64_t version);
void rest_cache_stats_get(const rest_cache *c, rest_cache_stats *out);

/* The cache's size unless the config says otherwise ("cache_bytes"; 0: no
 * cache). */
#define REST_CACHE_BYTES_DEFAULT (64u << 20)

/* ---- the instance ---------------------------------------------------------- */

typedef struct rest rest;

/* What a route's handler gets as udata: the instance and its route. */
typedef struct rest_binding {
    rest *r;
    const rest_route *route;
} rest_binding;

/* A code list answered from bytes made once at init. */
typedef struct rest_bytes {
    char *data;
    size_t len;
} rest_bytes;

struct rest {
    dtr_plugin *self;
    const dtr_host_api *api;
    rest_binding *bindings; /* one per route of rest_routes */
    rest_bytes openapi;     /* the OpenAPI document as served; made at its first request */
    json_t *openapi_own;    /* the plugin's own document (init); NULL once merged into openapi */
    rest_bytes codes[4];    /* kommuner, ejerformer, lovgrundlag, institutionstyper */
    size_t udtraek_page;    /* daginstitutioner per page of an udtræk */
    size_t cache_bytes;     /* the config's cache_bytes */
    rest_cache *cache;      /* GET answers of records; NULL when turned off */
    void *check;            /* the uv_check_t that ends a loop iteration for the cache */
};

/* ---- handlers (read.c, write.c, udtraek.c) ----------------------------------- */

dtr_status rest_handle_openapi(dtr_request *req, void *udata);
dtr_status rest_handle_codes(dtr_request *req, void *udata);
dtr_status rest_handle_list(dtr_request *req, void *udata);
dtr_status rest_handle_get(dtr_request *req, void *udata);
dtr_status rest_handle_history(dtr_request *req, void *udata);
dtr_status rest_handle_dagtilbud(dtr_request *req, void *udata);
dtr_status rest_handle_latest(dtr_request *req, void *udata);
dtr_status rest_handle_events(dtr_request *req, void *udata);
dtr_status rest_handle_udtraek(dtr_request *req, void *udata);
dtr_status rest_handle_write(dtr_request *req, void *udata);
/* POST /v1/transaktioner (transaction.c). */
dtr_status rest_handle_transaction(dtr_request *req, void *udata);
/* The command a write route's kind makes. */
dtr_op rest_op_of(rest_kind kind);
/* ?kontroller=true|false: *flags gets DTR_SUBMIT_DRY_RUN or 0. false after
 * answering 400 for another value. */
bool rest_read_dry_run(rest *r, dtr_request *req, uint32_t *flags);
/* Whether an Idempotency-Key is 1 to 255 visible ASCII characters. */
bool rest_idempotency_key_ok(const char *key);

/* Makes the code list answers (read.c) and the plugin's own OpenAPI
 * document (openapi.c) once, at init. 0, or -1 when out of memory. */
int rest_codes_build(rest *r);
int rest_openapi_build(rest *r);
/* The plugin's own OpenAPI document as a json_t (new reference): its routes
 * and the shared components; the unit tests compare it with the route
 * table. */
json_t *rest_openapi_document(void);
/* Adds the operations of paths (an OpenAPI "paths" object, borrowed: what
 * the host's openapi_paths collected from the other plugins and the host)
 * to doc's paths. An operation doc already has for the same path and
 * method stays (the plugin's own win); returns how many of paths' were
 * left out for that reason (0 in a sound set: routes are unique). */
size_t rest_openapi_merge(json_t *doc, const json_t *paths);
/* The document as served (GET /v1/openapi.json): the own document merged
 * with every other description of the set, made at the first request (all
 * instances have described their routes by then) and kept. NULL when out
 * of memory. */
const rest_bytes *rest_openapi_bytes(rest *r);

/* ---- problem+json (problem.c) ------------------------------------------------ */

/* The reason phrase of a status ("Unprocessable Content"). */
const char *rest_reason(int status);
/* Answers status with one fejl entry {kode, felt (NULL: null), tekst}. */
void rest_problem(const dtr_host_api *api, dtr_request *req, int status, const char *kode,
                  const char *felt, const char *tekst);
/* Answers a command's refusal: its status and its whole fejl list. */
void rest_problem_fejl(const dtr_host_api *api, dtr_request *req, int status, const json_t *fejl);
/* Answers a read's failure status (400, 404, 410, 503) with its code. */
void rest_problem_read(const dtr_host_api *api, dtr_request *req, int status);
/* Answers 401 with WWW-Authenticate: Basic realm="dtr". */
void rest_unauthorized(const dtr_host_api *api, dtr_request *req, const char *tekst);
/* Builds a problem document (new reference): fejl is borrowed and copied;
 * felt "" becomes null. */
json_t *rest_problem_doc(int status, const json_t *fejl);

/* ---- HTTP-level input (input.c) ---------------------------------------------- */

/* Authenticates the request. need_client: a client is required (writes;
 * reads when public_read is off). Returns true with *client (maybe NULL
 * when not needed) to go on; false when it answered 401. Wrong credentials
 * answer 401 even where none are needed, so that a misconfigured client
 * learns it at once. */
/* A read's dtr_status as the HTTP status the plugin answers, 0 for DTR_OK. */
static inline int rest_http_of(dtr_status st)
{
    return st == DTR_OK ? 0 : dtr_status_http(st);
}

bool rest_auth(rest *r, dtr_request *req, bool need_client, const dtr_identity **client);

/* Whether a Content-Type names JSON: application/json (and, with
 * merge_patch, application/merge-patch+json), case-insensitively, with
 * parameters allowed but a charset only when it is utf-8. */
bool rest_media_type_ok(const char *content_type, bool merge_patch);

/* Checks that a JSON text nests arrays and objects at most max_depth deep
 * (strings skipped), without parsing it. */
bool rest_json_depth_ok(const unsigned char *text, size_t len, int max_depth);

/* Parses a request body: UTF-8 JSON of any type at the top, no duplicate
 * keys, at most REST_MAX_JSON_DEPTH deep. NULL with a Danish reason in why
 * when it is not. */
json_t *rest_parse_body(const unsigned char *body, size_t len, char *why, size_t whylen);

/* The version an If-Match header names: -1 when absent or "*", the number
 * of "\"3\"", "W/\"3\"" or "3", and 0 (a version no record has, so the
 * register answers 412 in its place in the check order) for anything else. */
int64_t rest_parse_if_match(const char *value);

bool rest_nummer_ok(const char *s);
/* A calendar day YYYY-MM-DD (leap years counted). */
bool rest_date_ok(const char *s);
/* Digits only (no sign, no spaces), at most 18 of them; *out their value. */
bool rest_parse_digits(const char *s, int64_t *out);

/* The opaque cursor of a list page: base64url (no padding) of the number the
 * next page starts after. decode answers false for anything that does not
 * decode to a number. */
void rest_cursor_encode(const char *nummer, char out[16]);
bool rest_cursor_decode(const char *cursor, char nummer[7]);

/* The query parameters of a route, checked and collected. */
typedef struct rest_args {
    const char *limit_text;
    size_t limit;
    char after[7];
    const char *virkningsdato;
    const char *status;
    const char *navn;
    const char *parent;
    const char *p_nummer;
    const char *cvr_nummer;
    int adm_kommune;
    int kommune;
    int inst_type3;
    int64_t fra;
    size_t maxantal;
} rest_args;

/* Reads and checks every query parameter the route takes. Returns true, or
 * false after answering 400 UGYLDIG_PARAMETER naming the parameter. */
bool rest_read_args(rest *r, dtr_request *req, const rest_route *route, rest_args *args);

/* The route's {nummer} segment, checked: NULL after answering 400
 * UGYLDIG_PARAMETER. */
const char *rest_read_nummer(rest *r, dtr_request *req);

/* Sets ETag: "<version>" on the answer. */
void rest_set_etag(const dtr_host_api *api, dtr_request *req, int64_t version);

#endif /* REST_H */
