/*
 * session.c -- STIL support's workplace: GET /support/ (the page) and the
 * person's session: login, logout, the CSRF token and a change of password,
 * over the host's session functions (the host owns identities; this plugin
 * only carries a person's name and password to it and its answer back).
 */
#include <stdio.h>
#include <string.h>

#include "support.h"

static dtr_status support_route_workplace(dtr_request *req, void *udata)
{
    support_send_asset(udata, req, "support.html");
    return DTR_OK;
}

dtr_status support_session_routes(support_plugin *sp, char *err, size_t errlen)
{
    return sp->api->route_add(sp->self, "GET", "/support/", 0, support_route_workplace, sp, err,
                              errlen);
}
