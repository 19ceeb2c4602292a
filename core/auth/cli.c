/*
 * cli.c -- `dtr client add|list|revoke|rotate` and `dtr audit verify`.
 *
 * Each runs once on the CLI's main thread against a data directory that a
 * server may be serving at the same time: the database is opened with a
 * busy timeout (the server's writer holds the write lock only for a commit)
 * and every change is one transaction with its audit entry (manage.c).
 * Results go to stdout as JSON, a refusal or failure as one line on stderr.
 */
#include <errno.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "auth/auth_int.h"
#include "store/store.h"

enum { EXIT_DONE = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2 };

/* How long a CLI write waits for the server's (or another CLI's) lock. */
#define CLI_BUSY_TIMEOUT_MS 30000

__attribute__((format(printf, 1, 2))) static int client_usage(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "dtr client: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see dtr client --help)\n");
    return EXIT_USAGE;
}

static void client_help(void)
{
    printf("usage: dtr client add --name NAME --role kommune --kommune 101[,147...]\n"
           "       dtr client add --name NAME --role support|laeser|admin\n"
           "       dtr client list | revoke ID | rotate ID\n");
}

/* Prints json on stdout (indented, one document) and releases it. */
static void print_json(json_t *json)
{
    char *text = json_dumps(json, JSON_INDENT(2));
    if (text) printf("%s\n", text);
    if (text) sodium_memzero(text, strlen(text)); /* it may hold a secret */
    free(text);
    json_decref(json);
    fflush(stdout);
}

/* The audit actor of this run: "cli:" and the unix user. */
static void cli_actor(char *out, size_t len)
{
    struct passwd pw, *found = NULL;
    char buf[1024];
    if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &found) == 0 && found && found->pw_name)
        snprintf(out, len, "cli:%s", found->pw_name);
    else
        snprintf(out, len, "cli:uid%ld", (long)geteuid());
}

/* Store log lines worth a user's eye (warnings and errors) go to stderr. */
static void cli_store_log(void *udata, int level, const char *msg)
{
    (void)udata;
    if (level >= 2) fprintf(stderr, "dtr: %s\n", msg);
}

/* Opens the data directory for a client command: the server key (created
 * when missing), the database migrated by the store, and a read-write
 * store connection of our own. 0, or -1 with a message in err. */
static int open_data_dir(const char *data_dir, uint8_t key[AUTH_KEY_BYTES], store_db **db,
                         char *err, size_t errlen)
{
    *db = NULL;
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium could not start");
        return -1;
    }
    if (audit_load_or_create_key(data_dir, key, err, errlen) != 0) return -1;
    store_options opt = {.data_dir = data_dir,
                         .audit_key = key,
                         .busy_timeout_ms = CLI_BUSY_TIMEOUT_MS,
                         .log = cli_store_log};
    store *s = NULL;
    if (store_open(&opt, &s, err, errlen) != 0) return -1;
    store_close(s);

    *db = store_db_open(data_dir, true, CLI_BUSY_TIMEOUT_MS, err, errlen);
    return *db ? 0 : -1;
}

/* Checks the words and flags of a client command before anything is
 * opened; for add, also parses --kommune into *kommuner. Returns -1 when
 * the usage is fine, else the exit code (EXIT_USAGE). */
static int check_usage(const auth_client_args *a, int **kommuner, size_t *n_kommuner)
{
    *kommuner = NULL;
    *n_kommuner = 0;
    const char *action = a->action;
    if (!action) return client_usage("missing the action (add, list, revoke or rotate)");
    bool add = strcmp(action, "add") == 0;
    bool list = strcmp(action, "list") == 0;
    bool by_id = strcmp(action, "revoke") == 0 || strcmp(action, "rotate") == 0;
    if (!add && !list && !by_id) return client_usage("unknown action \"%s\"", action);
    if (!add && (a->name || a->role || a->kommune))
        return client_usage("--name, --role and --kommune belong to add, not %s", action);
    if (by_id && (!a->id || !*a->id)) return client_usage("%s needs a client id", action);
    if (!by_id && a->id) return client_usage("unexpected argument \"%s\"", a->id);
    if (!add) return -1;

    char err[256];
    reg_role role;
    if (!a->name) return client_usage("add needs --name");
    if (!auth_valid_name(a->name, err, sizeof err)) return client_usage("--name: %s", err);
    if (!a->role) return client_usage("add needs --role");
    if (!auth_role_parse(a->role, &role))
        return client_usage("--role: \"%s\" is not kommune, support, laeser or admin", a->role);
    if (role == REG_ROLE_KOMMUNE && !a->kommune)
        return client_usage("the kommune role needs --kommune CODE[,CODE...]");
    if (role != REG_ROLE_KOMMUNE && a->kommune)
        return client_usage("--kommune belongs to the kommune role, not %s", a->role);
    if (a->kommune && !auth_parse_kommuner(a->kommune, kommuner, n_kommuner, err, sizeof err))
        return client_usage("%s", err);
    return -1;
}

