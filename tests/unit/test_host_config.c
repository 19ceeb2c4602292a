/*
 * test_host_config.c -- config/dtr.json validation (core/config.c) and the
 * host's config helpers (core/host.c): defaults, every key's type errors
 * with their paths, unknown keys, nonsense values, file errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "host.h"

/* Parses text as JSON and validates it: the config, or NULL with err. */
static cfg_config *parse(const char *text, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    if (!root) fail_msg("test JSON does not parse: %s: %s", text, jerr.text);
    err[0] = '\0';
    cfg_config *cfg = cfg_from_json(root, err, errlen);
    json_decref(root);
    return cfg;
}

/* Asserts that text is refused with exactly the message want. */
static void refused(const char *text, const char *want)
{
    char err[512];
    cfg_config *cfg = parse(text, err, sizeof err);
    if (cfg) {
        cfg_free(cfg);
        fail_msg("accepted: %s", text);
    }
    if (strcmp(err, want) != 0) fail_msg("for %s\n  got:  %s\n  want: %s", text, err, want);
}

static void test_defaults(void **state)
{
    (void)state;
    char err[512];
    cfg_config *cfg = parse("{}", err, sizeof err);
    assert_non_null(cfg);
    assert_string_equal(cfg->listen, "127.0.0.1:8080");
    assert_string_equal(cfg->data_dir, "var");
    assert_true(cfg->public_read);
    assert_int_equal(cfg->limits.max_header_bytes, 16384);
    assert_int_equal(cfg->limits.max_body_bytes, 1048576);
    assert_int_equal(cfg->limits.header_timeout_ms, 10000);
    assert_int_equal(cfg->limits.body_timeout_ms, 30000);
    assert_int_equal(cfg->limits.send_timeout_ms, 60000);
    assert_int_equal(cfg->limits.idle_timeout_ms, 60000);
    assert_int_equal(cfg->limits.shutdown_timeout_ms, 5000);
    assert_int_equal(cfg->limits.max_connections, 10000);
    assert_int_equal(cfg->limits.requests_per_second_per_client, 0);
    assert_int_equal(cfg->limits.max_pipeline, 16);
    assert_int_equal(cfg->limits.max_streams, 64);
    assert_int_equal(cfg->limits.max_streams_per_client, 4);
    assert_int_equal(cfg->limits.max_snapshots, 32);
    assert_int_equal(cfg->limits.max_snapshots_per_client, 4);
    assert_int_equal(cfg->limits.snapshot_max_ms, 600000);
    assert_int_equal(cfg->limits.max_children, 100);
    assert_int_equal(cfg->limits.creates_per_client_per_minute, 600);
    assert_int_equal(cfg->limits.wal_max_bytes, 536870912);
    assert_string_equal(cfg->plugin_dir, "build/plugins");
    assert_string_equal(cfg->store_driver, "sqlite");
    assert_int_equal(cfg->nplugins, 1);
    assert_string_equal(cfg->plugins[0].name, "rest");
    assert_null(cfg->plugins[0].path);
    assert_true(json_is_object(cfg->plugins[0].config));
    assert_int_equal(json_object_size(cfg->plugins[0].config), 0);
    cfg_free(cfg);
}

