/*
 * main.c -- the command line: `dtr <command> [flags] [args]`.
 *
 * Commands are rows of one table (cli_commands): a name, the flags it takes
 * beside the common --config FILE and --data DIR, how many positional
 * arguments, a help text, and the function that runs it. Parsing is the
 * same for every command: flags may come anywhere after the command's name,
 * as "--flag value" or "--flag=value"; "--" ends the flags. A new command
 * (import, export, client, audit, check, generate) is one more row and one
 * function.
 *
 * Exit codes (API.md): 0 success, 1 refused operation, 2 bad usage; a
 * refusal or a usage error prints one line on stderr.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "auth/auth.h"
#include "auth/person.h"
#include "bulk/bulk.h"
#include "check.h"
#include "dtr/plugin.h"
#include "feed/feed.h"
#include "host.h"

enum { CLI_OK = 0, CLI_REFUSED = 1, CLI_USAGE = 2 };

#define CLI_MAX_FLAGS 8
#define CLI_MAX_ARGS 8

/* A flag of one command. */
typedef struct cli_flag {
    const char *name;    /* "--listen" */
    const char *metavar; /* "HOST:PORT"; NULL for a flag without a value */
    const char *help;
} cli_flag;

/* What the parser found for one invocation. */
typedef struct cli_invocation {
    const struct cli_command *cmd;
    const char *config_path;                /* --config, NULL when not given */
    const char *data_dir;                   /* --data, NULL when not given */
    const char *flag_values[CLI_MAX_FLAGS]; /* by index in cmd->flags; "" for a set switch */
    const char *args[CLI_MAX_ARGS];
    int nargs;
} cli_invocation;

typedef struct cli_command {
    const char *name;
    const char *synopsis;  /* after "dtr <name>" */
    const char *summary;   /* one line for `dtr --help` */
    const cli_flag *flags; /* terminated by a {NULL} entry */
    int min_args, max_args;
    int (*run)(const cli_invocation *inv);
} cli_command;

/* The value of the command's flag called name, NULL when not given. */
static const char *cli_flag_value(const cli_invocation *inv, const char *name)
{
    for (int i = 0; inv->cmd->flags[i].name; i++)
        if (strcmp(inv->cmd->flags[i].name, name) == 0) return inv->flag_values[i];
    return NULL;
}

/* ---- commands ----------------------------------------------------------- */

static int cli_serve(const cli_invocation *inv)
{
    const char *listen = cli_flag_value(inv, "--listen");
    if (listen) {
        char hostpart[256];
        int port;
        if (!cfg_parse_listen(listen, hostpart, sizeof hostpart, &port)) {
            fprintf(stderr, "dtr serve: --listen: expected HOST:PORT (port 0-65535), got \"%s\"\n",
                    listen);
            return CLI_USAGE;
        }
    }
    host_options opts = {
        .config_path = inv->config_path,
        .data_dir = inv->data_dir,
        .listen = listen,
    };
    char err[1024] = "";
    int code = host_serve(&opts, err, sizeof err);
    if (code != 0) fprintf(stderr, "dtr serve: %s\n", err[0] ? err : "failed");
    return code;
}

/* The data directory of a command that works on one: the config (with
 * --config and --data applied) names it; it is created when missing.
 * Returns 0, or the exit code after printing the reason. */
static int cli_data_dir(const cli_invocation *inv, char *abs, size_t abslen)
{
    host_options opts = {.config_path = inv->config_path, .data_dir = inv->data_dir};
    char err[1024];
    cfg_config *cfg = host_load_config(&opts, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "dtr %s: %s\n", inv->cmd->name, err);
        return CLI_REFUSED;
    }
    int rc = host_use_store(cfg, err, sizeof err);
    if (rc == 0) rc = host_prepare_data_dir(cfg->data_dir, abs, abslen, err, sizeof err);
    cfg_free(cfg);
    if (rc != 0) {
        fprintf(stderr, "dtr %s: %s\n", inv->cmd->name, err);
        return CLI_REFUSED;
    }
    return CLI_OK;
}

