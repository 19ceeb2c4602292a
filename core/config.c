/*
 * config.c -- reading and validating config/dtr.json (see config.h).
 *
 * Validation walks the document once, key by key, against what API.md
 * allows. Every message starts with "config: " and the dotted path of the
 * offending key ("limits.max_body_bytes", "plugins[1].config"), so that an
 * operator finds it without guessing.
 */
#include "config.h"
#include "store/store_db.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The defaults of API.md's config section. */
static const net_limits cfg_default_limits = {
    .max_header_bytes = 16384,
    .max_body_bytes = 1048576,
    .header_timeout_ms = 10000,
    .body_timeout_ms = 30000,
    .send_timeout_ms = 60000,
    .idle_timeout_ms = 60000,
    .shutdown_timeout_ms = 5000,
    .max_connections = 10000,
    .requests_per_second_per_client = 0,
    .max_pipeline = 16,
    .max_streams = 64,
    .max_streams_per_client = 4,
    .max_snapshots = 32,
    .max_snapshots_per_client = 4,
    .snapshot_max_ms = 600000,
    .max_children = 100,
    .creates_per_client_per_minute = 600,
    .wal_max_bytes = 536870912,
};

static char *cfg_strdup(const char *s)
{
    char *copy = strdup(s);
    if (!copy) abort();
    return copy;
}

/* Formats "config: <path>: <what>" into err; returns false so that callers
 * can `return cfg_fail(...)`. */
__attribute__((format(printf, 4, 5))) static bool cfg_fail(char *err, size_t errlen,
                                                           const char *path, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (err && errlen) snprintf(err, errlen, "config: %s: %s", path, what);
    return false;
}

cfg_config *cfg_default(void)
{
    cfg_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) abort();
    cfg->listen = cfg_strdup("127.0.0.1:8080");
    cfg->data_dir = cfg_strdup("var");
    cfg->public_read = true;
    cfg->limits = cfg_default_limits;
    cfg->sessions = (cfg_sessions){false, 30 * 60 * 1000, 8 * 60 * 60 * 1000};
    cfg->plugin_dir = cfg_strdup("build/plugins");
    cfg->store_driver = cfg_strdup(STORE_DRIVER_DEFAULT);
    cfg->plugins = calloc(1, sizeof *cfg->plugins);
    if (!cfg->plugins) abort();
    cfg->plugins[0].name = cfg_strdup("rest");
    cfg->plugins[0].config = json_object();
    cfg->nplugins = 1;
    return cfg;
}

static void cfg_free_plugins(cfg_plugin *plugins, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(plugins[i].name);
        free(plugins[i].path);
        free(plugins[i].client);
        json_decref(plugins[i].config);
    }
    free(plugins);
}

void cfg_free(cfg_config *cfg)
{
    if (!cfg) return;
    free(cfg->listen);
    free(cfg->data_dir);
    free(cfg->plugin_dir);
    free(cfg->store_driver);
    free(cfg->store_dsn);
    cfg_free_plugins(cfg->plugins, cfg->nplugins);
    free(cfg);
}

void cfg_set_data_dir(cfg_config *cfg, const char *value)
{
    free(cfg->data_dir);
    cfg->data_dir = cfg_strdup(value);
}

void cfg_set_listen(cfg_config *cfg, const char *value)
{
    free(cfg->listen);
    cfg->listen = cfg_strdup(value);
}

/* Splits "HOST:PORT" or "[V6]:PORT". The port is 0..65535 in decimal digits
 * only (0 asks the system for a free port). */
bool cfg_parse_listen(const char *value, char *host, size_t hostlen, int *port)
{
    const char *colon, *hstart, *hend;
    if (!value || !*value) return false;
    if (value[0] == '[') {
        hstart = value + 1;
        hend = strchr(hstart, ']');
        if (!hend || hend[1] != ':') return false;
        colon = hend + 1;
    } else {
        hstart = value;
        colon = strrchr(value, ':');
        if (!colon) return false;
        hend = colon;
        if (memchr(hstart, ':', (size_t)(hend - hstart))) return false; /* v6 needs brackets */
    }
    if (hend == hstart || (size_t)(hend - hstart) >= hostlen) return false;
    const char *p = colon + 1;
    if (!*p || strlen(p) > 5) return false;
    long n = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        n = n * 10 + (*p - '0');
    }
    if (n > 65535) return false;
    memcpy(host, hstart, (size_t)(hend - hstart));
    host[hend - hstart] = '\0';
    *port = (int)n;
    return true;
}