static void test_every_key_read(void **state)
{
    (void)state;
    char err[512];
    cfg_config *cfg = parse("{\"listen\": \"[::1]:0\", \"data_dir\": \"/tmp/x\", "
                            "\"public_read\": false, \"limits\": {\"max_header_bytes\": 1, "
                            "\"max_body_bytes\": 2, \"header_timeout_ms\": 3, \"body_timeout_ms\": "
                            "4, \"send_timeout_ms\": 5, \"idle_timeout_ms\": 6, "
                            "\"shutdown_timeout_ms\": 7, \"max_connections\": 8, "
                            "\"requests_per_second_per_client\": 9}, \"plugin_dir\": \"pd\", "
                            "\"plugins\": [{\"name\": \"a\", \"path\": \"/x/a.so\", \"config\": "
                            "{\"k\": [1]}}, {\"name\": \"b-2_c\"}]}",
                            err, sizeof err);
    assert_non_null(cfg);
    assert_string_equal(cfg->listen, "[::1]:0");
    assert_string_equal(cfg->data_dir, "/tmp/x");
    assert_false(cfg->public_read);
    assert_int_equal(cfg->limits.max_header_bytes, 1);
    assert_int_equal(cfg->limits.max_body_bytes, 2);
    assert_int_equal(cfg->limits.header_timeout_ms, 3);
    assert_int_equal(cfg->limits.body_timeout_ms, 4);
    assert_int_equal(cfg->limits.send_timeout_ms, 5);
    assert_int_equal(cfg->limits.idle_timeout_ms, 6);
    assert_int_equal(cfg->limits.shutdown_timeout_ms, 7);
    assert_int_equal(cfg->limits.max_connections, 8);
    assert_int_equal(cfg->limits.requests_per_second_per_client, 9);
    assert_string_equal(cfg->plugin_dir, "pd");
    assert_int_equal(cfg->nplugins, 2);
    assert_string_equal(cfg->plugins[0].path, "/x/a.so");
    assert_int_equal(
        json_integer_value(json_array_get(json_object_get(cfg->plugins[0].config, "k"), 0)), 1);
    assert_string_equal(cfg->plugins[1].name, "b-2_c");
    assert_int_equal(json_object_size(cfg->plugins[1].config), 0);

    char path[256];
    assert_true(cfg_plugin_path(cfg, &cfg->plugins[0], path, sizeof path));
    assert_string_equal(path, "/x/a.so");
    assert_true(cfg_plugin_path(cfg, &cfg->plugins[1], path, sizeof path));
    assert_string_equal(path, "pd/b-2_c.so");
    assert_false(cfg_plugin_path(cfg, &cfg->plugins[1], path, 5));
    cfg_free(cfg);
}

static void test_empty_plugins_and_partial_limits(void **state)
{
    (void)state;
    char err[512];
    cfg_config *cfg =
        parse("{\"plugins\": [], \"limits\": {\"max_connections\": 3}}", err, sizeof err);
    assert_non_null(cfg);
    assert_int_equal(cfg->nplugins, 0);
    assert_int_equal(cfg->limits.max_connections, 3);
    assert_int_equal(cfg->limits.max_body_bytes, 1048576); /* the others keep their defaults */
    cfg_free(cfg);
}

static void test_top_level_type_errors(void **state)
{
    (void)state;
    refused("[]", "config: expected a JSON object at the top");
    refused("{\"listen\": 8080}", "config: listen: expected a string");
    refused("{\"listen\": \"\"}", "config: listen: must not be empty");
    refused("{\"listen\": \"localhost\"}", "config: listen: expected \"HOST:PORT\" (port 0-65535)");
    refused("{\"listen\": \"h:65536\"}", "config: listen: expected \"HOST:PORT\" (port 0-65535)");
    refused("{\"listen\": \":80\"}", "config: listen: expected \"HOST:PORT\" (port 0-65535)");
    refused("{\"listen\": \"::1:80\"}", "config: listen: expected \"HOST:PORT\" (port 0-65535)");
    refused("{\"data_dir\": null}", "config: data_dir: expected a string");
    refused("{\"data_dir\": \"\"}", "config: data_dir: must not be empty");
    refused("{\"public_read\": \"yes\"}", "config: public_read: expected true or false");
    refused("{\"public_read\": 1}", "config: public_read: expected true or false");
    refused("{\"limits\": []}", "config: limits: expected an object");
    refused("{\"plugin_dir\": {}}", "config: plugin_dir: expected a string");
    refused("{\"plugins\": {}}", "config: plugins: expected an array");
    refused("{\"listen\": \"a:1\", \"nonsense\": 1}", "config: nonsense: unknown key");
}

/* "store": {"driver", "dsn"}: sqlite without a dsn, postgresql with one;
 * another name, a postgresql without its dsn and a sqlite with one are
 * refused at start with the key in the message. */
