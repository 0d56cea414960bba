/*
 * The rules of the case loop (app/cases.h): the category taxonomy, the working calendar and the
 * stage limits, loaded from the store's rule documents, falling back to what is embedded in the
 * binary: the default taxonomy (model/category_default.json) and the 2026 holidays
 * (src/model/calendar_2026.json, the same file the calendar tests read). Writing a rule
 * validates it with the model's parser first and stores the document only when it parses, so
 * a stored rule always loads.
 *
 * Documents: "categories" (model/category.h's JSON), "calendar.<year>" (one year of holidays,
 * model/calendar.h), "calendar.hours" (the weekly hours):
 *   {"mon": "08:30-12:00,13:30-17:30", ..., "sun": "", "makeup": "08:30-12:00,13:30-17:30"}
 * where a missing day keeps the default hours and "" is a day off.
 */
#include "app/cases.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/datetime.h"
#include "core/json.h"

__asm__(".section .rodata\n"
        ".global cg_calendar_2026_json\n"
        ".type cg_calendar_2026_json, @object\n"
        "cg_calendar_2026_json:\n"
        ".incbin \"" CIVGRID_SOURCE_DIR "/src/model/calendar_2026.json\"\n"
        ".byte 0\n"
        ".size cg_calendar_2026_json, .-cg_calendar_2026_json\n"
        ".previous\n");

extern const char cg_calendar_2026_json[];

/* The weekly-hours keys, indexed like cg_calendar_set_hours's weekday (0 Sunday, 7 make-up). */
static const char *const day_keys[8] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", "makeup"};

/* Applies a "calendar.hours" document to a calendar (validating every day first). */
static int apply_hours(cg_calendar *cal, const char *json, size_t len, cg_err *err)
{
    static const char *const known[] = {"sun", "mon", "tue",    "wed", "thu",
                                        "fri", "sat", "makeup", NULL};
    json_t *root = cg_json_parse_object(json, len, known, err);
    if (!root)
        return -1;
    cg_cal_interval iv[8][CG_CAL_MAX_INTERVALS];
    int n[8], present[8] = {0};
    int rc = 0;
    for (int d = 0; d < 8 && rc == 0; d++) {
        json_t *v = json_object_get(root, day_keys[d]);
        if (!v)
            continue;
        if (!json_is_string(v)) {
            rc = cg_err_set(err, CG_EINVAL, day_keys[d],
                            "working hours are a string like \"08:30-12:00,13:30-17:30\"");
            break;
        }
        present[d] = 1;
        if (cg_calendar_parse_hours(json_string_value(v), iv[d], &n[d], err)) {
            cg_err_prefix(err, "%s", day_keys[d]);
            snprintf(err->field, sizeof err->field, "%s", day_keys[d]);
            rc = -1;
        }
    }
    json_decref(root);
    for (int d = 0; d < 8 && rc == 0; d++)
        if (present[d])
            rc = cg_calendar_set_hours(cal, d, iv[d], n[d], err);
    return rc;
}

typedef struct {
    cg_calendar *cal;
    cg_err *err;
    int failed;
} years_ctx;

static int load_year(void *ctx, const char *name, const char *json)
{
    years_ctx *y = ctx;
    if (strcmp(name, "calendar.hours") == 0)
        return 0;
    if (cg_calendar_import_year(y->cal, json, strlen(json), NULL, y->err)) {
        cg_err_prefix(y->err, "rule document '%s'", name);
        y->failed = 1;
        return 1;
    }
    return 0;
}