bool cfg_plugin_path(const cfg_config *cfg, const cfg_plugin *p, char *buf, size_t buflen)
{
    int n;
    if (p->path)
        n = snprintf(buf, buflen, "%s", p->path);
    else
        n = snprintf(buf, buflen, "%s/%s.so", cfg->plugin_dir, p->name);
    return n >= 0 && (size_t)n < buflen;
}

/* ---- typed readers: each checks one value and names its path ----------- */

static bool cfg_read_string(const json_t *v, const char *path, char **out, char *err, size_t errlen)
{
    if (!json_is_string(v)) return cfg_fail(err, errlen, path, "expected a string");
    if (json_string_length(v) == 0) return cfg_fail(err, errlen, path, "must not be empty");
    if (strlen(json_string_value(v)) != json_string_length(v))
        return cfg_fail(err, errlen, path, "must not contain a NUL character");
    free(*out);
    *out = cfg_strdup(json_string_value(v));
    return true;
}

/* An integer in [min, max]; the message says which bound it missed. */
static bool cfg_read_integer(const json_t *v, const char *path, long long min, uint64_t max,
                             uint64_t *out, char *err, size_t errlen)
{
    const char *what = min > 0 ? "expected a positive integer" : "expected a non-negative integer";
    if (!json_is_integer(v)) return cfg_fail(err, errlen, path, "%s", what);
    long long n = json_integer_value(v);
    if (n >= 1 && n < min)
        return cfg_fail(err, errlen, path, "expected an integer of at least %lld", min);
    if (n < min) return cfg_fail(err, errlen, path, "%s", what);
    if ((uint64_t)n > max)
        return cfg_fail(err, errlen, path, "%s, at most %llu", what, (unsigned long long)max);
    *out = (uint64_t)n;
    return true;
}

