/*
 * people.h -- the web UI's people in `dtr serve`: sessions as credentials
 * (req_authenticate), the host API's session functions, and the host's route
 * GET /v1/spor/{nummer}. The services (services.c) open it with the store
 * and the identity registry and ask it about session cookies. Loop thread.
 */
#ifndef DTR_PEOPLE_H
#define DTR_PEOPLE_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "auth/identity.h"
#include "auth/person.h"
#include "config.h"
#include "dtr/plugin.h"
#include "ops/log.h"
#include "store/store.h"

typedef struct people people;

typedef struct people_options {
    uv_loop_t *loop;
    const char *data_dir;
    const uint8_t *key;           /* the server key (copied) */
    const cfg_sessions *sessions; /* NULL: the defaults */
    store *store;                 /* login audit entries go through its writer */
    ident_registry *idents;       /* a session's identity is made here */
    ops_log *log;
    const dtr_host_api *api; /* for reading and answering requests */
    dtr_host_api *api_edit;  /* gets the session_* functions */
} people_options;

/* Opens the sessions (a read-only connection to the people) and fills the
 * session functions of the table. NULL with err. */
people *people_open(const people_options *o, char *err, size_t errlen);
/* Ends every session (their identities released). Before the identity
 * registry is freed. NULL is allowed. */
void people_close(people *p);

/* Whether the request carries a session cookie. */
bool people_has_cookie(people *p, dtr_request *req);
/* The session of the request as req_authenticate answers it: DTR_OK with
 * *who (NULL without a session cookie), DTR_DECLINED for an ended session,
 * DTR_INVALID for a write without the session's CSRF token. */
dtr_status people_authenticate(people *p, dtr_request *req, const dtr_identity **who);

/* GET /v1/spor/{nummer}: a core route (support and admin only). */
dtr_status people_route_spor(dtr_request *req, void *udata);

#endif /* DTR_PEOPLE_H */
