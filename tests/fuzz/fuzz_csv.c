/*
 * fuzz_csv.c -- libFuzzer harness of the csv plugin's import reader (the
 * register's export layout read back by `dtr import`): the input becomes one
 * of the three files, the other two hold only their header, and import_read
 * runs over the directory with the unit tests' fake host (code lists) and a
 * sink that collects what it is given.
 *
 * Input: byte 0 picks the file (mod 3: daginstitution, anvisningsenhed,
 * alternativadresse); the rest is that file's bytes, as they are (a BOM,
 * the header and line ends are the input's business).
 *
 * Checked besides "no crash": the reader ends with DTR_OK, or DTR_ERROR and
 * a message; every record is an object with the level's number as a string
 * and a line within the file; every refusal names the file and a line after
 * the header and gives a reason; nothing arrives for the header-only files.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "csvp.h"
#include "fake_host.h"

static char *dir;
static void *plugin;

static void fz_check(bool ok, const char *what)
{
    if (ok) return;
    fprintf(stderr, "fuzz_csv: invariant broken: %s\n", what);
    abort();
}

static const char *const files[3] = {"daginstitution.csv", "anvisningsenhed.csv",
                                     "alternativadresse.csv"};
static const char *const number_field[3] = {"nummer", "nummer", "nummer"};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct stat sb;
    if (stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode)) setenv("TMPDIR", "/dev/shm", 0);
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/fuzz_csv_XXXXXX", tmp ? tmp : "/tmp");
    dir = strdup(path);
    if (!mkdtemp(dir)) abort();
    plugin = fake_plugin_new();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int level = data[0] % 3;
    static const char bom[] = "\xEF\xBB\xBF";
    const char *headers[3] = {header_di, header_ae, header_aa};
    for (int i = 0; i < 3; i++) {
        if (i == level) {
            write_file(dir, files[i], (const char *)data + 1, size - 1);
        } else {
            char head[1024];
            int n = snprintf(head, sizeof head, "%s%s\r\n", bom, headers[i]);
            write_file(dir, files[i], head, (size_t)n);
        }
    }
    uint64_t lines = 1;
    for (size_t i = 1; i < size; i++)
        if (data[i] == '\n' || data[i] == '\r') lines++;

    collected c;
    collected_init(&c);
    dtr_import_sink sink = collected_sink(&c);
    char err[1024] = "";
    dtr_status st = csvp_descriptor.import_read(plugin, dir, &sink, err, sizeof err);
    fz_check(st == DTR_OK || (st == DTR_ERROR && err[0]), "status, and a message with an error");
    for (int l = 0; l < 3; l++) {
        size_t n = json_array_size(c.records[l]);
        fz_check(l == level || n == 0, "no records from a header-only file");
        for (size_t i = 0; i < n; i++) {
            json_t *r = json_array_get(c.records[l], i);
            fz_check(json_is_object(r), "a record is an object");
            json_int_t line = json_integer_value(json_object_get(r, "line"));
            fz_check(line >= 2 && (uint64_t)line <= lines, "a record's line is in the file");
            json_t *nr = json_object_get(r, number_field[l]);
            fz_check(!nr || json_is_string(nr) || json_is_null(nr), "the number is text");
        }
    }
    for (size_t i = 0; i < json_array_size(c.refusals); i++) {
        json_t *r = json_array_get(c.refusals, i);
        const char *file = json_string_value(json_object_get(r, "file"));
        json_int_t line = json_integer_value(json_object_get(r, "line"));
        const char *reason = json_string_value(json_object_get(r, "reason"));
        fz_check(file && strcmp(file, files[level]) == 0, "a refusal names the file");
        fz_check(line >= 2 && (uint64_t)line <= lines, "a refusal's line is in the file");
        fz_check(reason && reason[0], "a refusal gives a reason");
    }
    collected_clear(&c);
    return 0;
}
