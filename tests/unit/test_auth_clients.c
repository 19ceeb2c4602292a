/*
 * test_auth_clients.c -- clients in a real data directory: add, list, revoke
 * and rotate with their audit entries; what is stored (a keyed hash, never
 * the secret); the server's cache authenticating against them and picking
 * up changes made through another connection, as `dtr client` makes them
 * while `dtr serve` runs.
 */
#include <sys/stat.h>

#include "test_auth_fixture.h"

static const int kbh_frb[] = {101, 147};

/* The bytes of the row's secret_hash. */
static void stored_hash(afix *f, const char *id, uint8_t out[AUTH_HASH_BYTES])
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(f->db, "SELECT secret_hash FROM client WHERE id = ?", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_bytes(st, 0), AUTH_HASH_BYTES);
    memcpy(out, sqlite3_column_blob(st, 0), AUTH_HASH_BYTES);
    sqlite3_finalize(st);
}

/* Whether text occurs anywhere in the client or audit tables (any column,
 * as text or as the hex of a blob). */
static bool stored_anywhere(afix *f, const char *text)
{
    static const char *queries[] = {
        "SELECT count(*) FROM client WHERE instr(id || name || role || kommuner || created || "
        "coalesce(revoked, '') || hex(secret_hash) || CAST(secret_hash AS TEXT), ?1) > 0",
        "SELECT count(*) FROM audit WHERE instr(actor || operation || coalesce(before, '') || "
        "coalesce(after, '') || coalesce(nummer, '') || coalesce(request_id, ''), ?1) > 0",
    };
    int64_t total = 0;
    for (size_t i = 0; i < 2; i++) {
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(f->db, queries[i], -1, &st, NULL), SQLITE_OK);
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        total += sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return total > 0;
}

