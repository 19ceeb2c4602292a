/*
 * server.c -- the server: listening, the list of connections, limits,
 * graceful shutdown, and small per-server services (the Date header, request
 * ids, the rate limit, the access log's clock).
 *
 * The server's own handles (listener, the idle handle of deferred work) are
 * created by a successful net_server_listen and closed by shutdown, so a
 * server that never listened can be freed at once. Loop thread only.
 */
#include "net/net_int.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

net_server *net_server_new(uv_loop_t *loop, const net_limits *limits, ops_log *log,
                           ops_metrics *metrics)
{
    net_server *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->loop = loop;
    s->log = log;
    if (log) net_handle_set_log(log);
    s->metrics = metrics;
    s->date_sec = -1;
    s->log_sec = -1;
    uint64_t seed = 0;
    if (uv_random(NULL, NULL, &seed, sizeof seed, 0, NULL) != 0)
        seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ uv_hrtime();
    s->rng = seed;
    net_server_set_limits(s, limits);
    return s;
}

void net_server_set_limits(net_server *s, const net_limits *limits)
{
    s->limits = *limits;
    if (!s->limits.max_pipeline) s->limits.max_pipeline = NET_PIPELINE_DEFAULT;
    if (s->fd_max_connections && s->limits.max_connections > s->fd_max_connections)
        s->limits.max_connections = s->fd_max_connections;
    if (s->limits.requests_per_second_per_client && !s->rate) s->rate = net_rate_new();
    if (!s->limits.requests_per_second_per_client && s->rate) {
        net_rate_free(s->rate);
        s->rate = NULL;
    }
}

void net_server_set_early_check(net_server *s, net_early_check_fn fn, void *udata)
{
    s->early_check = fn;
    s->early_udata = udata;
}

void net_server_set_router(net_server *s, net_router *r)
{
    s->router = r;
}

size_t net_server_connections(const net_server *s)
{
    return s->nconns;
}

int net_server_port(const net_server *s)
{
    return s->port;
}

static void net_server_on_connection(uv_stream_t *listener, int status)
{
    net_server *s = listener->data;
    if (status < 0) {
        /* out of descriptors and the like: libuv keeps accepting later */
        if (s->log)
            ops_log_write(s->log, OPS_LOG_WARN, "net", "accept failed: %s", uv_strerror(status));
        return;
    }
    if (s->shutting_down) return;
    net_conn_accept(s);
}

/* Splits "HOST:PORT", "[V6]:PORT" or ":PORT" (all interfaces). */
static bool net_split_host_port(const char *hp, char *host, size_t hostlen, char *port,
                                size_t portlen)
{
    const char *colon;
    if (hp[0] == '[') {
        const char *close = strchr(hp, ']');
        if (!close || close[1] != ':') return false;
        if ((size_t)(close - hp - 1) >= hostlen) return false;
        memcpy(host, hp + 1, (size_t)(close - hp - 1));
        host[close - hp - 1] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(hp, ':');
        if (!colon || (size_t)(colon - hp) >= hostlen) return false;
        memcpy(host, hp, (size_t)(colon - hp));
        host[colon - hp] = '\0';
    }
    if (!colon[1] || strlen(colon + 1) >= portlen) return false;
    strcpy(port, colon + 1);
    return strspn(port, "0123456789") == strlen(port);
}

/* Descriptors one connection slot costs, and those kept for everything
 * else (the database and its WAL, logs, plugins' sockets and files). The
 * connections refused with 503 need descriptors too while they linger. */
#define NET_FD_RESERVE 256

static uint64_t net_fds_needed(uint64_t max_connections)
{
    return max_connections + net_rejected_max(max_connections) + NET_FD_RESERVE;
}

/* Raises the soft RLIMIT_NOFILE as far as the hard limit allows (as much as
 * max_connections needs, no more) and, when that is still too few, lowers
 * max_connections to what fits, with a warning line: a connection the
 * server accepted must never fail for want of a descriptor (the client would
 * see a reset, not a 503). */