/* A plugin name becomes a file name: letters, digits, '_' and '-' only. */
static bool cfg_valid_plugin_name(const char *s)
{
    if (!*s) return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* ---- sections ----------------------------------------------------------- */

/* "limits": each a bounded integer. The table keeps the key, where it goes
 * and its bounds together. */
typedef struct cfg_limit_key {
    const char *key;
    size_t offset; /* into net_limits */
    size_t size;   /* sizeof the field */
    long long min;
    uint64_t max;
} cfg_limit_key;

#define CFG_LIMIT(field, min, max)                                                                 \
    {                                                                                              \
#field, offsetof(net_limits, field), sizeof(((net_limits *)0)->field), min, max            \
    }

static const cfg_limit_key cfg_limit_keys[] = {
    CFG_LIMIT(max_header_bytes, 1, NET_MAX_HEADER_BYTES_CAP),
    CFG_LIMIT(max_body_bytes, 1, NET_MAX_BODY_BYTES_CAP),
    CFG_LIMIT(header_timeout_ms, 1, NET_TIMEOUT_MS_CAP),
    CFG_LIMIT(body_timeout_ms, 1, NET_TIMEOUT_MS_CAP),
    CFG_LIMIT(send_timeout_ms, 1, NET_TIMEOUT_MS_CAP),
    CFG_LIMIT(idle_timeout_ms, 1, NET_TIMEOUT_MS_CAP),
    CFG_LIMIT(shutdown_timeout_ms, 1, NET_TIMEOUT_MS_CAP),
    CFG_LIMIT(max_connections, 1, NET_MAX_CONNECTIONS_CAP),
    CFG_LIMIT(requests_per_second_per_client, 0, 1000000),
    CFG_LIMIT(max_pipeline, 1, 1024),
    CFG_LIMIT(max_streams, 1, 100000),
    CFG_LIMIT(max_streams_per_client, 1, 100000),
    CFG_LIMIT(max_snapshots, 1, 100000),
    CFG_LIMIT(max_snapshots_per_client, 1, 100000),
    CFG_LIMIT(snapshot_max_ms, 1, NET_TIMEOUT_MS_CAP),
    CFG_LIMIT(max_children, 0, 100000),
    CFG_LIMIT(creates_per_client_per_minute, 0, 1000000),
    CFG_LIMIT(wal_max_bytes, 1048576, 1ull << 40),
};

static bool cfg_read_limits(const json_t *obj, net_limits *limits, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    char path[128];
    if (!json_is_object(obj)) return cfg_fail(err, errlen, "limits", "expected an object");
    json_object_foreach((json_t *)obj, key, v)
    {
        const cfg_limit_key *k = NULL;
        for (size_t i = 0; i < sizeof cfg_limit_keys / sizeof cfg_limit_keys[0]; i++)
            if (strcmp(cfg_limit_keys[i].key, key) == 0) k = &cfg_limit_keys[i];
        snprintf(path, sizeof path, "limits.%s", key);
        if (!k) return cfg_fail(err, errlen, path, "unknown key");
        uint64_t n = 0;
        if (!cfg_read_integer(v, path, k->min, k->max, &n, err, errlen)) return false;
        char *field = (char *)limits + k->offset;
        if (k->size == sizeof(uint64_t)) {
            uint64_t u = n;
            memcpy(field, &u, sizeof u);
        } else if (k->size == sizeof(uint32_t)) {
            uint32_t u = (uint32_t)n;
            memcpy(field, &u, sizeof u);
        } else {
            abort(); /* a net_limits field of a size this table does not know */
        }
    }
    return true;
}

/* "sessions": the web UI's people's sessions (core/auth/person.h). */
static bool cfg_read_sessions(const json_t *obj, cfg_sessions *out, char *err, size_t errlen)
{
    if (!json_is_object(obj)) return cfg_fail(err, errlen, "sessions", "expected an object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        char path[64];
        snprintf(path, sizeof path, "sessions.%s", key);
        uint64_t n = 0;
        if (strcmp(key, "behind_tls") == 0) {
            if (!json_is_boolean(v)) return cfg_fail(err, errlen, path, "expected true or false");
            out->behind_tls = json_is_true(v);
        } else if (strcmp(key, "idle_timeout_ms") == 0 || strcmp(key, "max_age_ms") == 0) {
            if (!cfg_read_integer(v, path, 100, 7 * 24 * 3600 * 1000ull, &n, err, errlen))
                return false;
            *(key[0] == 'i' ? &out->idle_ms : &out->max_ms) = (int64_t)n;
        } else {
            return cfg_fail(err, errlen, path, "unknown key");
        }
    }
    return true;
}

/* "store": {"driver", "dsn"}; the driver must be one this build has
 * (store_driver_check), so that a config naming another is refused at
 * start, before anything is opened. "dsn" (a libpq connection string) is
 * required by "postgresql" and meaningless to "sqlite", so either mistake
 * is refused rather than ignored. */
static bool cfg_read_store(const json_t *obj, cfg_config *cfg, char *err, size_t errlen)
{
    if (!json_is_object(obj)) return cfg_fail(err, errlen, "store", "expected an object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        char path[64];
        snprintf(path, sizeof path, "store.%s", key);
        if (strcmp(key, "driver") == 0) {
            if (!cfg_read_string(v, path, &cfg->store_driver, err, errlen)) return false;
            char why[160];
            if (store_driver_check(cfg->store_driver, why, sizeof why) != 0)
                return cfg_fail(err, errlen, path, "%s", why);
        } else if (strcmp(key, "dsn") == 0) {
            if (!cfg_read_string(v, path, &cfg->store_dsn, err, errlen)) return false;
        } else {
            return cfg_fail(err, errlen, path, "unknown key");
        }
    }
    bool pg = strcmp(cfg->store_driver, "postgresql") == 0;
    if (pg && !cfg->store_dsn)
        return cfg_fail(err, errlen, "store.dsn",
                        "required by the postgresql driver (a libpq connection string)");
    if (!pg && cfg->store_dsn)
        return cfg_fail(err, errlen, "store.dsn", "only the postgresql driver takes a dsn");
    return true;
}

/* One element of "plugins". */
static bool cfg_read_plugin(const json_t *obj, size_t index, cfg_plugin *p, char *err,
                            size_t errlen)
{
    const char *key;
    json_t *v;
    char path[160];
    snprintf(path, sizeof path, "plugins[%zu]", index);
    if (!json_is_object(obj)) return cfg_fail(err, errlen, path, "expected an object");
    json_object_foreach((json_t *)obj, key, v)
    {
        snprintf(path, sizeof path, "plugins[%zu].%s", index, key);
        if (strcmp(key, "name") == 0) {
            if (!cfg_read_string(v, path, &p->name, err, errlen)) return false;
            if (!cfg_valid_plugin_name(p->name))
                return cfg_fail(err, errlen, path,
                                "expected a name of letters, digits, '_' and '-'");
        } else if (strcmp(key, "path") == 0) {
            if (!cfg_read_string(v, path, &p->path, err, errlen)) return false;
        } else if (strcmp(key, "client") == 0) {
            if (!cfg_read_string(v, path, &p->client, err, errlen)) return false;
        } else if (strcmp(key, "config") == 0) {
            if (!json_is_object(v)) return cfg_fail(err, errlen, path, "expected an object");
            json_decref(p->config);
            p->config = json_deep_copy(v);
        } else {
            return cfg_fail(err, errlen, path, "unknown key");
        }
    }
    if (!p->name) {
        snprintf(path, sizeof path, "plugins[%zu].name", index);
        return cfg_fail(err, errlen, path, "missing (every plugin entry names its plugin)");
    }
    if (!p->config) p->config = json_object();
    return true;
}

static bool cfg_read_plugins(const json_t *arr, cfg_config *cfg, char *err, size_t errlen)
{
    if (!json_is_array(arr)) return cfg_fail(err, errlen, "plugins", "expected an array");
    size_t n = json_array_size(arr);
    cfg_plugin *plugins = calloc(n ? n : 1, sizeof *plugins);
    if (!plugins) abort();
    for (size_t i = 0; i < n; i++) {
        if (!cfg_read_plugin(json_array_get(arr, i), i, &plugins[i], err, errlen)) {
            cfg_free_plugins(plugins, n);
            return false;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(plugins[j].name, plugins[i].name) == 0) {
                char path[64];
                snprintf(path, sizeof path, "plugins[%zu].name", i);
                cfg_fail(err, errlen, path, "plugin \"%s\" is already listed as plugins[%zu]",
                         plugins[i].name, j);
                cfg_free_plugins(plugins, n);
                return false;
            }
        }
    }
    cfg_free_plugins(cfg->plugins, cfg->nplugins);
    cfg->plugins = plugins;
    cfg->nplugins = n;
    return true;
}

