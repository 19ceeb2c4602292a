/*
 * export.c -- the signed change-set files of the unilogin consumer (see
 * uni_export_write in unilogin.h). Pool thread: blocking file I/O.
 *
 * Order of a write, so that a reader of the directory never sees a .json
 * without its .sig and a crash leaves either the old state or the new:
 *   1. both files' bytes into temporary names (.name.tmp), each fsynced;
 *   2. rename the .sig into place, fsync the directory;
 *   3. rename the .json into place, fsync the directory.
 * A crash between 2 and 3 leaves a .sig without its .json; the batch is
 * then delivered again (the cursor did not move) and both are rewritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unilogin.h"

/* base64 (standard alphabet, padded) of n bytes into out (4 * ((n + 2) / 3)
 * + 1 bytes). */
static void uni_base64(const unsigned char *in, size_t n, char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n) v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? alphabet[v & 63] : '=';
    }
    out[o] = '\0';
}

/* mkdir -p with mode 0750. */
static int uni_mkdirs(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        snprintf(err, errlen, "export directory path too long");
        return -1;
    }
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(path, 0750) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return -1;
        }
        *p = saved;
        if (saved == '\0') break;
    }
    return 0;
}

static int uni_fsync_dir(const char *dir, char *err, size_t errlen)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "fsync %s: %s", dir, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* Writes bytes into tmp (created or truncated, mode 0640) and fsyncs it. */
static int uni_write_synced(const char *tmp, const void *bytes, size_t len, char *err,
                            size_t errlen)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    const char *p = bytes;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            snprintf(err, errlen, "write %s: %s", tmp, w < 0 ? strerror(errno) : "no progress");
            close(fd);
            unlink(tmp);
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        snprintf(err, errlen, "fsync %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    return 0;
}

static int uni_rename(const char *from, const char *to, char *err, size_t errlen)
{
    if (rename(from, to) == 0) return 0;
    snprintf(err, errlen, "rename %s: %s", to, strerror(errno));
    unlink(from);
    return -1;
}

int uni_export_write(const dtr_host_api *api, dtr_plugin *self, const char *dir,
                     const json_t *changes, int64_t fra, int64_t til, char *err, size_t errlen)
{
    if (uni_mkdirs(dir, err, errlen) != 0) return -1;
    char *body = json_dumps(changes, DTR_JSON_WIRE);
    if (!body) {
        snprintf(err, errlen, "cannot serialize the change set");
        return -1;
    }
    size_t body_len = strlen(body);
    unsigned char sig[64];
    char sig_b64[4 * ((sizeof sig + 2) / 3) + 2];
    if (api->sign(self, body, body_len, sig) != DTR_OK) {
        snprintf(err, errlen, "the server's key could not sign the change set");
        free(body);
        return -1;
    }
    uni_base64(sig, sizeof sig, sig_b64);

    char json_path[4200], sig_path[4210], json_tmp[4200], sig_tmp[4210];
    snprintf(json_path, sizeof json_path, "%s/unilogin-%lld-%lld.json", dir, (long long)fra,
             (long long)til);
    snprintf(sig_path, sizeof sig_path, "%s.sig", json_path);
    snprintf(json_tmp, sizeof json_tmp, "%s/.unilogin-%lld-%lld.json.tmp", dir, (long long)fra,
             (long long)til);
    snprintf(sig_tmp, sizeof sig_tmp, "%s/.unilogin-%lld-%lld.json.sig.tmp", dir, (long long)fra,
             (long long)til);

    int rc = -1;
    if (uni_write_synced(json_tmp, body, body_len, err, errlen) != 0) goto done;
    if (uni_write_synced(sig_tmp, sig_b64, strlen(sig_b64), err, errlen) != 0) {
        unlink(json_tmp);
        goto done;
    }
    if (uni_rename(sig_tmp, sig_path, err, errlen) != 0 || uni_fsync_dir(dir, err, errlen) != 0) {
        unlink(json_tmp);
        goto done;
    }
    if (uni_rename(json_tmp, json_path, err, errlen) != 0 || uni_fsync_dir(dir, err, errlen) != 0)
        goto done;
    rc = 0;
done:
    free(body);
    return rc;
}