static void net_server_fit_descriptors(net_server *s)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    uint64_t want = net_fds_needed(s->limits.max_connections);
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        struct rlimit raised = rl;
        raised.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want) return;
    uint64_t have = rl.rlim_cur, fit = 0;
    if (have > NET_FD_RESERVE) fit = have - NET_FD_RESERVE;
    while (fit > 1 && net_fds_needed(fit) > have)
        fit--;
    if (fit < 1) fit = 1;
    if (s->log)
        ops_log_write(s->log, OPS_LOG_WARN, "net",
                      "limits.max_connections lowered from %u to %llu: RLIMIT_NOFILE allows %llu "
                      "descriptors and %llu are needed",
                      s->limits.max_connections, (unsigned long long)fit, (unsigned long long)have,
                      (unsigned long long)want);
    s->fd_max_connections = (uint32_t)fit;
    s->limits.max_connections = (uint32_t)fit;
}

/* Binds a listening socket itself (so that a failure leaves no libuv handle
 * behind), then hands the descriptor to a uv_tcp_t. */
int net_server_listen(net_server *s, const char *host_port, char *err, size_t errlen)
{
    char host[256], port[16], local[128];
    if (!err || !errlen) {
        err = local;
        errlen = sizeof local;
    }
    if (s->handles_init) {
        snprintf(err, errlen, "the server listens already");
        return -1;
    }
    if (!host_port || !net_split_host_port(host_port, host, sizeof host, port, sizeof port)) {
        snprintf(err, errlen, "'%s' is not HOST:PORT", host_port ? host_port : "");
        return -1;
    }
    net_server_fit_descriptors(s);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "%s: %s", host, gai_strerror(gai));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 511) == 0) break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "%s", strerror(saved ? saved : EADDRNOTAVAIL));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0)
        s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    uv_tcp_init(s->loop, &s->listener);
    s->listener.data = s;
    uv_idle_init(s->loop, &s->idle);
    s->idle.data = s;
    s->handles_init = true;
    s->open_handles = 2;
    int rc = uv_tcp_open(&s->listener, fd);
    if (rc != 0)
        close(fd); /* not the handle's */
    else
        rc = uv_listen((uv_stream_t *)&s->listener, 511, net_server_on_connection);
    if (rc != 0) {
        snprintf(err, errlen, "%s", uv_strerror(rc));
        return -1; /* shutdown closes the handles */
    }
    return 0;
}

/* ---- shutdown --------------------------------------------------------------- */

static void net_server_handle_closed(uv_handle_t *h)
{
    net_server *s = h->data;
    if (--s->open_handles == 0 && s->done) s->done(s->done_udata);
}

/* The last connection is gone: close the server's own handles; done runs
 * when they are closed. */
static void net_server_maybe_done(net_server *s)
{
    if (!s->shutting_down || s->finishing || s->nconns || s->nrejected) return;
    s->finishing = true;
    uv_close((uv_handle_t *)&s->idle, net_server_handle_closed);
    uv_close((uv_handle_t *)&s->shutdown_timer, net_server_handle_closed);
}

static void net_server_shutdown_timeout(uv_timer_t *t)
{
    net_server *s = t->data;
    if (s->log && (s->nconns || s->nrejected))
        ops_log_write(s->log, OPS_LOG_WARN, "net",
                      "shutdown: %zu connection(s) still busy after %llu ms: cut", s->nconns,
                      (unsigned long long)s->limits.shutdown_timeout_ms);
    for (net_conn *c = s->conns; c; c = c->next)
        net_conn_close(c);
}

void net_server_shutdown(net_server *s, void (*done)(void *udata), void *udata)
{
    if (s->shutting_down) return;
    s->shutting_down = true;
    s->done = done;
    s->done_udata = udata;
    if (!s->handles_init) {
        if (done) done(udata);
        return;
    }
    uv_close((uv_handle_t *)&s->listener, net_server_handle_closed);
    uv_timer_init(s->loop, &s->shutdown_timer);
    s->shutdown_timer.data = s;
    s->open_handles++;
    uv_timer_start(&s->shutdown_timer, net_server_shutdown_timeout, s->limits.shutdown_timeout_ms,
                   0);
    for (net_conn *c = s->conns; c; c = c->next)
        net_conn_begin_shutdown(c);
    net_server_maybe_done(s);
}

void net_server_conn_closed(net_server *s, net_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    if (c->rejected)
        s->nrejected--;
    else
        s->nconns--;
    net_server_maybe_done(s);
}

