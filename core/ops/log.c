/*
 * log.c -- the buffered logger (see log.h).
 *
 * Producers (any thread) copy a line into the ring under a mutex and leave;
 * the lock is held for a memcpy of one line, never for I/O. The writer
 * thread takes what is in the ring, writes it outside the lock with as few
 * write() calls as the ring's wrap allows, and then pauses briefly, so that
 * under load lines leave in large batches (one syscall for hundreds of
 * lines) and producers need not wake it: they signal only when it sleeps
 * waiting for work.
 */
#include "ops/log.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
    OPS_LOG_DEFAULT_RING = 1024 * 1024,
    OPS_LOG_MIN_RING = 4096,
    OPS_LOG_MSG_MAX = 2048,
    OPS_LOG_BATCH_PAUSE_US = 2000, /* the writer's pause after a write */
};

struct ops_log {
    int fd;
    ops_log_level min_level;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    char *ring;
    size_t cap;
    uint64_t head, tail; /* bytes ever written in / taken out */
    uint64_t dropped;    /* since the last "dropped" line */
    uint64_t dropped_total;
    bool stop, writer_waiting;
    pthread_t thread;
};

size_t ops_log_time(char out[32])
{
    static __thread time_t cached_sec = -1;
    static __thread char cached[64];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cached_sec = ts.tv_sec;
    }
    memcpy(out, cached, 19);
    long ms = ts.tv_nsec / 1000000;
    out[19] = '.';
    out[20] = (char)('0' + ms / 100);
    out[21] = (char)('0' + ms / 10 % 10);
    out[22] = (char)('0' + ms % 10);
    out[23] = 'Z';
    out[24] = '\0';
    return 24;
}

/* Writes all of buf, waiting (this is the writer thread) when the
 * descriptor is non-blocking and full. Gives up on other errors. */
static void ops_log_write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            poll(&pfd, 1, 100);
        } else {
            return;
        }
    }
}

static void ops_log_write_dropped(ops_log *log, uint64_t n)
{
    char when[32], line[160];
    ops_log_time(when);
    int len = snprintf(line, sizeof line,
                       "{\"time\":\"%s\",\"level\":\"warn\",\"source\":\"log\",\"msg\":\"dropped "
                       "%llu lines: the log could not keep up\"}\n",
                       when, (unsigned long long)n);
    if (len > 0) ops_log_write_all(log->fd, line, (size_t)len);
}

static void *ops_log_writer(void *arg)
{
    ops_log *log = arg;
    pthread_mutex_lock(&log->mu);
    for (;;) {
        while (log->head == log->tail && !log->dropped && !log->stop) {
            log->writer_waiting = true;
            pthread_cond_wait(&log->wake, &log->mu);
            log->writer_waiting = false;
        }
        if (log->head == log->tail && !log->dropped && log->stop) break;
        uint64_t head = log->head, tail = log->tail, dropped = log->dropped;
        log->dropped = 0;
        bool stopping = log->stop;
        pthread_mutex_unlock(&log->mu);

        size_t from = (size_t)(tail % log->cap), len = (size_t)(head - tail);
        size_t first = len < log->cap - from ? len : log->cap - from;
        ops_log_write_all(log->fd, log->ring + from, first);
        if (len > first) ops_log_write_all(log->fd, log->ring, len - first);
        if (dropped) ops_log_write_dropped(log, dropped);
        if (!stopping) usleep(OPS_LOG_BATCH_PAUSE_US);

        pthread_mutex_lock(&log->mu);
        log->tail = head;
    }
    pthread_mutex_unlock(&log->mu);
    return NULL;
}

ops_log *ops_log_new_sized(int fd, ops_log_level min_level, size_t ring_bytes)
{
    ops_log *log = calloc(1, sizeof *log);
    if (!log) return NULL;
    log->fd = fd;
    log->min_level = min_level;
    log->cap = ring_bytes < OPS_LOG_MIN_RING ? OPS_LOG_MIN_RING : ring_bytes;
    log->ring = malloc(log->cap);
    if (!log->ring) {
        free(log);
        return NULL;
    }
    pthread_mutex_init(&log->mu, NULL);
    pthread_cond_init(&log->wake, NULL);
    if (pthread_create(&log->thread, NULL, ops_log_writer, log) != 0) {
        pthread_cond_destroy(&log->wake);
        pthread_mutex_destroy(&log->mu);
        free(log->ring);
        free(log);
        return NULL;
    }
    return log;
}