static void test_add_stores_only_a_keyed_hash(void **state)
{
    afix *f = *state;
    json_t *out = NULL;
    afix_add(f, "Københavns Kommune, BUF", "kommune", kbh_frb, 2, &out);
    const char *id = afix_str(out, "clientId");
    const char *secret = afix_str(out, "secret");
    assert_string_equal(afix_str(out, "role"), "kommune");
    assert_string_equal(afix_str(out, "name"), "Københavns Kommune, BUF");
    json_t *k = json_object_get(out, "kommuner");
    assert_int_equal(json_array_size(k), 2);
    assert_int_equal(json_integer_value(json_array_get(k, 0)), 101);
    assert_int_equal(json_integer_value(json_array_get(k, 1)), 147);

    /* the id: c_ and 16 hex digits; the secret: 32 random bytes, base64url */
    assert_int_equal(strlen(id), 18);
    assert_memory_equal(id, "c_", 2);
    for (const char *p = id + 2; *p; p++)
        assert_non_null(strchr("0123456789abcdef", *p));
    assert_int_equal(strlen(secret), AUTH_SECRET_CHARS);
    uint8_t raw[64];
    size_t raw_len = 0;
    assert_int_equal(sodium_base642bin(raw, sizeof raw, secret, strlen(secret), NULL, &raw_len,
                                       NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    assert_int_equal(raw_len, AUTH_SECRET_BYTES);

    /* stored: the keyed hash, which is neither the secret nor its bytes */
    uint8_t hash[AUTH_HASH_BYTES], expect[AUTH_HASH_BYTES];
    stored_hash(f, id, hash);
    auth_secret_hash(f->key, id, secret, expect);
    assert_memory_equal(hash, expect, sizeof hash);
    assert_memory_not_equal(hash, raw, AUTH_SECRET_BYTES);
    assert_false(stored_anywhere(f, secret));
    char hex[2 * AUTH_HASH_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
    for (char *p = hex; *p; p++)
        *p = (char)(*p >= 'a' ? *p - 'a' + 'A' : *p);
    assert_int_equal(afix_int(f->db, "SELECT count(*) FROM audit WHERE instr(after, 'secret') > 0"),
                     0);
    assert_int_equal(afix_int(f->db, "SELECT count(*) FROM audit"), 1);
    /* the audit entry names the client, not the hash */
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(f->db,
                                        "SELECT count(*) FROM audit WHERE instr(upper(after), ?1) "
                                        "> 0 OR instr(upper(hex(after)), ?1) > 0",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);

    /* two clients never share an id or a secret */
    json_t *second = NULL;
    afix_add(f, "Support", "support", NULL, 0, &second);
    assert_string_not_equal(afix_str(second, "clientId"), id);
    assert_string_not_equal(afix_str(second, "secret"), secret);
    assert_int_equal(json_array_size(json_object_get(second, "kommuner")), 0);
    json_decref(second);
    json_decref(out);
}

static void test_add_refuses_bad_clients_and_writes_nothing(void **state)
{
    afix *f = *state;
    static const int unknown[] = {999};
    static const int twice[] = {101, 101};
    char long_name[AUTH_NAME_MAX + 2];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    const auth_new_client bad[] = {
        {.name = "K", .role = "kommune"}, /* no kommune */
        {.name = "K", .role = "kommune", .kommuner = unknown, .n_kommuner = 1},
        {.name = "K", .role = "kommune", .kommuner = twice, .n_kommuner = 2},
        {.name = "S", .role = "support", .kommuner = kbh_frb, .n_kommuner = 1},
        {.name = "L", .role = "laeser", .kommuner = kbh_frb, .n_kommuner = 2},
        {.name = "X", .role = "system"},
        {.name = "X", .role = NULL},
        {.name = "", .role = "admin"},
        {.name = NULL, .role = "admin"},
        {.name = "bad\xff utf8", .role = "admin"},
        {.name = "line\nbreak", .role = "admin"},
        {.name = long_name, .role = "admin"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        json_t *out = NULL;
        int rc = auth_client_add(f->sdb, f->key, "cli:test", &bad[i], &out, err, sizeof err);
        if (rc != AUTH_REFUSED) fail_msg("case %zu: %d (%s)", i, rc, err);
        assert_null(out);
        assert_true(err[0] != '\0');
    }
    assert_int_equal(afix_int(f->db, "SELECT count(*) FROM client"), 0);
    assert_int_equal(afix_int(f->db, "SELECT count(*) FROM audit"), 0);

    /* a name of exactly 132 characters, some of them two bytes, is fine */
    char name[2 * AUTH_NAME_MAX + 1] = "";
    for (int i = 0; i < AUTH_NAME_MAX; i++)
        strcat(name, i % 2 ? "ø" : "a");
    json_t *out = NULL;
    afix_add(f, name, "admin", NULL, 0, &out);
    json_decref(out);
}

static void test_list_shows_no_secrets(void **state)
{
    afix *f = *state;
    json_t *a = NULL, *b = NULL, *list = NULL;
    afix_add(f, "Aarhus", "kommune", (const int[]){751}, 1, &a);
    afix_add(f, "Læser", "laeser", NULL, 0, &b);
    char err[256] = "";
    assert_int_equal(auth_client_list(f->sdb, &list, err, sizeof err), 0);
    assert_int_equal(json_array_size(list), 2);
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c)
    {
        assert_null(json_object_get(c, "secret"));
        assert_null(json_object_get(c, "secret_hash"));
        assert_null(json_object_get(c, "secretHash"));
        assert_int_equal(json_object_size(c), 6);
        assert_true(json_is_string(json_object_get(c, "clientId")));
        assert_true(json_is_string(json_object_get(c, "name")));
        assert_true(json_is_string(json_object_get(c, "role")));
        assert_true(json_is_array(json_object_get(c, "kommuner")));
        assert_true(json_is_string(json_object_get(c, "created")));
        assert_true(json_is_null(json_object_get(c, "revoked")));
        char *dump = json_dumps(c, 0);
        assert_null(strstr(dump, afix_str(a, "secret")));
        assert_null(strstr(dump, afix_str(b, "secret")));
        free(dump);
    }
    /* ordered by creation time, then id (two made in one millisecond) */
    json_t *first = json_array_get(list, 0), *second = json_array_get(list, 1);
    int order = strcmp(afix_str(first, "created"), afix_str(second, "created"));
    assert_true(order < 0 || (order == 0 && strcmp(afix_str(first, "clientId"),
                                                   afix_str(second, "clientId")) < 0));
    assert_true(strcmp(afix_str(first, "clientId"), afix_str(a, "clientId")) == 0 ||
                strcmp(afix_str(second, "clientId"), afix_str(a, "clientId")) == 0);
    assert_true(strcmp(afix_str(first, "name"), "Læser") == 0 ||
                strcmp(afix_str(second, "name"), "Læser") == 0);
    json_decref(list);
    json_decref(a);
    json_decref(b);
}

static void test_revoke_and_rotate_refuse_unknown_and_revoked_clients(void **state)
{
    afix *f = *state;
    char err[256] = "";
    json_t *out = NULL;
    assert_int_equal(
        auth_client_revoke(f->sdb, f->key, "cli:test", "c_nope", &out, err, sizeof err),
        AUTH_REFUSED);
    assert_non_null(strstr(err, "c_nope"));
    assert_null(out);
    assert_int_equal(
        auth_client_rotate(f->sdb, f->key, "cli:test", "c_nope", &out, err, sizeof err),
        AUTH_REFUSED);
    assert_null(out);
    assert_int_equal(afix_int(f->db, "SELECT count(*) FROM audit"), 0);

    json_t *added = NULL;
    afix_add(f, "Support", "support", NULL, 0, &added);
    const char *id = afix_str(added, "clientId");
    assert_int_equal(auth_client_revoke(f->sdb, f->key, "cli:test", id, &out, err, sizeof err), 0);
    assert_true(json_is_string(json_object_get(out, "revoked")));
    assert_string_equal(afix_str(out, "clientId"), id);
    json_decref(out);
    assert_int_equal(afix_int(f->db, "SELECT count(*) FROM client WHERE revoked IS NOT NULL"), 1);

    /* a second revoke and a rotate of a revoked client are refused */
    assert_int_equal(auth_client_revoke(f->sdb, f->key, "cli:test", id, &out, err, sizeof err),
                     AUTH_REFUSED);
    assert_non_null(strstr(err, "revoked"));
    assert_int_equal(auth_client_rotate(f->sdb, f->key, "cli:test", id, &out, err, sizeof err),
                     AUTH_REFUSED);
    assert_null(out);
    /* add + revoke: two entries; the refusals wrote none */
    assert_int_equal(afix_int(f->db, "SELECT count(*) FROM audit"), 2);
    json_decref(added);
}

static void test_rotate_replaces_the_hash(void **state)
{
    afix *f = *state;
    json_t *added = NULL, *rotated = NULL;
    afix_add(f, "Fredensborg", "kommune", (const int[]){210}, 1, &added);
    const char *id = afix_str(added, "clientId");
    uint8_t before[AUTH_HASH_BYTES], after[AUTH_HASH_BYTES], expect[AUTH_HASH_BYTES];
    stored_hash(f, id, before);
    char err[256] = "";
    assert_int_equal(auth_client_rotate(f->sdb, f->key, "cli:test", id, &rotated, err, sizeof err),
                     0);
    assert_string_equal(afix_str(rotated, "clientId"), id);
    assert_string_equal(afix_str(rotated, "role"), "kommune");
    assert_string_equal(afix_str(rotated, "name"), "Fredensborg");
    const char *secret = afix_str(rotated, "secret");
    assert_int_equal(strlen(secret), AUTH_SECRET_CHARS);
    assert_string_not_equal(secret, afix_str(added, "secret"));
    stored_hash(f, id, after);
    assert_memory_not_equal(before, after, sizeof before);
    auth_secret_hash(f->key, id, secret, expect);
    assert_memory_equal(after, expect, sizeof after);
    assert_false(stored_anywhere(f, secret));
    assert_false(stored_anywhere(f, afix_str(added, "secret")));
    json_decref(added);
    json_decref(rotated);
}

static void test_management_is_audited_and_the_chain_holds(void **state)
{
    afix *f = *state;
    json_t *a = NULL, *out = NULL;
    afix_add(f, "Admin", "admin", NULL, 0, &a);
    const char *id = afix_str(a, "clientId");
    char err[256] = "";

    /* the server's writer appends to the same chain in between */
    store_options opt = {.data_dir = f->dir, .audit_key = f->key, .log = afix_quiet_log};
    store *s = NULL;
    assert_int_equal(store_open(&opt, &s, err, sizeof err), 0);
    audit_entry imported = {.actor = "import", .operation = "import", .after = "{\"rows\":3}"};
    assert_int_equal(store_audit(s, &imported, NULL, NULL), 0);
    assert_int_equal(store_wait(s), 0);

    assert_int_equal(auth_client_rotate(f->sdb, f->key, "cli:alice", id, &out, err, sizeof err), 0);
    json_decref(out);
    assert_int_equal(store_audit(s, &imported, NULL, NULL), 0);
    assert_int_equal(store_wait(s), 0);
    assert_int_equal(auth_client_revoke(f->sdb, f->key, "cli:alice", id, &out, err, sizeof err), 0);
    json_decref(out);
    store_close(s);

    assert_int_equal(afix_int(f->db, "SELECT count(*) FROM audit"), 5);
    assert_int_equal(afix_int(f->db, "SELECT count(*) FROM audit WHERE operation = 'client.add' "
                                     "AND actor = 'cli:test' AND id = 1"),
                     1);
    assert_int_equal(afix_int(f->db, "SELECT count(*) FROM audit WHERE operation = "
                                     "'client.rotate' AND actor = 'cli:alice' AND id = 3"),
                     1);
    assert_int_equal(afix_int(f->db, "SELECT count(*) FROM audit WHERE operation = "
                                     "'client.revoke' AND actor = 'cli:alice' AND id = 5"),
                     1);
    /* the revoke entry shows the client before (not revoked) and after (revoked) */
    assert_int_equal(afix_int(f->db, "SELECT count(*) FROM audit WHERE id = 5 AND "
                                     "json_extract(before, '$.revoked') IS NULL AND "
                                     "json_extract(after, '$.revoked') IS NOT NULL"),
                     1);
    audit_report r;
    assert_int_equal(audit_verify(f->sdb->db, f->key, &r), 0);
    assert_int_equal(r.entries, 5);

    /* a client change someone slipped past the chain is caught */
    afix_exec(f->db, "UPDATE audit SET actor = 'cli:mallory' WHERE id = 3");
    assert_int_equal(audit_verify(f->sdb->db, f->key, &r), 1);
    assert_int_equal(r.first_bad_id, 3);
    json_decref(a);
}

static void test_server_key_file_is_private(void **state)
{
    afix *f = *state;
    char path[128];
    snprintf(path, sizeof path, "%s/server.key", f->dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, AUTH_KEY_BYTES);
}

/* ---- the cache ------------------------------------------------------------------ */

static auth_cache *open_cache(afix *f)
{
    char err[256] = "";
    auth_cache *c = auth_cache_open(f->dir, f->key, err, sizeof err);
    if (!c) fail_msg("auth_cache_open: %s", err);
    return c;
}

static dtr_status check(auth_cache *c, const char *id, const char *secret,
                        const auth_client **client)
{
    char header[512];
    afix_basic(id, secret, header, sizeof header);
    return auth_cache_check(c, header, client);
}

static void test_cache_authenticates(void **state)
{
    afix *f = *state;
    json_t *k = NULL, *s = NULL;
    afix_add(f, "København", "kommune", kbh_frb, 2, &k);
    afix_add(f, "STIL support", "support", NULL, 0, &s);
    auth_cache *c = open_cache(f);
    assert_int_equal(auth_cache_size(c), 2);

    const auth_client *client = NULL;
    assert_int_equal(check(c, afix_str(k, "clientId"), afix_str(k, "secret"), &client), DTR_OK);
    assert_non_null(client);
    assert_string_equal(client->id, afix_str(k, "clientId"));
    assert_string_equal(client->name, "København");
    assert_string_equal(client->role, "kommune");
    assert_int_equal(client->n_kommuner, 2);
    assert_int_equal(client->kommuner[0], 101);
    assert_int_equal(client->kommuner[1], 147);
    reg_actor actor;
    assert_int_equal(auth_client_actor(client, &actor), 0);
    assert_int_equal(actor.role, REG_ROLE_KOMMUNE);
    assert_int_equal(actor.n_kommuner, 2);

    assert_int_equal(check(c, afix_str(s, "clientId"), afix_str(s, "secret"), &client), DTR_OK);
    assert_string_equal(client->role, "support");
    assert_int_equal(client->n_kommuner, 0);

    /* no header: no client, and that is not a refusal */
    client = (const auth_client *)1;
    assert_int_equal(auth_cache_check(c, NULL, &client), DTR_OK);
    assert_null(client);

    /* wrong secret, another client's secret, unknown id, the hash itself */
    assert_int_equal(check(c, afix_str(k, "clientId"), "wrong", &client), DTR_DECLINED);
    assert_null(client);
    assert_int_equal(check(c, afix_str(k, "clientId"), afix_str(s, "secret"), &client),
                     DTR_DECLINED);
    assert_int_equal(check(c, "c_0000000000000000", afix_str(k, "secret"), &client), DTR_DECLINED);
    char secret_upper[AUTH_SECRET_CHARS + 1];
    strcpy(secret_upper, afix_str(k, "secret"));
    secret_upper[0] = secret_upper[0] == 'A' ? 'B' : 'A';
    assert_int_equal(check(c, afix_str(k, "clientId"), secret_upper, &client), DTR_DECLINED);
    uint8_t hash[AUTH_HASH_BYTES];
    char hash_hex[2 * AUTH_HASH_BYTES + 1];
    stored_hash(f, afix_str(k, "clientId"), hash);
    sodium_bin2hex(hash_hex, sizeof hash_hex, hash, sizeof hash);
    assert_int_equal(check(c, afix_str(k, "clientId"), hash_hex, &client), DTR_DECLINED);

    /* malformed headers are refused, never a crash */
    const char *malformed[] = {"",          "Basic",      "Basic ",     "Bearer abc",
                               "Basic !!!", "Basic Og==", "Basic YWJj", "Digest username=\"x\""};
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        client = (const auth_client *)1;
        assert_int_equal(auth_cache_check(c, malformed[i], &client), DTR_DECLINED);
        assert_null(client);
    }
    /* a client whose id is given with the other's secret in lower-case scheme still works */
    char header[512];
    afix_basic(afix_str(s, "clientId"), afix_str(s, "secret"), header, sizeof header);
    memcpy(header, "bASIC", 5);
    assert_int_equal(auth_cache_check(c, header, &client), DTR_OK);
    assert_string_equal(client->name, "STIL support");

    auth_cache_close(c);
    json_decref(k);
    json_decref(s);
}

static void test_cache_sees_changes_from_another_connection(void **state)
{
    afix *f = *state;
    auth_cache *c = open_cache(f);
    assert_int_equal(auth_cache_size(c), 0);
    uint64_t loads = auth_cache_loads(c);

    /* added while the server runs: authenticates with the next request */
    json_t *added = NULL;
    afix_add(f, "Vendor", "kommune", (const int[]){461}, 1, &added);
    const char *id = afix_str(added, "clientId");
    const auth_client *client = NULL;
    assert_int_equal(check(c, id, afix_str(added, "secret"), &client), DTR_OK);
    assert_int_equal(auth_cache_loads(c), loads + 1);
    const auth_client *first = client;

    /* unchanged: no reload */
    assert_int_equal(check(c, id, afix_str(added, "secret"), &client), DTR_OK);
    assert_int_equal(auth_cache_loads(c), loads + 1);

    /* rotated: the old secret stops working, the new one works; the client
     * handed out before is the same and still readable */
    json_t *rotated = NULL;
    char err[256] = "";
    assert_int_equal(auth_client_rotate(f->sdb, f->key, "cli:test", id, &rotated, err, sizeof err),
                     0);
    assert_int_equal(check(c, id, afix_str(added, "secret"), &client), DTR_DECLINED);
    assert_int_equal(check(c, id, afix_str(rotated, "secret"), &client), DTR_OK);
    assert_ptr_equal(client, first);
    assert_string_equal(first->name, "Vendor");
    assert_int_equal(first->kommuner[0], 461);

    /* revoked: refused from the next request on */
    json_t *out = NULL;
    assert_int_equal(auth_client_revoke(f->sdb, f->key, "cli:test", id, &out, err, sizeof err), 0);
    json_decref(out);
    assert_int_equal(check(c, id, afix_str(rotated, "secret"), &client), DTR_DECLINED);
    assert_null(client);
    assert_string_equal(first->id, id); /* still valid memory */

    /* a row changed behind our back (name, scope) gets a new entry; the old
     * one can no longer authenticate but stays readable */
    json_t *other = NULL;
    afix_add(f, "Other", "kommune", (const int[]){101}, 1, &other);
    const char *other_id = afix_str(other, "clientId");
    const auth_client *before = NULL;
    assert_int_equal(check(c, other_id, afix_str(other, "secret"), &before), DTR_OK);
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE client SET kommuner = '[101,147]' WHERE id = '%s'", other_id);
    afix_exec(f->db, sql);
    const auth_client *now = NULL;
    assert_int_equal(check(c, other_id, afix_str(other, "secret"), &now), DTR_OK);
    assert_ptr_not_equal(now, before);
    assert_int_equal(now->n_kommuner, 2);
    assert_int_equal(before->n_kommuner, 1);
    assert_int_equal(before->kommuner[0], 101);

    /* a row deleted by hand cannot authenticate */
    snprintf(sql, sizeof sql, "DELETE FROM client WHERE id = '%s'", other_id);
    afix_exec(f->db, sql);
    assert_int_equal(check(c, other_id, afix_str(other, "secret"), &now), DTR_DECLINED);

    auth_cache_close(c);
    json_decref(added);
    json_decref(rotated);
    json_decref(other);
}

static void test_cache_does_not_reload_for_other_writes(void **state)
{
    afix *f = *state;
    json_t *added = NULL;
    afix_add(f, "Læser", "laeser", NULL, 0, &added);
    auth_cache *c = open_cache(f);
    const auth_client *client = NULL;
    assert_int_equal(check(c, afix_str(added, "clientId"), afix_str(added, "secret"), &client),
                     DTR_OK);
    uint64_t loads = auth_cache_loads(c);
    for (int i = 0; i < 5; i++) {
        char sql[128];
        snprintf(sql, sizeof sql,
                 "INSERT OR REPLACE INTO consumer_cursor VALUES ('t', %d, '2025-01-01')", i);
        afix_exec(f->db, sql);
        assert_int_equal(check(c, afix_str(added, "clientId"), afix_str(added, "secret"), &client),
                         DTR_OK);
    }
    assert_int_equal(auth_cache_loads(c), loads);
    auth_cache_close(c);
    json_decref(added);
}

static void test_cache_leaves_out_broken_rows(void **state)
{
    afix *f = *state;
    json_t *good = NULL;
    afix_add(f, "Good", "admin", NULL, 0, &good);
    /* rows no request may authenticate as: a short hash, an unknown role, a
     * broken scope */
    afix_exec(f->db, "INSERT INTO client (id, name, role, kommuner, secret_hash, created) VALUES "
                     "('c_short', 'S', 'admin', '[]', x'00', 'now'),"
                     "('c_role', 'R', 'system', '[]', zeroblob(32), 'now'),"
                     "('c_scope', 'K', 'kommune', '[\"101\"]', zeroblob(32), 'now')");
    auth_cache *c = open_cache(f);
    assert_int_equal(auth_cache_size(c), 1);
    const auth_client *client = NULL;
    assert_int_equal(check(c, afix_str(good, "clientId"), afix_str(good, "secret"), &client),
                     DTR_OK);
    assert_int_equal(check(c, "c_role", "x", &client), DTR_DECLINED);
    auth_cache_close(c);
    json_decref(good);
}

static void test_cache_refuses_an_unmigrated_database(void **state)
{
    afix *f = *state;
    char dir[128], path[192], err[256] = "";
    snprintf(dir, sizeof dir, "%s/empty", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(store_location(dir, path, sizeof path), 0);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    afix_exec(db, "CREATE TABLE x (y)");
    sqlite3_close(db);
    assert_null(auth_cache_open(dir, f->key, err, sizeof err));
    assert_non_null(strstr(err, "client"));
    snprintf(dir, sizeof dir, "%s/missing", f->dir);
    assert_null(auth_cache_open(dir, f->key, err, sizeof err));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, afix_setup, afix_teardown)
    const struct CMUnitTest tests[] = {
        T(test_add_stores_only_a_keyed_hash),
        T(test_add_refuses_bad_clients_and_writes_nothing),
        T(test_list_shows_no_secrets),
        T(test_revoke_and_rotate_refuse_unknown_and_revoked_clients),
        T(test_rotate_replaces_the_hash),
        T(test_management_is_audited_and_the_chain_holds),
        T(test_server_key_file_is_private),
        T(test_cache_authenticates),
        T(test_cache_sees_changes_from_another_connection),
        T(test_cache_does_not_reload_for_other_writes),
        T(test_cache_leaves_out_broken_rows),
        T(test_cache_refuses_an_unmigrated_database),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