static void test_store_driver(void **state)
{
    (void)state;
    char err[512];
    cfg_config *cfg = parse("{\"store\": {\"driver\": \"sqlite\"}}", err, sizeof err);
    if (!cfg) fail_msg("refused: %s", err);
    assert_string_equal(cfg->store_driver, "sqlite");
    assert_null(cfg->store_dsn);
    cfg_free(cfg);
    cfg = parse("{\"store\": {}}", err, sizeof err);
    assert_non_null(cfg);
    assert_string_equal(cfg->store_driver, "sqlite");
    cfg_free(cfg);
    cfg = parse("{\"store\": {\"driver\": \"postgresql\", \"dsn\": \"host=db dbname=dtr\"}}", err,
                sizeof err);
    if (!cfg) fail_msg("refused: %s", err);
    assert_string_equal(cfg->store_driver, "postgresql");
    assert_string_equal(cfg->store_dsn, "host=db dbname=dtr");
    cfg_free(cfg);
    refused("{\"store\": {\"driver\": \"postgresql\"}}",
            "config: store.dsn: required by the postgresql driver (a libpq connection string)");
    refused("{\"store\": {\"dsn\": \"host=db\"}}",
            "config: store.dsn: only the postgresql driver takes a dsn");
    refused("{\"store\": {\"driver\": \"postgresql\", \"dsn\": \"\"}}",
            "config: store.dsn: must not be empty");
    refused("{\"store\": {\"driver\": \"postgresql\", \"dsn\": 5}}",
            "config: store.dsn: expected a string");
    refused("{\"store\": {\"driver\": \"mysql\"}}",
            "config: store.driver: unknown driver \"mysql\" (this build has \"sqlite\" and "
            "\"postgresql\")");
    refused("{\"store\": {\"driver\": 1}}", "config: store.driver: expected a string");
    refused("{\"store\": {\"driver\": \"\"}}", "config: store.driver: must not be empty");
    refused("{\"store\": {\"host\": \"x\"}}", "config: store.host: unknown key");
    refused("{\"store\": \"sqlite\"}", "config: store: expected an object");
}

/* Every limit refuses a string, a fraction, and the values that make no
 * sense for it. */
static void test_limits_errors(void **state)
{
    (void)state;
    static const char *positive[] = {
        "max_header_bytes",    "max_body_bytes",           "header_timeout_ms",
        "body_timeout_ms",     "send_timeout_ms",          "idle_timeout_ms",
        "shutdown_timeout_ms", "max_connections",          "max_pipeline",
        "max_streams",         "max_streams_per_client",   "max_snapshots",
        "snapshot_max_ms",     "max_snapshots_per_client",
    };
    char text[256], want[256];
    for (size_t i = 0; i < sizeof positive / sizeof positive[0]; i++) {
        snprintf(want, sizeof want, "config: limits.%s: expected a positive integer", positive[i]);
        snprintf(text, sizeof text, "{\"limits\": {\"%s\": 0}}", positive[i]);
        refused(text, want);
        snprintf(text, sizeof text, "{\"limits\": {\"%s\": -5}}", positive[i]);
        refused(text, want);
        snprintf(text, sizeof text, "{\"limits\": {\"%s\": \"10\"}}", positive[i]);
        refused(text, want);
        snprintf(text, sizeof text, "{\"limits\": {\"%s\": 1.5}}", positive[i]);
        refused(text, want);
        snprintf(text, sizeof text, "{\"limits\": {\"%s\": null}}", positive[i]);
        refused(text, want);
    }
    refused("{\"limits\": {\"requests_per_second_per_client\": -1}}",
            "config: limits.requests_per_second_per_client: expected a non-negative integer");
    refused("{\"limits\": {\"requests_per_second_per_client\": true}}",
            "config: limits.requests_per_second_per_client: expected a non-negative integer");
    refused("{\"limits\": {\"max_connections\": 4294967296}}",
            "config: limits.max_connections: expected a positive integer, at most 1000000");
    /* values whose arithmetic would overflow: 32-bit buffer offsets, now + timeout */
    refused("{\"limits\": {\"max_header_bytes\": 4294967297}}",
            "config: limits.max_header_bytes: expected a positive integer, at most 1048576");
    refused("{\"limits\": {\"max_body_bytes\": 4294967296}}",
            "config: limits.max_body_bytes: expected a positive integer, at most 1073741824");
    refused("{\"limits\": {\"header_timeout_ms\": 9223372036854775807}}",
            "config: limits.header_timeout_ms: expected a positive integer, at most 604800000");
    refused("{\"limits\": {\"max_pipeline\": 0}}",
            "config: limits.max_pipeline: expected a positive integer");
    refused("{\"limits\": {\"wal_max_bytes\": 4096}}",
            "config: limits.wal_max_bytes: expected an integer of at least 1048576");
    refused("{\"limits\": {\"max_children\": -1}}",
            "config: limits.max_children: expected a non-negative integer");
    refused("{\"limits\": {\"max_body\": 1}}", "config: limits.max_body: unknown key");
}

