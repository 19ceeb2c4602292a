/*
 * config.h -- the server's one JSON config (config/dtr.json), read with
 * jansson and validated up front.
 *
 * Every key of API.md's config section is optional and has a default; an
 * unknown key, a wrong type or a value that makes no sense (a zero
 * max_connections, a negative timeout) is refused with the key's path in the
 * message, e.g. "config: limits.max_body_bytes: expected a positive integer".
 *
 * Paths in the config (data_dir, plugin_dir, plugins[].path) are taken as
 * written: a relative one is relative to the current directory of the
 * process, not to the config file. The host makes data_dir absolute when it
 * creates it.
 *
 * A cfg_config owns all its strings and json_t values; cfg_free releases
 * them. Pure functions: no globals, any thread.
 */
#ifndef DTR_CONFIG_H
#define DTR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "net/net.h"

/* The path used when no --config is given. */
#define CFG_DEFAULT_PATH "config/dtr.json"

/* One entry of "plugins": which plugin to load and its own config. */
/* "sessions": {"behind_tls", "idle_timeout_ms", "max_age_ms"}. */
typedef struct cfg_sessions {
    bool behind_tls; /* the session cookie gets Secure */
    int64_t idle_ms; /* default 30 minutes */
    int64_t max_ms;  /* default 8 hours */
} cfg_sessions;

typedef struct cfg_plugin {
    char *name;     /* the plugin's name; the descriptor must carry the same */
    char *path;     /* the .so to load, as written; NULL: <plugin_dir>/<name>.so */
    char *client;   /* the client id the plugin acts as when no request asks
                       (identity_configured); NULL: none */
    json_t *config; /* its "config" subtree (an empty object when absent); owned */
} cfg_plugin;

typedef struct cfg_config {
    char *listen;          /* "HOST:PORT" */
    char *data_dir;        /* as written (relative: to the current directory) */
    bool public_read;      /* GETs under /v1 open to all */
    net_limits limits;     /* "limits" */
    cfg_sessions sessions; /* "sessions": the web UI's */
    char *store_driver;    /* "store": {"driver"}: "sqlite" (the default) or "postgresql" */
    char *store_dsn;       /* "store": {"dsn"}: postgresql's libpq connection string; NULL
                              for sqlite. Never logged as it is (it may hold a password) */
    char *plugin_dir;      /* where plugins without "path" are found */
    cfg_plugin *plugins;   /* in config order: the order they are loaded and started */
    size_t nplugins;
} cfg_config;

/* Returns a config with every default of API.md. Never NULL (aborts when out
 * of memory). */
cfg_config *cfg_default(void);

/* Validates a parsed JSON document (borrowed) and returns the config it
 * describes, or NULL with the reason in err ("config: <path>: <what>"). */
cfg_config *cfg_from_json(const json_t *root, char *err, size_t errlen);

/* Reads and validates the file at path. NULL with the reason in err (a file
 * that cannot be read, a JSON syntax error with its line and column, a
 * refused key). Duplicate keys in an object are refused. */
cfg_config *cfg_load(const char *path, char *err, size_t errlen);

/* Frees a config and everything it owns. NULL is allowed. */
void cfg_free(cfg_config *cfg);

/* Replaces cfg->data_dir / cfg->listen with a copy of value (the --data and
 * --listen flags). */
void cfg_set_data_dir(cfg_config *cfg, const char *value);
void cfg_set_listen(cfg_config *cfg, const char *value);

/* Checks a "HOST:PORT" address (HOST may be "[v6]"): returns true and fills
 * host (without brackets) and *port when it is well formed. */
bool cfg_parse_listen(const char *value, char *host, size_t hostlen, int *port);

/* The path of the .so for a plugin entry: its "path", or
 * <plugin_dir>/<name>.so. Writes into buf; false when it does not fit. */
bool cfg_plugin_path(const cfg_config *cfg, const cfg_plugin *p, char *buf, size_t buflen);

#endif /* DTR_CONFIG_H */
