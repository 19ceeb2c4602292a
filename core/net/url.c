/*
 * url.c -- the small pieces of URL handling the server needs: percent
 * decoding, splitting a path into segments, and finding a query parameter.
 * Pure functions over byte ranges: no allocation, no state.
 */
#include "net/net_int.h"

#include <string.h>

static int net_hex_value(unsigned char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Decodes %XX escapes (and '+' with NET_DECODE_PLUS). dst may equal src:
 * the output never runs ahead of the input. */
long net_url_decode(char *dst, const char *src, size_t len, unsigned flags)
{
    size_t out = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)src[i];
        if (ch == '%') {
            int hi = i + 2 < len ? net_hex_value((unsigned char)src[i + 1]) : -1;
            int lo = hi >= 0 ? net_hex_value((unsigned char)src[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                if (flags & NET_DECODE_STRICT) return -1;
                dst[out++] = '%';
                continue;
            }
            dst[out++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (ch == '+' && (flags & NET_DECODE_PLUS)) {
            dst[out++] = ' ';
        } else {
            dst[out++] = (char)ch;
        }
    }
    return (long)out;
}

int net_path_split(const char *path, size_t len, net_strv *segs, size_t max)
{
    if (len == 0 || path[0] != '/') return -1;
    if (len == 1) return 0;
    size_t n = 0;
    size_t start = 1;
    for (size_t i = 1; i <= len; i++) {
        if (i < len && path[i] != '/') continue;
        if (n == max) return -1;
        segs[n].p = path + start;
        segs[n].n = i - start;
        n++;
        start = i + 1;
    }
    return (int)n;
}

/* Compares a raw (encoded) query name with a plain one, decoding as it
 * goes, so that no buffer is needed. */
static bool net_query_name_equals(const char *raw, size_t rawlen, const char *name)
{
    size_t j = 0;
    for (size_t i = 0; i < rawlen; i++) {
        unsigned char ch = (unsigned char)raw[i];
        if (ch == '+') {
            ch = ' ';
        } else if (ch == '%' && i + 2 < rawlen) {
            int hi = net_hex_value((unsigned char)raw[i + 1]);
            int lo = hi >= 0 ? net_hex_value((unsigned char)raw[i + 2]) : -1;
            if (hi >= 0 && lo >= 0 && (hi || lo)) {
                ch = (unsigned char)(hi * 16 + lo);
                i += 2;
            }
        }
        if (name[j] == '\0' || (unsigned char)name[j] != ch) return false;
        j++;
    }
    return name[j] == '\0';
}

const char *net_query_find(const char *query, size_t qlen, const char *name, size_t *vlen)
{
    size_t i = 0;
    while (i <= qlen) {
        size_t end = i;
        while (end < qlen && query[end] != '&')
            end++;
        if (end > i) {
            const char *eq = memchr(query + i, '=', end - i);
            size_t namelen = eq ? (size_t)(eq - (query + i)) : end - i;
            if (net_query_name_equals(query + i, namelen, name)) {
                if (eq) {
                    *vlen = (size_t)(query + end - (eq + 1));
                    return eq + 1;
                }
                *vlen = 0;
                return query + end;
            }
        }
        i = end + 1;
    }
    return NULL;
}
