/*
 * test_csv_roundtrip.c -- THE test of the layout: the register's sample read
 * with import_read and written back with export_write (each record's
 * "status" derived from its aktivitetsstatus, as the store would hold it)
 * gives the very same bytes, file by file.
 *
 * Needs ../shared/data/dtr-sample (DTR_SHARED_DIR); skips without it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "csvp.h"
#include "fake_host.h"

/* Yields the records read, each with "status" as the store derives it from
 * the imported aktivitetsstatus, and without the test's "line". */
typedef struct record_source {
    json_t *records;
    size_t next;
} record_source;

static json_t *stored_next(void *ctx)
{
    record_source *s = ctx;
    json_t *r = json_array_get(s->records, s->next++);
    if (r == NULL) return NULL;
    json_t *stored = json_deep_copy(r);
    const char *as = json_string_value(json_object_get(stored, "aktivitetsstatus"));
    const char *status = as == NULL                    ? "aktiv"
                         : strcmp(as, "Nedlagt") == 0  ? "nedlagt"
                         : strcmp(as, "Kommende") == 0 ? "kommende"
                                                       : "aktiv";
    json_object_del(stored, "aktivitetsstatus");
    json_object_del(stored, "line");
    json_object_set_new(stored, "status", json_string(status));
    return stored;
}

/* Points at the first line where a and b differ, for the failure message. */
static void report_difference(const char *file, const memory *m, const char *orig, size_t len)
{
    size_t i = 0, line = 1, start = 0;
    while (i < len && i < m->len && orig[i] == m->data[i]) {
        if (orig[i] == '\n') line++, start = i + 1;
        i++;
    }
    fprintf(stderr, "%s: differs at byte %zu (line %zu; sizes %zu and %zu)\n", file, i, line, len,
            m->len);
    fprintf(stderr, "  original: %.120s\n  written:  %.120s\n", orig + start,
            start < m->len ? m->data + start : "");
}

static void test_sample_round_trips_byte_for_byte(void **state)
{
    (void)state;
    const char *dir = sample_dir();
    if (dir == NULL) {
        fprintf(stderr, "skipped: the register's sample (DTR_SHARED_DIR/data/dtr-sample) is "
                        "not here\n");
        skip();
    }
    void *plugin = fake_plugin_new();
    char err[1024] = "";
    collected c;
    collected_init(&c);
    dtr_import_sink sink = collected_sink(&c);
    assert_int_equal(csvp_descriptor.import_read(plugin, dir, &sink, err, sizeof err), DTR_OK);
    if (json_array_size(c.refusals) > 0) {
        char *dump = json_dumps(json_array_get(c.refusals, 0), 0);
        fprintf(stderr, "first refusal: %s\n", dump);
        free(dump);
    }
    assert_int_equal(json_array_size(c.refusals), 0);
    assert_int_equal(json_array_size(c.records[0]), 2274);
    assert_int_equal(json_array_size(c.records[1]), 4809);
    assert_int_equal(json_array_size(c.records[2]), 0);

    for (int level = 0; level < 3; level++) {
        const char *file = csvp_descriptor.export_file_name(plugin, level);
        record_source src = {c.records[level], 0};
        dtr_export_source source = {&src, stored_next};
        memory m = {.fail_after = -1};
        dtr_byte_sink out = {&m, memory_write};
        assert_int_equal(
            csvp_descriptor.export_write(plugin, level, &source, &out, err, sizeof err), DTR_OK);
        size_t len;
        char *orig = read_whole(dir, file, &len);
        assert_non_null(orig);
        bool same = m.len == len && memcmp(m.data, orig, len) == 0;
        if (!same) report_difference(file, &m, orig, len);
        assert_true(same);
        free(orig);
        free(m.data);
    }
    collected_clear(&c);
    fake_plugin_free(plugin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_round_trips_byte_for_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
