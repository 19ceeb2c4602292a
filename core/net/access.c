/*
 * access.c -- what every request leaves behind when it ends: one JSON line
 * in the access log and its count and duration in the metrics.
 *
 * The line is built by hand into a stack buffer (no printf on the hot path)
 * and handed to the buffered logger, which copies it into its ring and
 * returns: the loop never waits for the log. Loop thread only.
 */
#include "net/net_int.h"

#include <string.h>

enum { NET_LOG_PATH_MAX = 512 };

/* Copies s[0..n) as the inside of a JSON string: quotes, backslashes,
 * control bytes and bytes past ASCII are escaped. Writes at most 6*n bytes. */
static char *net_lput_escaped(char *p, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            *p++ = '\\';
            *p++ = (char)ch;
        } else if (ch < 0x20 || ch >= 0x7f) {
            p = NET_PUT_LIT(p, "\\u00");
            *p++ = hex[ch >> 4];
            *p++ = hex[ch & 15];
        } else {
            *p++ = (char)ch;
        }
    }
    return p;
}

/* The path to log: the decoded path once the headers are in, else the raw
 * URL bytes seen so far, else "-". */
static void net_log_path(const dtr_request *req, const char **s, size_t *n)
{
    if (req->path) {
        *s = req->path;
        *n = strlen(req->path);
    } else if (req->rbuf && req->url_len) {
        *s = req->rbuf->data + req->base + req->url_off;
        *n = req->url_len;
    } else {
        *s = "-";
        *n = 1;
    }
    if (*n > NET_LOG_PATH_MAX) *n = NET_LOG_PATH_MAX;
}

void net_access_record(net_server *s, const dtr_request *req)
{
    if (!s || (!s->log && !s->metrics)) return;
    uint64_t ns = uv_hrtime() - req->start_ns;
    const char *method = req->headers_done ? llhttp_method_name((llhttp_method_t)req->method) : "-";
    if (s->metrics)
        ops_metrics_request(s->metrics, method, req->route ? req->route->pattern : "unmatched",
                            req->status, (double)ns / 1e9);
    if (!s->log) return;

    char line[1024 + 6 * NET_LOG_PATH_MAX + 6 * 128], *p = line;
    char when[32];
    size_t when_len = net_server_log_time(s, when);
    p = NET_PUT_LIT(p, "{\"time\":\"");
    p = net_put(p, when, when_len);
    p = NET_PUT_LIT(p, "\",\"level\":\"info\",\"source\":\"access\",\"method\":\"");
    p = net_put(p, method, strlen(method));
    p = NET_PUT_LIT(p, "\",\"path\":\"");
    const char *path;
    size_t plen;
    net_log_path(req, &path, &plen);
    p = net_lput_escaped(p, path, plen);
    p = NET_PUT_LIT(p, "\",\"status\":");
    p = net_put_uint(p, (uint64_t)req->status);
    p = NET_PUT_LIT(p, ",\"bytes\":");
    p = net_put_uint(p, req->body_bytes_out);
    uint64_t us = ns / 1000;
    p = NET_PUT_LIT(p, ",\"duration_ms\":");
    p = net_put_uint(p, us / 1000);
    *p++ = '.';
    *p++ = (char)('0' + us % 1000 / 100);
    *p++ = (char)('0' + us % 100 / 10);
    *p++ = (char)('0' + us % 10);
    p = NET_PUT_LIT(p, ",\"request_id\":\"");
    p = net_put(p, req->id, strlen(req->id)); /* ids are checked to be plain ASCII */
    *p++ = '"';
    if (req->conn && req->conn->ip[0]) {
        p = NET_PUT_LIT(p, ",\"ip\":\"");
        p = net_put(p, req->conn->ip, strlen(req->conn->ip));
        *p++ = '"';
    }
    if (req->client) {
        size_t n = strlen(req->client); /* at most 128, set by req_set_client */
        p = NET_PUT_LIT(p, ",\"client\":\"");
        p = net_lput_escaped(p, req->client, n);
        *p++ = '"';
    }
    *p++ = '}';
    ops_log_raw(s->log, line, (size_t)(p - line));
}
