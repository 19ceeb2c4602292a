/*
 * log.h -- the buffered logger: lines go into a memory buffer that a
 * background thread writes out, so the loop never blocks on a slow
 * stderr/file. When the buffer is full, lines are dropped and counted
 * (a "dropped N lines" line follows when room returns), never waited for.
 */
#ifndef DTR_OPS_LOG_H
#define DTR_OPS_LOG_H

#include <stdarg.h>
#include <stddef.h>

typedef struct ops_log ops_log;

typedef enum ops_log_level { OPS_LOG_DEBUG = 0, OPS_LOG_INFO, OPS_LOG_WARN, OPS_LOG_ERROR } ops_log_level;

/* fd: where lines go (2 for stderr). min_level: lower levels are dropped. */
ops_log *ops_log_new(int fd, ops_log_level min_level);
/* Flushes what is buffered and frees the logger. */
void ops_log_free(ops_log *log);
/* A human/JSON log line: {"time":...,"level":...,"source":...,"msg":...}. Any thread. */
void ops_log_write(ops_log *log, ops_log_level level, const char *source, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ops_log_vwrite(ops_log *log, ops_log_level level, const char *source, const char *fmt,
                    va_list ap);
/* Appends a preformatted line (a newline is added). Any thread. */
void ops_log_raw(ops_log *log, const char *line, size_t len);

#endif
