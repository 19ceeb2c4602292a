/*
 * pool.c -- reads whose cost a client chooses run on the host's work queue,
 * never on the loop thread: lists (a navn search, an as-of list, up to 1000
 * records a page), hændelser (up to 10,000 a page) and a record's history.
 * The loop only checks the request, opens a reader and, when the pool
 * thread has read and dumped the answer, hands the text to the host
 * (respond_owned: no copy on the loop, which only writes it); the host keeps
 * answers in request order on each connection.
 *
 * Lifetimes: a pool_read owns copies of everything the pool thread needs
 * (the query's strings, its own reader), so it depends neither on the
 * request (the client may go away: the abort callback only forgets it) nor
 * on the plugin instance (a reload may free it meanwhile). At most
 * POOL_READS_MAX reads wait or run at once; past that a read answers 503
 * with Retry-After, so a flood of heavy reads queues no unbounded work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rest.h"

enum { POOL_READS_MAX = 256 };

static int pool_reads; /* waiting or running; loop thread */

typedef struct pool_read {
    const dtr_host_api *api;
    dtr_request *req; /* NULL once the client went away */
    dtr_reader *reader;
    rest_pool_kind kind;
    dtr_query q;
    char *strings[7]; /* the query's copied strings, freed with it */
    char nummer[8];
    int64_t fra;
    size_t maxantal;
    /* the answer the pool thread made */
    int status;
    char *text;
    size_t len;
} pool_read;

static const char *pool_dup(pool_read *p, int i, const char *s)
{
    if (!s) return NULL;
    p->strings[i] = strdup(s);
    if (!p->strings[i]) abort();
    return p->strings[i];
}

static void pool_free(pool_read *p)
{
    if (p->reader) p->api->reader_close(p->reader);
    for (size_t i = 0; i < sizeof p->strings / sizeof p->strings[0]; i++)
        free(p->strings[i]);
    free(p->text);
    free(p);
}

/* Pool thread: the read and the dump. Touches only p and its reader. */
static void pool_work(void *udata)
{
    pool_read *p = udata;
    const dtr_host_api *api = p->api;
    json_t *doc = NULL;
    if (p->kind == REST_POOL_LIST) {
        json_t *items = NULL;
        char next[7] = "";
        p->status = rest_http_of(api->read_list(p->reader, &p->q, &items, next));
        if (p->status == 0) {
            json_t *naeste = json_null();
            if (next[0]) {
                char cursor[16];
                rest_cursor_encode(next, cursor);
                naeste = json_string(cursor);
            }
            doc = json_pack("{s:o, s:o}", "resultater", items ? items : json_array(), "naeste",
                            naeste);
            items = NULL;
        }
        json_decref(items);
    } else if (p->kind == REST_POOL_EVENTS) {
        p->status = rest_http_of(api->read_haendelser(p->reader, p->fra, p->maxantal, &doc));
        if (p->status == 0 && !doc) doc = json_array();
    } else {
        p->status = rest_http_of(api->read_history(p->reader, p->nummer, &doc));
    }
    if (p->status == 0) {
        p->text = doc ? json_dumps(doc, DTR_JSON_WIRE) : NULL;
        if (!p->text)
            p->status = 503;
        else
            p->len = strlen(p->text);
    }
    json_decref(doc);
}

/* Loop thread: answers (when the client is still there) and frees. */
static void pool_done(void *udata, int status)
{
    pool_read *p = udata;
    pool_reads--;
    dtr_request *req = p->req;
    if (req) {
        p->api->req_on_abort(req, NULL, NULL);
        if (status != 0 || p->status != 0)
            rest_problem_read(p->api, req, p->status ? p->status : 503);
        else if (DTR_HOST_HAS(p->api, respond_owned) && p->api->respond_owned) {
            p->api->respond_owned(req, 200, "application/json", p->text, p->len);
            p->text = NULL; /* the host's now: the loop sends it without a copy */
        } else
            p->api->respond(req, 200, "application/json", p->text, p->len);
    }
    pool_free(p);
}

static void pool_abort(dtr_request *req, void *udata)
{
    (void)req;
    ((pool_read *)udata)->req = NULL; /* the pool thread finishes; done frees */
}

void rest_pool_submit(rest *r, dtr_request *req, rest_pool_kind kind, const dtr_query *q,
                      const char *nummer, int64_t fra, size_t maxantal)
{
    const dtr_host_api *api = r->api;
    if (pool_reads >= POOL_READS_MAX) {
        rest_problem(api, req, 503, "IKKE_KLAR", NULL,
                     "serveren læser så meget den kan lige nu; prøv igen");
        return;
    }
    pool_read *p = calloc(1, sizeof *p);
    if (!p) {
        rest_problem_read(api, req, 503);
        return;
    }
    p->api = api;
    p->req = req;
    p->kind = kind;
    if (q) {
        p->q = *q;
        p->q.virkningsdato = pool_dup(p, 0, q->virkningsdato);
        p->q.status = pool_dup(p, 1, q->status);
        p->q.navn = pool_dup(p, 2, q->navn);
        p->q.parent = pool_dup(p, 3, q->parent);
        p->q.p_nummer = pool_dup(p, 4, q->p_nummer);
        p->q.cvr_nummer = pool_dup(p, 5, q->cvr_nummer);
        p->q.after = pool_dup(p, 6, q->after);
    }
    if (nummer) snprintf(p->nummer, sizeof p->nummer, "%s", nummer);
    p->fra = fra;
    p->maxantal = maxantal;
    p->reader = api->reader_open(r->self);
    if (!p->reader) {
        pool_free(p);
        rest_problem_read(api, req, 503);
        return;
    }
    api->req_on_abort(req, pool_abort, p);
    if (api->work_submit(r->self, pool_work, pool_done, p) != DTR_OK) {
        api->req_on_abort(req, NULL, NULL);
        pool_free(p);
        rest_problem_read(api, req, 503);
        return;
    }
    pool_reads++;
}