static void test_plugins_errors(void **state)
{
    (void)state;
    refused("{\"plugins\": [\"rest\"]}", "config: plugins[0]: expected an object");
    refused("{\"plugins\": [{\"name\": \"a\"}, {\"config\": {}}]}",
            "config: plugins[1].name: missing (every plugin entry names its plugin)");
    refused("{\"plugins\": [{\"name\": 5}]}", "config: plugins[0].name: expected a string");
    refused("{\"plugins\": [{\"name\": \"\"}]}", "config: plugins[0].name: must not be empty");
    refused("{\"plugins\": [{\"name\": \"../x\"}]}",
            "config: plugins[0].name: expected a name of letters, digits, '_' and '-'");
    refused("{\"plugins\": [{\"name\": \"a\", \"path\": 1}]}",
            "config: plugins[0].path: expected a string");
    refused("{\"plugins\": [{\"name\": \"a\", \"config\": []}]}",
            "config: plugins[0].config: expected an object");
    refused("{\"plugins\": [{\"name\": \"a\", \"config\": null}]}",
            "config: plugins[0].config: expected an object");
    refused("{\"plugins\": [{\"name\": \"a\", \"confg\": {}}]}",
            "config: plugins[0].confg: unknown key");
    refused("{\"plugins\": [{\"name\": \"a\"}, {\"name\": \"b\"}, {\"name\": \"a\"}]}",
            "config: plugins[2].name: plugin \"a\" is already listed as plugins[0]");
}

static void test_parse_listen(void **state)
{
    (void)state;
    char host[64];
    int port = -1;
    assert_true(cfg_parse_listen("127.0.0.1:8080", host, sizeof host, &port));
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 8080);
    assert_true(cfg_parse_listen("[::1]:0", host, sizeof host, &port));
    assert_string_equal(host, "::1");
    assert_int_equal(port, 0);
    assert_true(cfg_parse_listen("0.0.0.0:65535", host, sizeof host, &port));
    assert_int_equal(port, 65535);
    assert_false(cfg_parse_listen("127.0.0.1", host, sizeof host, &port));
    assert_false(cfg_parse_listen("127.0.0.1:", host, sizeof host, &port));
    assert_false(cfg_parse_listen("127.0.0.1:8o", host, sizeof host, &port));
    assert_false(cfg_parse_listen("127.0.0.1:-1", host, sizeof host, &port));
    assert_false(cfg_parse_listen("[::1]8080", host, sizeof host, &port));
    assert_false(cfg_parse_listen("[::1:8080", host, sizeof host, &port));
    assert_false(cfg_parse_listen("a:123456", host, sizeof host, &port));
    assert_false(cfg_parse_listen("averyveryverylonghostname:1", host, 8, &port));
}