/* `dtr version [--keys]`: --keys also prints the server's signing key (the
 * data directory's; created on first use). */
static int cli_version(const cli_invocation *inv)
{
    printf("dtr %s (plugin ABI %d.%d)\n", DTR_VERSION, DTR_ABI_MAJOR, DTR_ABI_MINOR);
    if (!cli_flag_value(inv, "--keys")) return CLI_OK;
    char dir[PATH_MAX], err[512];
    int code = cli_data_dir(inv, dir, sizeof dir);
    if (code != CLI_OK) return code;
    unsigned char sk[64], pk[32];
    if (signkey_load_or_create(dir, sk, pk, err, sizeof err) != 0) {
        fprintf(stderr, "dtr version: %s\n", err);
        return CLI_REFUSED;
    }
    sodium_memzero(sk, sizeof sk);
    char b64[SIGNKEY_PK_B64_LEN];
    signkey_public_base64(pk, b64);
    printf("signing-key: %s\n", b64);
    return CLI_OK;
}

/* `dtr client add|list|revoke|rotate` (core/auth does the work). */
static int cli_client(const cli_invocation *inv)
{
    char dir[PATH_MAX];
    auth_client_args args = {
        .action = inv->args[0],
        .id = inv->nargs > 1 ? inv->args[1] : NULL,
        .name = cli_flag_value(inv, "--name"),
        .role = cli_flag_value(inv, "--role"),
        .kommune = cli_flag_value(inv, "--kommune"),
    };
    int code = cli_data_dir(inv, dir, sizeof dir);
    return code != CLI_OK ? code : auth_cli_client_run(dir, &args);
}

/* `dtr user add|list|disable|reset` (core/auth/user.c): the web UI's people. */
static int cli_user(const cli_invocation *inv)
{
    char dir[PATH_MAX];
    int code = cli_data_dir(inv, dir, sizeof dir);
    return code != CLI_OK
               ? code
               : person_cli(dir, inv->args[0], inv->nargs > 1 ? inv->args[1] : NULL,
                            cli_flag_value(inv, "--name"), cli_flag_value(inv, "--role"));
}

/* `dtr audit verify` (core/auth walks the chain). */
static int cli_audit(const cli_invocation *inv)
{
    if (strcmp(inv->args[0], "verify") != 0) {
        fprintf(stderr, "dtr audit: unknown action \"%s\" (see dtr audit --help)\n", inv->args[0]);
        return CLI_USAGE;
    }
    char dir[PATH_MAX];
    int code = cli_data_dir(inv, dir, sizeof dir);
    return code != CLI_OK ? code : auth_cli_audit_verify(dir, inv->nargs, (char **)inv->args);
}

/* ---- import, export, generate (core/bulk does the work) ------------------ */

/* Loads the format plugin "csv" as the config names it (its plugins entry's
 * path and config, else <plugin_dir>/csv.so) and, when data_dir is given,
 * prepares the config's data directory. NULL after printing the reason. */
static bulk_format *cli_open_format(const cli_invocation *inv, char *data_dir, size_t len)
{
    host_options opts = {.config_path = inv->config_path, .data_dir = inv->data_dir};
    char err[1024], path[PATH_MAX];
    cfg_config *cfg = host_load_config(&opts, err, sizeof err);
    bulk_format *f = NULL;
    if (cfg &&
        (host_use_store(cfg, err, sizeof err) != 0 ||
         (data_dir && host_prepare_data_dir(cfg->data_dir, data_dir, len, err, sizeof err) != 0))) {
        cfg_free(cfg);
        cfg = NULL;
    }
    if (cfg) {
        cfg_plugin fallback = {.name = BULK_DEFAULT_FORMAT};
        const cfg_plugin *entry = &fallback;
        for (size_t i = 0; i < cfg->nplugins; i++)
            if (strcmp(cfg->plugins[i].name, BULK_DEFAULT_FORMAT) == 0) entry = &cfg->plugins[i];
        if (!cfg_plugin_path(cfg, entry, path, sizeof path))
            snprintf(err, sizeof err, "plugin \"%s\": path too long", entry->name);
        else
            f = bulk_format_open(entry->name, path, entry->config, data_dir, err, sizeof err);
        cfg_free(cfg);
    }
    if (!f) fprintf(stderr, "dtr %s: %s\n", inv->cmd->name, err);
    return f;
}