/* Walks the top-level keys in document order, so the first bad key is the
 * one reported. */
cfg_config *cfg_from_json(const json_t *root, char *err, size_t errlen)
{
    if (!json_is_object(root)) {
        if (err && errlen) snprintf(err, errlen, "config: expected a JSON object at the top");
        return NULL;
    }
    cfg_config *cfg = cfg_default();
    const char *key;
    json_t *v;
    bool ok = true;
    json_object_foreach((json_t *)root, key, v)
    {
        if (strcmp(key, "listen") == 0) {
            char host[256];
            int port;
            ok = cfg_read_string(v, key, &cfg->listen, err, errlen);
            if (ok && !cfg_parse_listen(cfg->listen, host, sizeof host, &port))
                ok = cfg_fail(err, errlen, key, "expected \"HOST:PORT\" (port 0-65535)");
        } else if (strcmp(key, "data_dir") == 0) {
            ok = cfg_read_string(v, key, &cfg->data_dir, err, errlen);
        } else if (strcmp(key, "public_read") == 0) {
            if (json_is_boolean(v))
                cfg->public_read = json_is_true(v);
            else
                ok = cfg_fail(err, errlen, key, "expected true or false");
        } else if (strcmp(key, "limits") == 0) {
            ok = cfg_read_limits(v, &cfg->limits, err, errlen);
        } else if (strcmp(key, "sessions") == 0) {
            ok = cfg_read_sessions(v, &cfg->sessions, err, errlen);
        } else if (strcmp(key, "store") == 0) {
            ok = cfg_read_store(v, cfg, err, errlen);
        } else if (strcmp(key, "plugin_dir") == 0) {
            ok = cfg_read_string(v, key, &cfg->plugin_dir, err, errlen);
        } else if (strcmp(key, "plugins") == 0) {
            ok = cfg_read_plugins(v, cfg, err, errlen);
        } else {
            ok = cfg_fail(err, errlen, key, "unknown key");
        }
        if (!ok) break;
    }
    if (!ok) {
        cfg_free(cfg);
        return NULL;
    }
    return cfg;
}

cfg_config *cfg_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err && errlen)
            snprintf(err, errlen, "config: cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!root) {
        if (err && errlen)
            snprintf(err, errlen, "config: %s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    cfg_config *cfg = cfg_from_json(root, err, errlen);
    json_decref(root);
    return cfg;
}
