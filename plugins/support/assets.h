/*
 * assets.h -- the web UI's files (www/), compiled into support.so by
 * embed.cmake: name (relative to www/, e.g. "app.css"), bytes and length.
 * The table ends with a row whose name is NULL.
 */
#ifndef SUPPORT_ASSETS_H
#define SUPPORT_ASSETS_H

#include <stddef.h>

typedef struct support_asset {
    const char *name;
    const unsigned char *bytes;
    size_t len;
} support_asset;

extern const support_asset support_assets[];

#endif /* SUPPORT_ASSETS_H */
