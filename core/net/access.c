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

/* The length of the well-formed UTF-8 sequence at s[0..n) (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or 0. */
static size_t net_utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf; /* the second byte's range */
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    return len;
}

/* Copies s[0..n) as the inside of a JSON string: quotes, backslashes and
 * control bytes are escaped, UTF-8 is copied as it is (a path of "/æbler"
 * reads "/æbler" in the log), and a byte that is not part of well-formed
 * UTF-8 becomes U+FFFD, so the line is always valid JSON. Writes at most
 * 6*n bytes. */
static char *net_lput_escaped(char *p, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned char ch = u[i];
        if (ch == '"' || ch == '\\') {
            *p++ = '\\';
            *p++ = (char)ch;
            i++;
        } else if (ch < 0x20 || ch == 0x7f) {
            p = NET_PUT_LIT(p, "\\u00");
            *p++ = hex[ch >> 4];
            *p++ = hex[ch & 15];
            i++;
        } else if (ch < 0x80) {
            *p++ = (char)ch;
            i++;
        } else {
            size_t len = net_utf8_len(u + i, n - i);
            if (len) {
                p = net_put(p, s + i, len);
                i += len;
            } else {
                p = NET_PUT_LIT(p, "\\ufffd");
                i++;
            }
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
