/*
 * setup.c -- what every subcommand that works on a data directory needs
 * before it starts: the config with the command line's overrides, and the
 * data directory itself (see host.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "errtext.h"
#include "host.h"
#include "store/store_db.h"

cfg_config *host_load_config(const host_options *opts, char *err, size_t errlen)
{
    const char *path = opts->config_path ? opts->config_path : CFG_DEFAULT_PATH;
    cfg_config *cfg = cfg_load(path, err, errlen);
    if (!cfg) return NULL;
    if (opts->data_dir) cfg_set_data_dir(cfg, opts->data_dir);
    if (opts->listen) cfg_set_listen(cfg, opts->listen);
    return cfg;
}

int host_use_store(const cfg_config *cfg, char *err, size_t errlen)
{
    char why[256];
    if (store_configure(cfg->store_driver, cfg->store_dsn, why, sizeof why) != 0)
        return errtext(err, errlen, -1, "store: %s", why);
    return 0;
}

/* mkdir -p: each missing component in turn. */
int host_prepare_data_dir(const char *dir, char *abs, size_t abslen, char *err, size_t errlen)
{
    char path[PATH_MAX];
    if (!dir || !*dir || strlen(dir) >= sizeof path)
        return errtext(err, errlen, -1, "data directory: bad path \"%s\"", dir ? dir : "");
    strcpy(path, dir);
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(path, 0750) != 0 && errno != EEXIST)
            return errtext(err, errlen, -1, "data directory: cannot create %s: %s", path,
                           strerror(errno));
        *p = saved;
        if (saved == '\0') break;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return errtext(err, errlen, -1, "data directory: %s is not a directory", dir);
    char real[PATH_MAX];
    if (!realpath(dir, real))
        return errtext(err, errlen, -1, "data directory: cannot resolve %s: %s", dir,
                       strerror(errno));
    if (strlen(real) >= abslen) return errtext(err, errlen, -1, "data directory: path too long");
    strcpy(abs, real);
    return 0;
}