/* `dtr import [--dry-run] DIR`: exit 0 when nothing was refused, 1 when a
 * row was (the report says which) or the import could not run. */
static int cli_import(const cli_invocation *inv)
{
    char dir[PATH_MAX], err[1024] = "";
    bulk_format *f = cli_open_format(inv, dir, sizeof dir);
    if (!f) return CLI_REFUSED;
    bulk_import_options opt = {.data_dir = dir,
                               .dir = inv->args[0],
                               .dry_run = cli_flag_value(inv, "--dry-run") != NULL,
                               .progress = isatty(STDOUT_FILENO) && isatty(STDERR_FILENO),
                               .out = stdout};
    int rc = bulk_import(f, &opt, NULL, err, sizeof err);
    bulk_format_close(f);
    if (rc < 0) fprintf(stderr, "dtr import: %s\n", err);
    return rc == 0 ? CLI_OK : CLI_REFUSED;
}

/* `dtr export OUTDIR`: from a read snapshot; may run beside a server. */
static int cli_export(const cli_invocation *inv)
{
    char dir[PATH_MAX], err[1024] = "";
    bulk_format *f = cli_open_format(inv, dir, sizeof dir);
    if (!f) return CLI_REFUSED;
    int rc = bulk_export(f, dir, inv->args[0], err, sizeof err);
    bulk_format_close(f);
    if (rc != 0) fprintf(stderr, "dtr export: %s\n", err);
    return rc == 0 ? CLI_OK : CLI_REFUSED;
}

/* `dtr check`: the consistency report as JSON on stdout; exit 0 when it
 * found nothing, 1 when it found something or could not read the register. */
static int cli_check(const cli_invocation *inv)
{
    host_options opts = {.config_path = inv->config_path, .data_dir = inv->data_dir};
    char err[1024] = "", dir[PATH_MAX];
    cfg_config *cfg = host_load_config(&opts, err, sizeof err);
    int rc = -1;
    if (cfg && host_use_store(cfg, err, sizeof err) == 0 &&
        host_prepare_data_dir(cfg->data_dir, dir, sizeof dir, err, sizeof err) == 0)
        rc = check_register(dir, stdout, err, sizeof err);
    cfg_free(cfg);
    if (rc < 0) fprintf(stderr, "dtr check: %s\n", err);
    return rc == 0 ? CLI_OK : CLI_REFUSED;
}

/* Reads a whole decimal number of at most 18 digits; false otherwise. */
static bool cli_parse_count(const char *s, uint64_t *out)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 18 || strspn(s, "0123456789") != n) return false;
    *out = strtoull(s, NULL, 10);
    return true;
}

/* `dtr generate --units N [--seed S] OUTDIR`. */
static int cli_generate(const cli_invocation *inv)
{
    uint64_t units, seed = 1;
    const char *seed_text = cli_flag_value(inv, "--seed");
    if (!cli_parse_count(cli_flag_value(inv, "--units"), &units) || units == 0) {
        fprintf(stderr, "dtr generate: --units N is required (a positive whole number)\n");
        return CLI_USAGE;
    }
    if (seed_text && !cli_parse_count(seed_text, &seed)) {
        fprintf(stderr, "dtr generate: --seed: expected a whole number, got \"%s\"\n", seed_text);
        return CLI_USAGE;
    }
    char err[1024] = "";
    bulk_format *f = cli_open_format(inv, NULL, 0);
    if (!f) return CLI_REFUSED;
    int rc = bulk_generate(f, units, seed, inv->args[0], err, sizeof err);
    bulk_format_close(f);
    if (rc != 0) fprintf(stderr, "dtr generate: %s\n", err);
    return rc == 0 ? CLI_OK : CLI_REFUSED;
}

