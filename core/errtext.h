/*
 * errtext.h -- the one way the core reports why something failed: a
 * formatted one-line reason into the caller's buffer (err, errlen), and a
 * return value, so that a failing function can say both in one statement:
 *
 *     return errtext(err, errlen, -1, "cannot open %s: %s", path, strerror(errno));
 */
#ifndef DTR_ERRTEXT_H
#define DTR_ERRTEXT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Writes the reason into err when err and errlen are given; returns rc. */
__attribute__((format(printf, 4, 5))) static inline int errtext(char *err, size_t errlen, int rc,
                                                                const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

#endif /* DTR_ERRTEXT_H */
