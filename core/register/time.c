/*
 * time.c -- the register's time model: calendar days in Europe/Copenhagen
 * computed from UNIX time with the EU summer-time rule (no TZ database, no
 * environment), YYYY-MM-DD validation, the status a record has on a day
 * (kommende, aktiv, nedlagt) and the timed changes the register makes itself
 * when a future virkningFra or virkningTil arrives. The summer-time rule is
 * the EU's of 1996 onwards (the register's data begin in 2019); days of
 * earlier instants may be an hour off around the old switch dates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "register/internal.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (era arithmetic: a
 * 400-year era has 146097 days; years start in March so leap days fall last). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t year_of_era = y - era * 400;
    int64_t day_of_year = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t day_of_era = z - era * 146097;
    int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t mp = (5 * day_of_year + 2) / 153;
    *d = (int)(day_of_year - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = year_of_era + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The day number of the last Sunday of a month with 31 days. */
static int64_t last_sunday(int64_t year, int month)
{
    int64_t last = days_from_civil(year, month, 31);
    int64_t weekday = ((last + 4) % 7 + 7) % 7; /* 1970-01-01 was a Thursday; 0 = Sunday */
    return last - weekday;
}

/* Copenhagen is UTC+1 (CET), and UTC+2 (CEST) from 01:00 UTC on the last
 * Sunday of March until 01:00 UTC on the last Sunday of October. */
void reg_day_of(int64_t unix_seconds, char out[11])
{
    int64_t y;
    int m, d;
    civil_from_days(floor_div(unix_seconds, 86400), &y, &m, &d);
    int64_t summer_from = last_sunday(y, 3) * 86400 + 3600;
    int64_t summer_to = last_sunday(y, 10) * 86400 + 3600;
    int64_t offset = (unix_seconds >= summer_from && unix_seconds < summer_to) ? 7200 : 3600;
    civil_from_days(floor_div(unix_seconds + offset, 86400), &y, &m, &d);
    if (y < 0) y = 0;
    if (y > 9999) y = 9999;
    snprintf(out, 11, "%04d-%02d-%02d", (int)y, m, d);
}

static bool digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Reads YYYY-MM-DD at s (no terminator required); false unless a real date. */
static bool parse_date(const char *s, int *y, int *m, int *d)
{
    if (strlen(s) < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2))
        return false;
    *y = atoi(s);
    *m = (s[5] - '0') * 10 + (s[6] - '0');
    *d = (s[8] - '0') * 10 + (s[9] - '0');
    if (*y < 1 || *m < 1 || *m > 12) return false;
    return *d >= 1 && *d <= days_in_month(*y, *m);
}

bool reg_date_valid(const char *s)
{
    int y, m, d;
    return s && strlen(s) == 10 && parse_date(s, &y, &m, &d);
}

const char *reg_record_date(const json_t *record, const char *field)
{
    return json_string_value(json_object_get(record, field));
}

/* Reads "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" (RFC 3339) into UNIX
 * seconds and gives its Copenhagen day. */
bool reg_day_of_timestamp(const char *ts, char out[11])
{
    int y, mo, d;
    if (!ts || !parse_date(ts, &y, &mo, &d)) return false;
    const char *p = ts + 10;
    if ((*p != 'T' && *p != 't' && *p != ' ') || !digits(p + 1, 2) || p[3] != ':' ||
        !digits(p + 4, 2) || p[6] != ':' || !digits(p + 7, 2))
        return false;
    int hh = atoi(p + 1), mm = atoi(p + 4), ss = atoi(p + 7);
    if (hh > 23 || mm > 59 || ss > 60) return false;
    p += 9;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if ((*p == '+' || *p == '-') && digits(p + 1, 2) && p[3] == ':' && digits(p + 4, 2)) {
        offset = (int64_t)(atoi(p + 1) * 3600 + atoi(p + 4) * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return false;
    }
    if (*p) return false;
    int64_t t = days_from_civil(y, mo, d) * 86400 + hh * 3600 + mm * 60 + ss - offset;
    reg_day_of(t, out);
    return true;
}

const char *reg_status(const json_t *record, const char *day)
{
    const char *fra = reg_record_date(record, "virkningFra");
    const char *til = reg_record_date(record, "virkningTil");
    if (fra && strcmp(day, fra) < 0) return "kommende";
    if (til && strcmp(day, til) >= 0) return "nedlagt";
    return "aktiv";
}

bool reg_in_effect(const json_t *record, const char *day)
{
    return strcmp(reg_status(record, day), "aktiv") == 0;
}

bool reg_closed_on(const json_t *record, const char *day)
{
    const char *til = reg_record_date(record, "virkningTil");
    return til && strcmp(til, day) <= 0;
}

bool reg_outlives_parent(const char *child_til, const json_t *parent)
{
    const char *parent_til = reg_record_date(parent, "virkningTil");
    if (!parent_til) return false;
    return !child_til || strcmp(child_til, parent_til) > 0;
}

void reg_change_clear(reg_change *c)
{
    json_decref(c->before);
    json_decref(c->after);
    memset(c, 0, sizeof *c);
}

/* A date is due when it lies after the day the record's last version was
 * written (and after last_checked_day, when given) and not after today:
 * then the version on file does not yet reflect it. Using the record's own
 * "opdateret" makes the check idempotent: once the timed change is written,
 * its opdateret is on or after the date and it is never due again. */
static bool due(const char *date, const char *lower, const char *today)
{
    return date && strcmp(date, today) <= 0 && (!lower || strcmp(date, lower) > 0);
}

bool reg_timed_change(const json_t *record, reg_level level, const char *last_checked_day,
                      const char *today, const char *now, reg_change *out)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(record) || !today || !now) return false;
    char updated[11];
    const char *lower = NULL;
    if (reg_day_of_timestamp(reg_str_field(record, "opdateret"), updated)) lower = updated;
    if (last_checked_day && (!lower || strcmp(last_checked_day, lower) > 0))
        lower = last_checked_day;

    const char *operation;
    if (due(reg_record_date(record, "virkningTil"), lower, today))
        operation = "nedlagt";
    else if (due(reg_record_date(record, "virkningFra"), lower, today))
        operation = "aendret";
    else
        return false;

    const char *nummer = reg_str_field(record, "nummer");
    out->level = level;
    out->operation = operation;
    snprintf(out->nummer, sizeof out->nummer, "%s", nummer ? nummer : "");
    out->before = json_deep_copy(record);
    out->after = json_deep_copy(record);
    json_object_set_new(out->after, "version",
                        json_integer(json_integer_value(json_object_get(record, "version")) + 1));
    json_object_set_new(out->after, "opdateret", json_string(now));
    return true;
}