int cg_case_rules_load(cg_store *s, cg_case_rules **out, cg_err *err)
{
    *out = NULL;
    cg_case_rules *r = calloc(1, sizeof *r);
    if (!r || !(r->calendar = cg_calendar_new())) {
        free(r);
        return cg_err_set(err, CG_ENOMEM, "", "out of memory loading the case rules");
    }
    r->limits = cg_stage_limits_default;
    /* Read the generation first: a rule written meanwhile moves it again, and the next check
     * reloads. */
    r->generation = cg_store_rules_generation(s);
    cg_buf doc;
    cg_buf_init(&doc);
    cg_err local = {0};
    int rc = 0;
    if (cg_store_doc_get(s, "categories", &doc, &local) == 0) {
        rc = cg_taxonomy_parse(doc.data, doc.len, &r->taxonomy, err);
        if (rc)
            cg_err_prefix(err, "rule document 'categories'");
    } else if (local.code == CG_ENOTFOUND) {
        rc = cg_taxonomy_default(&r->taxonomy, err);
    } else {
        *err = local;
        rc = -1;
    }
    if (rc == 0)
        rc = cg_calendar_import_year(r->calendar, cg_calendar_2026_json,
                                     strlen(cg_calendar_2026_json), NULL, err);
    cg_buf_reset(&doc);
    if (rc == 0) {
        if (cg_store_doc_get(s, "calendar.hours", &doc, &local) == 0) {
            rc = apply_hours(r->calendar, doc.data, doc.len, err);
            if (rc)
                cg_err_prefix(err, "rule document 'calendar.hours'");
        } else if (local.code != CG_ENOTFOUND) {
            *err = local;
            rc = -1;
        }
    }
    cg_buf_free(&doc);
    if (rc == 0) {
        years_ctx y = {r->calendar, err, 0};
        rc = cg_store_doc_each(s, "calendar.", load_year, &y, err) || y.failed ? -1 : 0;
    }
    if (rc) {
        cg_case_rules_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

void cg_case_rules_free(cg_case_rules *r)
{
    if (!r)
        return;
    cg_taxonomy_free(&r->taxonomy);
    cg_calendar_free(r->calendar);
    free(r);
}

int cg_case_rules_year_missing(const cg_case_rules *r, int64_t now)
{
    int64_t local = now + CG_CAL_TZ_OFFSET;
    int64_t day = local / 86400 - (local % 86400 < 0);
    int64_t y;
    int m, d;
    cg_civil_from_days(day, &y, &m, &d);
    if (y < CG_CAL_FIRST_YEAR || y > CG_CAL_LAST_YEAR)
        return 0;
    if (!cg_calendar_has_year(r->calendar, (int)y))
        return (int)y;
    if (y < CG_CAL_LAST_YEAR && cg_days_from_civil(y + 1, 1, 1) - day <= CG_CAL_WARN_DAYS &&
        !cg_calendar_has_year(r->calendar, (int)y + 1))
        return (int)y + 1;
    return 0;
}

int cg_case_rules_put_taxonomy(cg_store *s, const char *json, size_t len, cg_err *err)
{
    cg_taxonomy tax = {0};
    if (cg_taxonomy_parse(json, len, &tax, err))
        return -1;
    /* Stored in the exporter's canonical form, so export gives back exactly what is in force. */
    cg_buf b;
    cg_buf_init(&b);
    cg_taxonomy_to_json(&tax, &b);
    cg_taxonomy_free(&tax);
    int rc = cg_store_doc_put(s, "categories", b.data, err);
    cg_buf_free(&b);
    return rc;
}

int cg_case_rules_put_year(cg_store *s, const char *json, size_t len, int *year, cg_err *err)
{
    cg_calendar *scratch = cg_calendar_new();
    if (!scratch)
        return cg_err_set(err, CG_ENOMEM, "", "out of memory");
    int y = 0;
    int rc = cg_calendar_import_year(scratch, json, len, &y, err);
    cg_calendar_free(scratch);
    if (rc)
        return -1;
    char *text = strndup(json, len);
    if (!text)
        return cg_err_set(err, CG_ENOMEM, "", "out of memory");
    char name[32];
    snprintf(name, sizeof name, "calendar.%d", y);
    rc = cg_store_doc_put(s, name, text, err);
    free(text);
    if (rc == 0 && year)
        *year = y;
    return rc;
}

int cg_case_rules_put_hours(cg_store *s, const char *json, size_t len, cg_err *err)
{
    cg_calendar *scratch = cg_calendar_new();
    if (!scratch)
        return cg_err_set(err, CG_ENOMEM, "", "out of memory");
    int rc = apply_hours(scratch, json, len, err);
    cg_calendar_free(scratch);
    if (rc)
        return -1;
    char *text = strndup(json, len);
    if (!text)
        return cg_err_set(err, CG_ENOMEM, "", "out of memory");
    rc = cg_store_doc_put(s, "calendar.hours", text, err);
    free(text);
    return rc;
}

int cg_case_rules_export_taxonomy(cg_store *s, cg_buf *out, cg_err *err)
{
    cg_case_rules *r;
    if (cg_case_rules_load(s, &r, err))
        return -1;
    cg_taxonomy_to_json(&r->taxonomy, out);
    cg_case_rules_free(r);
    return 0;
}