/* Writes text into a fresh temporary file; returns its path (static). */
static const char *temp_file(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/dtr-test-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_load_file_errors(void **state)
{
    (void)state;
    char err[512];
    assert_null(cfg_load("/nonexistent/dtr.json", err, sizeof err));
    assert_string_equal(err,
                        "config: cannot read /nonexistent/dtr.json: No such file or directory");

    const char *path = temp_file("{\n  \"listen\": \"a:1\",\n  \"data_dir\" \"x\"\n}\n");
    assert_null(cfg_load(path, err, sizeof err));
    char want[128];
    snprintf(want, sizeof want, "config: %s:3:", path);
    if (strncmp(err, want, strlen(want)) != 0) fail_msg("got: %s", err);
    unlink(path);

    path = temp_file("{\"listen\": \"a:1\", \"listen\": \"b:2\"}");
    assert_null(cfg_load(path, err, sizeof err));
    if (!strstr(err, "duplicate")) fail_msg("got: %s", err);
    unlink(path);

    path = temp_file("{\"limits\": {\"max_body_bytes\": \"big\"}}");
    assert_null(cfg_load(path, err, sizeof err));
    assert_string_equal(err, "config: limits.max_body_bytes: expected a positive integer");
    unlink(path);
}

/* The repo's own config/dtr.json runs as it is. */
static void test_repo_config_loads(void **state)
{
    (void)state;
    const char *src = getenv("DTR_SOURCE_DIR");
    if (!src) src = ".";
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/config/dtr.json", src);
    cfg_config *cfg = cfg_load(path, err, sizeof err);
    if (!cfg) fail_msg("%s: %s", path, err);
    cfg_free(cfg);
}

static void test_host_load_config_overrides(void **state)
{
    (void)state;
    const char *path = temp_file("{\"listen\": \"127.0.0.1:1\", \"data_dir\": \"d\"}");
    char err[512];
    host_options opts = {.config_path = path, .data_dir = "/srv/x", .listen = "127.0.0.1:0"};
    cfg_config *cfg = host_load_config(&opts, err, sizeof err);
    assert_non_null(cfg);
    assert_string_equal(cfg->data_dir, "/srv/x");
    assert_string_equal(cfg->listen, "127.0.0.1:0");
    cfg_free(cfg);
    host_options plain = {.config_path = path};
    cfg = host_load_config(&plain, err, sizeof err);
    assert_non_null(cfg);
    assert_string_equal(cfg->data_dir, "d");
    assert_string_equal(cfg->listen, "127.0.0.1:1");
    cfg_free(cfg);
    unlink(path);
}

static void test_prepare_data_dir(void **state)
{
    (void)state;
    char base[] = "/tmp/dtr-test-data-XXXXXX";
    assert_non_null(mkdtemp(base));
    char dir[256], abs[4096], err[512];
    snprintf(dir, sizeof dir, "%s/a/b/", base);
    assert_int_equal(host_prepare_data_dir(dir, abs, sizeof abs, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(abs[0], '/');
    char want[300];
    snprintf(want, sizeof want, "%s/a/b", base);
    assert_string_equal(abs, want);
    /* an existing directory is fine */
    assert_int_equal(host_prepare_data_dir(dir, abs, sizeof abs, err, sizeof err), 0);

    /* a relative one is relative to the current directory */
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(base), 0);
    assert_int_equal(host_prepare_data_dir("rel", abs, sizeof abs, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/rel", base);
    assert_string_equal(abs, want);
    assert_int_equal(chdir(cwd), 0);

    /* a file where the directory should be */
    char file[300];
    snprintf(file, sizeof file, "%s/file", base);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(host_prepare_data_dir(file, abs, sizeof abs, err, sizeof err), -1);
    if (!strstr(err, "not a directory")) fail_msg("got: %s", err);
    snprintf(dir, sizeof dir, "%s/file/sub", base);
    assert_int_equal(host_prepare_data_dir(dir, abs, sizeof abs, err, sizeof err), -1);
    if (!strstr(err, "cannot create")) fail_msg("got: %s", err);

    unlink(file);
    snprintf(dir, sizeof dir, "%s/a/b", base);
    rmdir(dir);
    snprintf(dir, sizeof dir, "%s/a", base);
    rmdir(dir);
    snprintf(dir, sizeof dir, "%s/rel", base);
    rmdir(dir);
    rmdir(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_key_read),
        cmocka_unit_test(test_empty_plugins_and_partial_limits),
        cmocka_unit_test(test_top_level_type_errors),
        cmocka_unit_test(test_limits_errors),
        cmocka_unit_test(test_store_driver),
        cmocka_unit_test(test_plugins_errors),
        cmocka_unit_test(test_parse_listen),
        cmocka_unit_test(test_load_file_errors),
        cmocka_unit_test(test_repo_config_loads),
        cmocka_unit_test(test_host_load_config_overrides),
        cmocka_unit_test(test_prepare_data_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
