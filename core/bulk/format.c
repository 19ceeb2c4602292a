/*
 * format.c -- the format plugin for command-line tools (load, call, unload),
 * the register's code lists as the plugin ABI names them, generate, and the
 * data directory lock.
 *
 * A CLI tool loads its format plugin through the same loader as the server
 * (plugin/loader.h: ABI check, config check, init) into a registry of its
 * own. Its host table carries what a format plugin needs outside a server:
 * the logger and the code lists; the register's commands and reads stay
 * NULL, so a plugin that would register routes over them knows it is not
 * serving. Main thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "bulk/bulk_int.h"
#include "register/register.h"

static void set_gone(void *udata)
{
    *(bool *)udata = true;
}

/* Retires the set and runs the loop until the instance is freed and every
 * handle of the loop is closed; then unloads the code. */
static void format_teardown(bulk_format *f)
{
    if (f->set) {
        bool gone = false;
        plug_set_retire(f->set, set_gone, &gone);
        while (!gone)
            uv_run(&f->loop, UV_RUN_ONCE);
        f->set = NULL;
    }
    uv_run(&f->loop, UV_RUN_DEFAULT);
    plug_registry_free(f->reg);
    if (uv_loop_close(&f->loop) != 0) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        uv_loop_close(&f->loop);
    }
    ops_log_free(f->log);
    free(f);
}

bulk_format *bulk_format_open(const char *name, const char *path, const json_t *config,
                              const char *data_dir, char *err, size_t errlen)
{
    bulk_format *f = calloc(1, sizeof *f);
    if (!f) abort();
    if (uv_loop_init(&f->loop) != 0) abort();
    f->log = ops_log_new(2, OPS_LOG_WARN);
    f->reg = plug_registry_new(&f->loop, f->log, data_dir ? data_dir : ".");
    f->set = plug_set_new(f->reg);
    if (plug_set_add(f->set, name, path, config, err, errlen) != DTR_OK ||
        plug_set_start(f->set, err, errlen) != DTR_OK)
        goto fail;
    dtr_plugin *p = plug_set_instance(f->set, 0);
    f->desc = p ? plug_descriptor(p) : NULL;
    f->state = p ? plug_state(p) : NULL;
    if (!f->desc || !(f->desc->kinds & DTR_KIND_FORMAT) || !f->desc->import_read ||
        !f->desc->export_write || !f->desc->export_file_name || !f->desc->generate) {
        snprintf(err, errlen, "plugin \"%s\" (%s) is not a format plugin", name, path);
        goto fail;
    }
    return f;
fail:
    format_teardown(f);
    return NULL;
}

void bulk_format_close(bulk_format *f)
{
    if (f) format_teardown(f);
}

int bulk_generate(bulk_format *f, uint64_t units, uint64_t seed, const char *outdir, char *err,
                  size_t errlen)
{
    char why[1024] = "";
    if (f->desc->generate(f->state, units, seed, outdir, why, sizeof why) != DTR_OK) {
        snprintf(err, errlen, "%s", why[0] ? why : "the format plugin could not generate");
        return -1;
    }
    return 0;
}

int bulk_lock_data_dir(const char *data_dir, int *fd, char *err, size_t errlen)
{
    char path[4096];
    *fd = -1;
    if ((size_t)snprintf(path, sizeof path, "%s/dtr.lock", data_dir) >= sizeof path) {
        snprintf(err, errlen, "data directory %s: path too long", data_dir);
        return -1;
    }
    int d = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (d < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    while (flock(d, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR) continue;
        int e = errno;
        close(d);
        if (e == EWOULDBLOCK) {
            snprintf(err, errlen, "data directory %s is in use by a running server", data_dir);
            return 1;
        }
        snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
        return -1;
    }
    *fd = d;
    return 0;
}