void net_server_free(net_server *s)
{
    if (!s) return;
    net_pools_free(s);
    net_rate_free(s->rate);
    free(s);
}

/* ---- small services -------------------------------------------------------------- */

static const char net_days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char net_months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

const char *net_server_date(net_server *s, size_t *len)
{
    time_t now = time(NULL);
    if ((int64_t)now != s->date_sec) {
        struct tm tm;
        gmtime_r(&now, &tm);
        int n = snprintf(s->date_line, sizeof s->date_line,
                         "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n", net_days[tm.tm_wday],
                         tm.tm_mday, net_months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
                         tm.tm_min, tm.tm_sec);
        s->date_len = n > 0 ? (size_t)n : 0;
        s->date_sec = (int64_t)now;
    }
    *len = s->date_len;
    return s->date_line;
}

size_t net_server_log_time(net_server *s, char out[32])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if ((int64_t)ts.tv_sec != s->log_sec) {
        struct tm tm;
        time_t secs = ts.tv_sec;
        gmtime_r(&secs, &tm);
        snprintf(s->log_time, sizeof s->log_time, "%04d-%02d-%02dT%02d:%02d:%02d",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        s->log_sec = (int64_t)ts.tv_sec;
    }
    memcpy(out, s->log_time, 19);
    long ms = ts.tv_nsec / 1000000;
    out[19] = '.';
    out[20] = (char)('0' + ms / 100);
    out[21] = (char)('0' + ms / 10 % 10);
    out[22] = (char)('0' + ms % 10);
    out[23] = 'Z';
    return 24;
}

/* splitmix64 over a seed from the system's random source. */
void net_server_new_id(net_server *s, char out[16])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    for (int i = 15; i >= 0; i--) {
        out[i] = hex[z & 15];
        z >>= 4;
    }
}

/* The client id of "Authorization: Basic base64(id:secret)": decodes
 * just enough base64 to reach the ':' (ids are short) into id. Returns its
 * length, 0 when there is none. */
static size_t net_basic_client_id(const char *auth, char *id, size_t idcap)
{
    if (!auth || strncasecmp(auth, "basic ", 6) != 0) return 0;
    const char *p = auth + 6;
    while (*p == ' ')
        p++;
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (; *p && *p != '='; p++) {
        int v;
        char ch = *p;
        if (ch >= 'A' && ch <= 'Z')
            v = ch - 'A';
        else if (ch >= 'a' && ch <= 'z')
            v = ch - 'a' + 26;
        else if (ch >= '0' && ch <= '9')
            v = ch - '0' + 52;
        else if (ch == '+')
            v = 62;
        else if (ch == '/')
            v = 63;
        else
            return 0;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            char b = (char)((acc >> bits) & 0xff);
            if (b == ':') return n;
            if (n == idcap) return 0;
            id[n++] = b;
        }
    }
    return 0; /* no ':': not credentials */
}

/* A request's rate-limit key: the client it names when it carries Basic
 * credentials (many clients may share one address behind a proxy, and one
 * client may come from many), else its connection's address. The id is
 * not verified here (that costs a hash); a request with a wrong secret is
 * refused 401 anyway, and it still spends its claimed client's tokens. */
static void net_rate_key(const net_conn *c, const char *authorization, uint8_t key[16])
{
    char id[128];
    size_t n = net_basic_client_id(authorization, id, sizeof id);
    if (!n) {
        memcpy(key, c->addr, 16);
        return;
    }
    uint64_t h1 = 1469598103934665603ULL, h2 = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < n; i++) {
        h1 = (h1 ^ (uint8_t)id[i]) * 1099511628211ULL;
        h2 = (h2 ^ (uint8_t)id[i]) * 0x100000001b3ULL + 0x7f4a7c15ULL;
    }
    memcpy(key, &h1, 8);
    memcpy(key + 8, &h2, 8);
    key[0] ^= 0xc1; /* apart from any address (mapped IPv4 starts with 0) */
}

bool net_server_rate_ok(net_server *s, const net_conn *c, const char *authorization,
                        unsigned *retry_after)
{
    if (!s->rate || !s->limits.requests_per_second_per_client) return true;
    uint8_t key[16];
    net_rate_key(c, authorization, key);
    return net_rate_take(s->rate, key, uv_now(s->loop), s->limits.requests_per_second_per_client,
                         retry_after);
}