static const cli_flag cli_import_flags[] = {
    {"--dry-run", NULL, "decide and report every row, write nothing"},
    {NULL, NULL, NULL},
};
static const cli_flag cli_generate_flags[] = {
    {"--units", "N", "how many anvisningsenheder (required)"},
    {"--seed", "S", "the random seed (default 1): the same seed gives the same files"},
    {NULL, NULL, NULL},
};

static const cli_flag cli_serve_flags[] = {
    {"--listen", "HOST:PORT", "listen here instead of the config's \"listen\" (port 0: any)"},
    {NULL, NULL, NULL},
};
static const cli_flag cli_version_flags[] = {
    {"--keys", NULL, "also print the server's signing key (signing-key: <base64>)"},
    {NULL, NULL, NULL},
};
static const cli_flag cli_client_flags[] = {
    {"--name", "NAME", "add: the client's name"},
    {"--role", "ROLE", "add: kommune, support, laeser or admin"},
    {"--kommune", "101[,147...]", "add: the kommune role's kommunekoder"},
    {NULL, NULL, NULL},
};
static const cli_flag cli_user_flags[] = {
    {"--name", "NAME", "add: the person's login name (a-z, 0-9, '.', '_', '-')"},
    {"--role", "ROLE", "add: support or laeser"},
    {NULL, NULL, NULL},
};
static const cli_flag cli_no_flags[] = {{NULL, NULL, NULL}};

static const cli_command cli_commands[] = {
    {"serve", "[--listen HOST:PORT]", "serve the register over HTTP until SIGTERM", cli_serve_flags,
     0, 0, cli_serve},
    {"client", "add|list|revoke ID|rotate ID", "manage the client systems and their secrets",
     cli_client_flags, 1, 2, cli_client},
    {"user", "add|list|disable N|reset N", "manage the people who log in to the web UI",
     cli_user_flags, 1, 2, cli_user},
    {"audit", "verify", "verify the hash chain of the audit log", cli_no_flags, 1, 1, cli_audit},
    {"import", "[--dry-run] DIR",
     "import daginstitution.csv, anvisningsenhed.csv, "
     "alternativadresse.csv from DIR",
     cli_import_flags, 1, 1, cli_import},
    {"export", "OUTDIR", "write the register's three CSV files into OUTDIR", cli_no_flags, 1, 1,
     cli_export},
    {"generate", "--units N [--seed S] OUTDIR", "write a synthetic register in the CSV layout",
     cli_generate_flags, 1, 1, cli_generate},
    {"check", "",
     "the consistency report (JSON): dagtilbud without units in effect, units "
     "without P-nummer",
     cli_no_flags, 0, 0, cli_check},
    {"version", "[--keys]", "print the version and the plugin ABI", cli_version_flags, 0, 0,
     cli_version},
};
#define CLI_NCOMMANDS (sizeof cli_commands / sizeof cli_commands[0])

/* ---- help --------------------------------------------------------------- */

static void cli_print_help(FILE *out)
{
    fprintf(out, "usage: dtr <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < CLI_NCOMMANDS; i++)
        fprintf(out, "  %-8s %-30s %s\n", cli_commands[i].name, cli_commands[i].synopsis,
                cli_commands[i].summary);
    fprintf(out,
            "\noptions of every command (anywhere after its name):\n"
            "  --config FILE   the config file (default %s)\n"
            "  --data DIR      the data directory (overrides the config's data_dir)\n"
            "  --help          this command's help\n"
            "\nRelative paths in the config and on the command line are relative to the\n"
            "current directory. Exit codes: 0 success, 1 refused, 2 bad usage.\n",
            CFG_DEFAULT_PATH);
}

static void cli_print_command_help(const cli_command *cmd)
{
    printf("usage: dtr %s %s\n\n%s\n\noptions:\n", cmd->name, cmd->synopsis, cmd->summary);
    for (int i = 0; cmd->flags[i].name; i++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", cmd->flags[i].name, cmd->flags[i].metavar ? " " : "",
                 cmd->flags[i].metavar ? cmd->flags[i].metavar : "");
        printf("  %-20s %s\n", left, cmd->flags[i].help);
    }
    printf("  %-20s %s\n", "--config FILE", "the config file (default " CFG_DEFAULT_PATH ")");
    printf("  %-20s %s\n", "--data DIR", "the data directory (overrides the config's data_dir)");
}

