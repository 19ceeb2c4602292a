/*
 * bench_auth_cache.c -- what authenticating a request costs on the loop
 * thread: auth_cache_check with a valid header (parse, base64, keyed hash,
 * constant-time compare, the PRAGMA data_version look), the same when every
 * request follows a write of the register (data_version moved: one more
 * read of client_generation), and a full reload after a client change.
 *
 * Run by hand: build/bench/bench_auth_cache [clients] [checks]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "auth/auth.h"
#include "store/store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *err)
{
    fprintf(stderr, "bench_auth_cache: %s: %s\n", what, err);
    exit(1);
}

static void quiet(void *udata, int level, const char *msg)
{
    (void)udata;
    if (level >= 2) fprintf(stderr, "store: %s\n", msg);
}

int main(int argc, char **argv)
{
    size_t n_clients = argc > 1 ? strtoul(argv[1], NULL, 10) : 200;
    size_t checks = argc > 2 ? strtoul(argv[2], NULL, 10) : 200000;
    if (n_clients == 0 || checks == 0 || sodium_init() < 0) return 2;

    char dir[] = "/tmp/bench_auth_XXXXXX", path[64], err[256] = "";
    if (!mkdtemp(dir)) die("mkdtemp", "failed");
    snprintf(path, sizeof path, "%s/dtr.sqlite", dir);
    uint8_t key[AUTH_KEY_BYTES];
    if (audit_load_or_create_key(dir, key, err, sizeof err) != 0) die("key", err);
    store_options opt = {.data_dir = dir, .audit_key = key, .log = quiet};
    store *s = NULL;
    if (store_open(&opt, &s, err, sizeof err) != 0) die("store", err);
    store_close(s);

    sqlite3 *db = NULL;
    sqlite3_open(path, &db);
    sqlite3_busy_timeout(db, 10000);
    sqlite3_exec(db, "PRAGMA synchronous = OFF", NULL, NULL, NULL);
    store_db *sdb = store_db_open(dir, true, 10000, err, sizeof err);
    if (!sdb) die("store_db_open", err);
    char(*headers)[256] = calloc(n_clients, sizeof *headers);
    for (size_t i = 0; i < n_clients; i++) {
        char name[32];
        snprintf(name, sizeof name, "client %zu", i);
        auth_new_client c = {.name = name, .role = "laeser"};
        json_t *out = NULL;
        if (auth_client_add(sdb, key, "bench", &c, &out, err, sizeof err) != 0) die("add", err);
        char plain[128], b64[200];
        snprintf(plain, sizeof plain, "%s:%s", json_string_value(json_object_get(out, "clientId")),
                 json_string_value(json_object_get(out, "secret")));
        sodium_bin2base64(b64, sizeof b64, (const unsigned char *)plain, strlen(plain),
                          sodium_base64_VARIANT_ORIGINAL);
        snprintf(headers[i], sizeof headers[i], "Basic %s", b64);
        json_decref(out);
    }

    auth_cache *c = auth_cache_open(dir, key, err, sizeof err);
    if (!c) die("cache", err);
    const auth_client *client = NULL;

    /* 1. steady state: nothing changes between requests */
    double t0 = now_s();
    for (size_t i = 0; i < checks; i++)
        if (auth_cache_check(c, headers[i % n_clients], &client) != DTR_OK)
            die("check", "declined");
    double steady = (now_s() - t0) / (double)checks;

    /* 2. every request follows a write of another table (the register's own
     * writes): data_version moved, the generation did not */
    size_t with_writes = checks / 20 ? checks / 20 : 1;
    double spent = 0;
    for (size_t i = 0; i < with_writes; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO consumer_cursor VALUES ('b', %zu, 'x')",
                 i);
        sqlite3_exec(db, sql, NULL, NULL, NULL);
        double t = now_s();
        if (auth_cache_check(c, headers[i % n_clients], &client) != DTR_OK)
            die("check", "declined");
        spent += now_s() - t;
    }
    double after_write = spent / (double)with_writes;

    /* 3. a client changed: the next check reloads every client */
    size_t reloads = 50;
    spent = 0;
    for (size_t i = 0; i < reloads; i++) {
        sqlite3_exec(db, "UPDATE client SET created = created", NULL, NULL, NULL);
        double t = now_s();
        if (auth_cache_check(c, headers[i % n_clients], &client) != DTR_OK)
            die("check", "declined");
        spent += now_s() - t;
    }
    double reload = spent / (double)reloads;

    printf("clients %zu, loads %llu\n", n_clients, (unsigned long long)auth_cache_loads(c));
    printf("check, nothing changed:        %8.2f us\n", steady * 1e6);
    printf("check after a register write:  %8.2f us\n", after_write * 1e6);
    printf("check after a client change:   %8.2f us (full reload)\n", reload * 1e6);

    auth_cache_close(c);
    sqlite3_close(db);
    store_db_close(sdb);
    free(headers);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
