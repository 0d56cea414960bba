/*
 * Calendar dates and ISO 8601 times (core/datetime.h). Arithmetic only, no time zone database:
 * Asia/Shanghai is a fixed UTC+8. Faster than gmtime + strftime, which matters where a page of
 * cases writes ten instants per case.
 */
#include "core/datetime.h"

int64_t cg_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void cg_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static void two_digits(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

size_t cg_time_iso_local(int64_t t, char *out)
{
    int64_t local = t + 8 * 3600;
    int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int64_t secs = local - days * 86400, year;
    int month, day;
    cg_civil_from_days(days, &year, &month, &day);
    if (year < 0 || year > 9999) {
        out[0] = '\0';
        return 0;
    }
    static const char shape[] = "0000-00-00T00:00:00+08:00";
    for (size_t i = 0; i < sizeof shape; i++)
        out[i] = shape[i];
    out[0] = (char)('0' + year / 1000);
    out[1] = (char)('0' + year / 100 % 10);
    out[2] = (char)('0' + year / 10 % 10);
    out[3] = (char)('0' + year % 10);
    two_digits(out + 5, month);
    two_digits(out + 8, day);
    two_digits(out + 11, (int)(secs / 3600));
    two_digits(out + 14, (int)(secs / 60 % 60));
    two_digits(out + 17, (int)(secs % 60));
    return CG_ISO_LOCAL_LEN;
}
