/*
 * Fuzz target for the calendar year importer (src/model/calendar.c), which reads administrator
 * uploads: every input is imported or refused with an error naming a field; after a successful
 * import the deadline arithmetic still holds (adding working time and measuring it back agree,
 * and a working-day deadline lies after its start).
 */
#include <stdint.h>
#include <string.h>

#include "model/calendar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cg_calendar *cal;
    if (!cal)
        cal = cg_calendar_new();
    if (!cal)
        return 0;
    cg_err err = {0};
    int year = 0;
    if (cg_calendar_import_year(cal, (const char *)data, size, &year, &err)) {
        if (!err.field[0] || !err.message[0])
            __builtin_trap();
        return 0;
    }
    if (year < CG_CAL_FIRST_YEAR || year > CG_CAL_LAST_YEAR || !cg_calendar_has_year(cal, year))
        __builtin_trap();
    const int64_t start = 1767225600 + (int64_t)(year - 2026) * 365 * 86400; /* ~Jan 1 */
    for (int i = 0; i < 12; i++) {
        int64_t t = start + i * 30LL * 86400 + i * 4111, d, s;
        if (cg_calendar_add_seconds(cal, t, 3600 * (i + 1), &d, &err) == 0 &&
            (cg_calendar_between(cal, t, d, &s, &err) || s != 3600 * (i + 1)))
            __builtin_trap();
        if (cg_calendar_deadline(cal, t, i + 1, CG_UNIT_WORK_DAYS, &d, &err) == 0 && d <= t)
            __builtin_trap();
    }
    return 0;
}
