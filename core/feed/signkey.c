/*
 * signkey.c -- the server's Ed25519 signing key, <data_dir>/signing.key.
 *
 * The file holds the 32-byte seed the key pair is derived from
 * (crypto_sign_seed_keypair), mode 0600. It is made once, on the first
 * start: the seed of a fresh crypto_sign_keypair goes into a temporary file
 * of this process, which is fsynced and then link()ed to its name. link
 * refuses an existing name, so when two processes start at once exactly one
 * key wins and both read it back; the directory is fsynced after the link.
 * What signs the unilogin files and the portal's webhooks.
 */
#include "errtext.h"
#include "feed/feed.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define SIGNKEY_SEED_BYTES 32

/* Reads exactly n bytes from fd. */
static bool signkey_read_all(int fd, unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        got += (size_t)r;
    }
    return true;
}

static bool signkey_write_all(int fd, const unsigned char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        buf += w;
        n -= (size_t)w;
    }
    return true;
}

/* Reads the seed from path, refusing a file others may read or of the
 * wrong size. */
static int signkey_read_seed(const char *path, unsigned char seed[SIGNKEY_SEED_BYTES], char *err,
                             size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errtext(err, errlen, -1, "%s: %s", path, strerror(errno));
    struct stat sb;
    int rc = -1;
    if (fstat(fd, &sb) != 0)
        errtext(err, errlen, -1, "%s: %s", path, strerror(errno));
    else if (sb.st_mode & 077)
        errtext(err, errlen, -1, "%s: readable by group or others (mode %03o); chmod 600 it", path,
                (unsigned)(sb.st_mode & 0777));
    else if (sb.st_size != SIGNKEY_SEED_BYTES)
        errtext(err, errlen, -1, "%s: %lld bytes, a signing key has %d", path,
                (long long)sb.st_size, SIGNKEY_SEED_BYTES);
    else if (!signkey_read_all(fd, seed, SIGNKEY_SEED_BYTES))
        errtext(err, errlen, -1, "%s: short read", path);
    else
        rc = 0;
    close(fd);
    return rc;
}

static void signkey_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    fsync(fd);
    close(fd);
}

/* Makes a new key file at path (see the file comment). 0 when it is in
 * place (ours or another process's), -1 on error. */
static int signkey_create(const char *data_dir, const char *path, char *err, size_t errlen)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s/.%s.%ld", data_dir, SIGNKEY_FILE, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp)
        return errtext(err, errlen, -1, "data directory path too long");
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return errtext(err, errlen, -1, "%s: %s", tmp, strerror(errno));
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    bool ok =
        fchmod(fd, 0600) == 0 && signkey_write_all(fd, sk, SIGNKEY_SEED_BYTES) && fsync(fd) == 0;
    int saved = errno;
    sodium_memzero(sk, sizeof sk);
    close(fd);
    if (!ok) {
        unlink(tmp);
        return errtext(err, errlen, -1, "%s: %s", tmp, strerror(saved));
    }
    int rc = link(tmp, path);
    saved = errno;
    unlink(tmp);
    if (rc != 0 && saved != EEXIST)
        return errtext(err, errlen, -1, "%s: %s", path, strerror(saved));
    signkey_sync_dir(data_dir);
    return 0;
}

int signkey_load_or_create(const char *data_dir, unsigned char sk[64], unsigned char pk[32],
                           char *err, size_t errlen)
{
    if (sodium_init() < 0) return errtext(err, errlen, -1, "libsodium could not start");
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", data_dir, SIGNKEY_FILE);
    if (n < 0 || (size_t)n >= sizeof path)
        return errtext(err, errlen, -1, "data directory path too long");
    if (access(path, F_OK) != 0) {
        if (errno != ENOENT) return errtext(err, errlen, -1, "%s: %s", path, strerror(errno));
        if (signkey_create(data_dir, path, err, errlen) != 0) return -1;
    }
    unsigned char seed[SIGNKEY_SEED_BYTES];
    if (signkey_read_seed(path, seed, err, errlen) != 0) return -1;
    crypto_sign_seed_keypair(pk, sk, seed);
    sodium_memzero(seed, sizeof seed);
    return 0;
}

void signkey_public_base64(const unsigned char pk[32], char out[SIGNKEY_PK_B64_LEN])
{
    sodium_bin2base64(out, SIGNKEY_PK_B64_LEN, pk, 32, sodium_base64_VARIANT_ORIGINAL);
}
