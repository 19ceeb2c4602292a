/*
 * params.c -- the statistik plugin's query parameters: calendar days, the
 * default reference date (1 October, in Copenhagen time) and the grouping.
 * Pure functions; any thread.
 */
#include <stdio.h>
#include <string.h>

#include "statistik.h"

static const char *const stat_names[STAT_NFIELDS] = {"kommuneKode", "instType3", "ejerformKode"};

const char *stat_field_name(stat_field f)
{
    return f < STAT_NFIELDS ? stat_names[f] : "";
}

static bool stat_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool stat_valid_day(const char *s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || m < 1 || m > 12 || d < 1) return false;
    int last = days[m - 1] + (m == 2 && stat_leap(y));
    return d <= last;
}

/* 01:00 UTC on the last Sunday of month (0-based; March and October both
 * have 31 days) of year. */
static time_t stat_last_sunday_0100(int year, int month)
{
    struct tm tm = {.tm_year = year - 1900, .tm_mon = month, .tm_mday = 31, .tm_hour = 1};
    time_t t = timegm(&tm);
    struct tm check;
    gmtime_r(&t, &check);
    return t - (time_t)check.tm_wday * 86400;
}

void stat_default_day(time_t now, char out[11])
{
    struct tm utc;
    gmtime_r(&now, &utc);
    int year = utc.tm_year + 1900;
    bool summer = now >= stat_last_sunday_0100(year, 2) && now < stat_last_sunday_0100(year, 9);
    time_t local = now + (summer ? 7200 : 3600);
    struct tm day;
    gmtime_r(&local, &day);
    int y = day.tm_year + 1900;
    if (day.tm_mon < 9) y--; /* before October: last year's 1 October */
    if (y < 0) y = 0;
    snprintf(out, 11, "%04d-10-01", y % 10000);
}

int stat_parse_groups(const char *s, stat_field fields[STAT_NFIELDS])
{
    int n = 0;
    bool seen[STAT_NFIELDS] = {false};
    if (!s || !*s) return 0;
    const char *p = s;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int found = -1;
        for (int f = 0; f < STAT_NFIELDS; f++)
            if (strlen(stat_names[f]) == len && strncmp(stat_names[f], p, len) == 0) found = f;
        if (found < 0 || seen[found]) return -1;
        seen[found] = true;
        fields[n++] = (stat_field)found;
        if (!end) break;
        p = end + 1;
    }
    return n;
}
