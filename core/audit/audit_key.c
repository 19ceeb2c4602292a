/*
 * audit_key.c -- the server's audit key file, <data_dir>/server.key.
 *
 * 32 random bytes, mode 0600. Created once, on the first start: written to
 * a temporary file of its own, fsynced, then link()ed to its name (link
 * fails when the name exists, so two processes starting at once cannot
 * both win; the loser reads the winner's key), and the directory fsynced.
 */
#include "audit/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

static int key_read(const char *path, uint8_t key[AUDIT_KEY_BYTES], char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (sb.st_mode & 077) {
        snprintf(err, errlen, "%s: readable by group or others (mode %03o); chmod 600 it", path,
                 (unsigned)(sb.st_mode & 0777));
        close(fd);
        return -1;
    }
    if (sb.st_size != AUDIT_KEY_BYTES) {
        snprintf(err, errlen, "%s: %lld bytes, a key has %d", path, (long long)sb.st_size,
                 AUDIT_KEY_BYTES);
        close(fd);
        return -1;
    }
    size_t got = 0;
    while (got < AUDIT_KEY_BYTES) {
        ssize_t n = read(fd, key + got, AUDIT_KEY_BYTES - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            snprintf(err, errlen, "%s: short read", path);
            close(fd);
            return -1;
        }
        got += (size_t)n;
    }
    close(fd);
    return 0;
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Writes a fresh key under a temporary name and links it to path. Returns
 * 0 when this process created the key, 1 when another process had created
 * it first, -1 on error. */
static int key_create(const char *data_dir, const char *path, char *err, size_t errlen)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/.server.key.%ld", data_dir, (long)getpid());
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    uint8_t key[AUDIT_KEY_BYTES];
    randombytes_buf(key, sizeof key);
    bool ok = fchmod(fd, 0600) == 0 && write_all(fd, key, sizeof key) && fsync(fd) == 0;
    int saved = errno;
    sodium_memzero(key, sizeof key);
    close(fd);
    if (!ok) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(saved));
        unlink(tmp);
        return -1;
    }
    int rc = link(tmp, path);
    saved = errno;
    unlink(tmp);
    if (rc != 0 && saved == EEXIST) return 1;
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(saved));
        return -1;
    }
    sync_dir(data_dir);
    return 0;
}

int audit_load_or_create_key(const char *data_dir, uint8_t key[AUDIT_KEY_BYTES], char *err,
                             size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium could not start");
        return -1;
    }
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/server.key", data_dir);
    if (n < 0 || (size_t)n >= sizeof path) {
        snprintf(err, errlen, "data directory path too long");
        return -1;
    }
    if (access(path, F_OK) != 0) {
        if (errno != ENOENT) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return -1;
        }
        if (key_create(data_dir, path, err, errlen) < 0) return -1;
    }
    return key_read(path, key, err, errlen);
}