ops_log *ops_log_new(int fd, ops_log_level min_level)
{
    return ops_log_new_sized(fd, min_level, OPS_LOG_DEFAULT_RING);
}

void ops_log_free(ops_log *log)
{
    if (!log) return;
    pthread_mutex_lock(&log->mu);
    log->stop = true;
    pthread_cond_signal(&log->wake);
    pthread_mutex_unlock(&log->mu);
    pthread_join(log->thread, NULL);
    pthread_cond_destroy(&log->wake);
    pthread_mutex_destroy(&log->mu);
    free(log->ring);
    free(log);
}

void ops_log_raw(ops_log *log, const char *line, size_t len)
{
    if (!log) return;
    pthread_mutex_lock(&log->mu);
    if (log->stop || log->head - log->tail + len + 1 > log->cap) {
        log->dropped++;
        log->dropped_total++;
        pthread_mutex_unlock(&log->mu);
        return;
    }
    size_t at = (size_t)(log->head % log->cap);
    size_t first = len < log->cap - at ? len : log->cap - at;
    memcpy(log->ring + at, line, first);
    memcpy(log->ring, line + first, len - first);
    log->ring[(log->head + len) % log->cap] = '\n';
    log->head += len + 1;
    bool wake = log->writer_waiting;
    pthread_mutex_unlock(&log->mu);
    if (wake) pthread_cond_signal(&log->wake);
}

uint64_t ops_log_dropped(ops_log *log)
{
    if (!log) return 0;
    pthread_mutex_lock(&log->mu);
    uint64_t n = log->dropped_total;
    pthread_mutex_unlock(&log->mu);
    return n;
}

/* Appends s as the inside of a JSON string, stopping before end. */
static char *ops_log_escape(char *p, const char *end, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
        if (end - p < 8) {
            memcpy(p, "...", 3);
            return p + 3;
        }
        switch (*u) {
        case '"':
            *p++ = '\\';
            *p++ = '"';
            break;
        case '\\':
            *p++ = '\\';
            *p++ = '\\';
            break;
        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;
        case '\r':
            *p++ = '\\';
            *p++ = 'r';
            break;
        case '\t':
            *p++ = '\\';
            *p++ = 't';
            break;
        default:
            if (*u < 0x20) {
                memcpy(p, "\\u00", 4);
                p[4] = hex[*u >> 4];
                p[5] = hex[*u & 15];
                p += 6;
            } else {
                *p++ = (char)*u;
            }
        }
    }
    return p;
}

static const char *ops_log_level_name(ops_log_level level)
{
    switch (level) {
    case OPS_LOG_DEBUG:
        return "debug";
    case OPS_LOG_INFO:
        return "info";
    case OPS_LOG_WARN:
        return "warn";
    case OPS_LOG_ERROR:
        return "error";
    }
    return "error";
}

void ops_log_vwrite(ops_log *log, ops_log_level level, const char *source, const char *fmt,
                    va_list ap)
{
    if (!log || level < log->min_level) return;
    char msg[OPS_LOG_MSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    char line[OPS_LOG_MSG_MAX * 2 + 256], *p = line;
    char *end = line + sizeof line - 4;
    memcpy(p, "{\"time\":\"", 9);
    p += 9;
    p += ops_log_time(p);
    const char *lv = ops_log_level_name(level);
    p += sprintf(p, "\",\"level\":\"%s\",\"source\":\"", lv);
    p = ops_log_escape(p, line + 200, source ? source : "-");
    memcpy(p, "\",\"msg\":\"", 9);
    p += 9;
    p = ops_log_escape(p, end, msg);
    memcpy(p, "\"}", 2);
    p += 2;
    ops_log_raw(log, line, (size_t)(p - line));
}

void ops_log_write(ops_log *log, ops_log_level level, const char *source, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ops_log_vwrite(log, level, source, fmt, ap);
    va_end(ap);
}