int auth_cli_client_run(const char *data_dir, const auth_client_args *a)
{
    int *kommuner;
    size_t n_kommuner;
    int code = check_usage(a, &kommuner, &n_kommuner);
    if (code >= 0) return code;

    uint8_t key[AUTH_KEY_BYTES];
    store_db *db = NULL;
    char err[512] = "";
    if (open_data_dir(data_dir, key, &db, err, sizeof err) != 0) {
        fprintf(stderr, "dtr client: %s\n", err);
        free(kommuner);
        sodium_memzero(key, sizeof key);
        return EXIT_REFUSED;
    }
    char actor[300];
    cli_actor(actor, sizeof actor);
    json_t *out = NULL;
    int rc;
    if (strcmp(a->action, "add") == 0) {
        auth_new_client c = {
            .name = a->name, .role = a->role, .kommuner = kommuner, .n_kommuner = n_kommuner};
        rc = auth_client_add(db, key, actor, &c, &out, err, sizeof err);
    } else if (strcmp(a->action, "revoke") == 0) {
        rc = auth_client_revoke(db, key, actor, a->id, &out, err, sizeof err);
    } else if (strcmp(a->action, "rotate") == 0) {
        rc = auth_client_rotate(db, key, actor, a->id, &out, err, sizeof err);
    } else {
        rc = auth_client_list(db, &out, err, sizeof err);
    }
    store_db_close(db);
    sodium_memzero(key, sizeof key);
    free(kommuner);
    if (rc != 0) {
        fprintf(stderr, "dtr client %s: %s\n", a->action, err);
        return EXIT_REFUSED;
    }
    print_json(out);
    return EXIT_DONE;
}

int auth_cli_client(const char *data_dir, int argc, char **argv)
{
    auth_client_args a = {0};
    for (int i = 0; i < argc; i++) {
        const char *word = argv[i];
        if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0) {
            client_help();
            return EXIT_DONE;
        }
        if (strncmp(word, "--", 2) != 0 || word[2] == '\0') {
            if (!a.action)
                a.action = word;
            else if (!a.id)
                a.id = word;
            else
                return client_usage("unexpected argument \"%s\"", word);
            continue;
        }
        const char **slot = NULL;
        const char *eq = strchr(word, '=');
        size_t nlen = eq ? (size_t)(eq - word) : strlen(word);
        if (nlen == 6 && strncmp(word, "--name", 6) == 0)
            slot = &a.name;
        else if (nlen == 6 && strncmp(word, "--role", 6) == 0)
            slot = &a.role;
        else if (nlen == 9 && strncmp(word, "--kommune", 9) == 0)
            slot = &a.kommune;
        if (!slot) return client_usage("unknown option \"%s\"", word);
        const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!value || !*value) return client_usage("%s needs a value", word);
        *slot = value;
    }
    return auth_cli_client_run(data_dir, &a);
}

/* A JSON string of text, or null should it not be UTF-8. */
static json_t *text_or_null(const char *text)
{
    json_t *s = json_string(text);
    return s ? s : json_null();
}

int auth_cli_audit_verify(const char *data_dir, int argc, char **argv)
{
    if (argc != 1 || strcmp(argv[0], "verify") != 0) {
        fprintf(stderr, "dtr audit: expected \"verify\" (see dtr audit --help)\n");
        return EXIT_USAGE;
    }
    char path[4096];
    struct stat st;
    /* SQLite: a missing file is "no register here", not an empty one to
     * create (PostgreSQL: the open below says what is missing) */
    if (strcmp(store_driver_name(), "sqlite") == 0 &&
        (store_location(data_dir, path, sizeof path) != 0 || stat(path, &st) != 0)) {
        fprintf(stderr, "dtr audit verify: no register database at %s: %s\n", path,
                strerror(errno));
        return EXIT_REFUSED;
    }
    char keypath[4096];
    snprintf(keypath, sizeof keypath, "%s/server.key", data_dir);
    if (stat(keypath, &st) != 0) {
        fprintf(stderr, "dtr audit verify: no server key at %s: %s\n", keypath, strerror(errno));
        return EXIT_REFUSED;
    }
    uint8_t key[AUTH_KEY_BYTES];
    char err[512] = "";
    if (sodium_init() < 0 || audit_load_or_create_key(data_dir, key, err, sizeof err) != 0) {
        fprintf(stderr, "dtr audit verify: %s\n", err[0] ? err : "libsodium could not start");
        return EXIT_REFUSED;
    }
    audit_report report = {0};
    char open_err[200];
    store_db *db = store_db_open(data_dir, false, CLI_BUSY_TIMEOUT_MS, open_err, sizeof open_err);
    int verdict;
    if (!db) {
        snprintf(report.reason, sizeof report.reason, "cannot open %s", open_err);
        verdict = -1;
    } else {
        verdict = store_db_audit_verify(db, key, &report);
        if (verdict == 0) verdict = store_db_audit_actors(db, &report);
    }
    store_db_close(db);
    sodium_memzero(key, sizeof key);

    print_json(json_pack("{s:b, s:I, s:o, s:o}", "ok", verdict == 0, "entries",
                         (json_int_t)report.entries, "first_bad",
                         report.first_bad_id ? json_integer(report.first_bad_id) : json_null(),
                         "reason", verdict == 0 ? json_null() : text_or_null(report.reason)));
    if (verdict == 0) return EXIT_DONE;
    if (report.first_bad_id)
        fprintf(stderr, "dtr audit verify: the chain breaks at entry %lld: %s\n",
                (long long)report.first_bad_id, report.reason);
    else
        fprintf(stderr, "dtr audit verify: %s\n", report.reason);
    return EXIT_REFUSED;
}