/* ---- parsing ------------------------------------------------------------ */

static const cli_command *cli_find(const char *name)
{
    for (size_t i = 0; i < CLI_NCOMMANDS; i++)
        if (strcmp(cli_commands[i].name, name) == 0) return &cli_commands[i];
    return NULL;
}

/* Reports a usage error on stderr; returns CLI_USAGE. */
__attribute__((format(printf, 2, 3))) static int cli_usage(const cli_command *cmd, const char *fmt,
                                                           ...)
{
    va_list ap;
    fprintf(stderr, "dtr %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see dtr %s --help)\n", cmd->name);
    return CLI_USAGE;
}

/* Parses argv[first..] for cmd into inv. Returns -1 when parsing went
 * well, or the exit code to leave with (usage error, or 0 after --help). */
static int cli_parse(const cli_command *cmd, int argc, char **argv, int first, cli_invocation *inv)
{
    memset(inv, 0, sizeof *inv);
    inv->cmd = cmd;
    bool flags_done = false;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (flags_done || a[0] != '-' || a[1] == '\0') {
            if (inv->nargs >= cmd->max_args || inv->nargs >= CLI_MAX_ARGS)
                return cli_usage(cmd, "unexpected argument \"%s\"", a);
            inv->args[inv->nargs++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            flags_done = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cli_print_command_help(cmd);
            return CLI_OK;
        }
        /* "--name=value" or "--name value" */
        char name[64];
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        if (nlen >= sizeof name) return cli_usage(cmd, "unknown option \"%s\"", a);
        memcpy(name, a, nlen);
        name[nlen] = '\0';
        const char **slot = NULL;
        bool takes_value = true;
        if (strcmp(name, "--config") == 0) {
            slot = &inv->config_path;
        } else if (strcmp(name, "--data") == 0) {
            slot = &inv->data_dir;
        } else {
            for (int f = 0; cmd->flags[f].name; f++) {
                if (strcmp(cmd->flags[f].name, name) != 0) continue;
                slot = &inv->flag_values[f];
                takes_value = cmd->flags[f].metavar != NULL;
            }
        }
        if (!slot) return cli_usage(cmd, "unknown option \"%s\"", name);
        if (!takes_value) {
            if (eq) return cli_usage(cmd, "%s takes no value", name);
            *slot = "";
            continue;
        }
        const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!value || !*value) return cli_usage(cmd, "%s needs a value", name);
        *slot = value;
    }
    if (inv->nargs < cmd->min_args) return cli_usage(cmd, "missing argument");
    return -1;
}

int main(int argc, char **argv)
{
    /* a JSON value that could not be made ends the process (store.h) */
    json_set_alloc_funcs(store_json_malloc, free);
    if (argc < 2) {
        cli_print_help(stderr);
        return CLI_USAGE;
    }
    const char *word = argv[1];
    if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0 || strcmp(word, "help") == 0) {
        cli_print_help(stdout);
        return CLI_OK;
    }
    if (strcmp(word, "--version") == 0) word = "version";
    const cli_command *cmd = cli_find(word);
    if (!cmd) {
        fprintf(stderr, "dtr: unknown command \"%s\" (see dtr --help)\n", word);
        return CLI_USAGE;
    }
    cli_invocation inv;
    int early = cli_parse(cmd, argc, argv, 2, &inv);
    if (early >= 0) return early;
    return cmd->run(&inv);
}
