/*
 * log.h -- the buffered logger: lines go into a ring buffer in memory that a
 * writer thread empties into the file descriptor, so the loop never blocks on
 * a slow stderr, pipe or disk. When the ring is full, lines are dropped and
 * counted (a "dropped N lines" line follows when room returns), never waited
 * for.
 *
 * Every line is one JSON object. ops_log_write makes
 *   {"time":"2026-01-02T03:04:05.678Z","level":"info","source":"host","msg":"..."}
 * and ops_log_raw takes a line the caller formatted (the access log).
 */
#ifndef DTR_OPS_LOG_H
#define DTR_OPS_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ops_log ops_log;

typedef enum ops_log_level {
    OPS_LOG_DEBUG = 0,
    OPS_LOG_INFO,
    OPS_LOG_WARN,
    OPS_LOG_ERROR
} ops_log_level;

/* fd: where lines go (2 for stderr; the logger does not close it).
 * min_level: lower levels are dropped. A ring of 1 MiB. */
ops_log *ops_log_new(int fd, ops_log_level min_level);
/* The same with a ring of ring_bytes (at least 4 KiB). */
ops_log *ops_log_new_sized(int fd, ops_log_level min_level, size_t ring_bytes);
/* Writes out what is buffered, stops the writer thread and frees the logger.
 * NULL is allowed. */
void ops_log_free(ops_log *log);
/* A log line {"time","level","source","msg"}; the message is formatted with
 * printf rules and cut at 2 KiB. Any thread; log may be NULL. */
void ops_log_write(ops_log *log, ops_log_level level, const char *source, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ops_log_vwrite(ops_log *log, ops_log_level level, const char *source, const char *fmt,
                    va_list ap) __attribute__((format(printf, 4, 0)));
/* Appends a preformatted line (the logger adds the newline). Any thread;
 * log may be NULL. */
void ops_log_raw(ops_log *log, const char *line, size_t len);
/* Lines dropped so far because the ring was full. Any thread. */
uint64_t ops_log_dropped(ops_log *log);
/* The current UTC time as the logs write it, "2026-01-02T03:04:05.678Z"
 * (24 characters and a NUL). Any thread. */
size_t ops_log_time(char out[32]);

#endif
