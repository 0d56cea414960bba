/*
 * The staff API's JSON for a case and a history entry (app/cases.h shows the shapes). Written by
 * hand into a cg_buf, strings through cg_json_write_string, so the same bytes come out of the
 * API, the command line and the tests. Contacts are never part of it.
 */
#include "app/cases.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/datetime.h"
#include "geo/geojson.h"

/* A string literal (its length known at compile time). */
#define put_lit(b, lit) cg_buf_append((b), (lit), sizeof(lit) - 1)

#define put_i64(b, v) cg_buf_put_i64((b), (v))

/* An instant as ISO 8601 in Asia/Shanghai ("2026-11-24T10:00:00+08:00"); null when 0. */
static void put_time(cg_buf *b, int64_t t)
{
    char quoted[CG_ISO_LOCAL_LEN + 3];
    if (!t || !cg_time_iso_local(t, quoted + 1)) {
        put_lit(b, "null");
        return;
    }
    quoted[0] = quoted[CG_ISO_LOCAL_LEN + 1] = '"';
    cg_buf_append(b, quoted, CG_ISO_LOCAL_LEN + 2);
}

/* ,"key":<time> with the key's literal written in one append. */
#define put_key_time(b, key, t)                                                                    \
    do {                                                                                           \
        put_lit(b, ",\"" key "\":");                                                               \
        put_time(b, t);                                                                            \
    } while (0)

/* A string, or null when empty. */
static void put_string_or_null(cg_buf *b, const char *s)
{
    if (s && *s)
        cg_json_write_string(b, s);
    else
        put_lit(b, "null");
}

void cg_case_json_head(const cg_case *c, const cg_case_rules *rules, cg_buf *out)
{
    put_lit(out, "{\"id\":");
    put_i64(out, c->id);
    put_lit(out, ",\"version\":");
    put_i64(out, c->version);
    put_lit(out, ",\"source\":\"");
    cg_buf_puts(out, cg_case_source_name(c->source));
    cg_buf_putc(out, '"');
    put_lit(out, ",\"category\":");
    cg_json_write_string(out, c->category);
    const cg_category *cat = rules ? cg_taxonomy_find(&rules->taxonomy, c->category) : NULL;
    put_lit(out, ",\"category_name\":");
    if (cat) {
        put_lit(out, "{\"zh\":");
        cg_json_write_string(out, cat->name_zh);
        put_lit(out, ",\"en\":");
        cg_json_write_string(out, cat->name_en);
        cg_buf_putc(out, '}');
    } else {
        put_lit(out, "null");
    }
    put_lit(out, ",\"description\":");
    cg_json_write_string(out, c->description);
    if (c->has_point) {
        /* Stored at 7 decimals (cg_coord_round): the 7 digits are the stored value. */
        put_lit(out, ",\"lon\":");
        cg_buf_put_fixed(out, c->lon, 7);
        put_lit(out, ",\"lat\":");
        cg_buf_put_fixed(out, c->lat, 7);
    } else
        put_lit(out, ",\"lon\":null,\"lat\":null");
    put_lit(out, ",\"address\":");
    cg_json_write_string(out, c->address);
    put_lit(out, ",\"grid\":");
    put_string_or_null(out, c->grid_code);
    put_lit(out, ",\"priority\":");
    put_i64(out, c->priority);
    put_lit(out, ",\"state\":\"");
    cg_buf_puts(out, cg_case_state_name(c->status.state));
    put_lit(out, "\",\"tier\":\"");
    cg_buf_puts(out, cg_case_tier_name(c->status.tier));
    put_lit(out, "\",\"assignee\":");
    if (c->assignee.kind == CG_ASSIGN_NONE) {
        put_lit(out, "null");
    } else {
        put_lit(out, "{\"kind\":\"");
        cg_buf_puts(out, cg_assignee_kind_name(c->assignee.kind));
        put_lit(out, "\",\"account_id\":");
        put_i64(out, c->assignee.account_id);
        put_lit(out, ",\"label\":");
        cg_json_write_string(out, c->assignee.label);
        cg_buf_putc(out, '}');
    }
    put_lit(out, ",\"reporter_id\":");
    put_i64(out, c->reporter_id);
    put_lit(out, ",\"extension\":");
    put_i64(out, c->extension);
    put_lit(out, ",\"extension_requested\":");
    put_i64(out, c->extension_requested);
    put_key_time(out, "reported_at", c->reported_at);
    put_key_time(out, "registered_at", c->registered_at);
    put_key_time(out, "dispatched_at", c->dispatched_at);
    put_key_time(out, "handled_at", c->handled_at);
    put_key_time(out, "closed_at", c->closed_at);
    put_key_time(out, "updated_at", c->updated_at);
    put_lit(out, ",\"deadlines\":{\"register_by\":");
    put_time(out, c->deadlines.register_by);
    put_lit(out, ",\"dispatch_by\":");
    put_time(out, c->deadlines.dispatch_by);
    put_lit(out, ",\"handle_by\":");
    put_time(out, c->deadlines.handle_by);
    cg_buf_putc(out, '}');
    put_key_time(out, "suspended_at", c->suspended_at);
    put_lit(out, ",\"suspended_s\":");
    put_i64(out, c->suspended_s);
    put_key_time(out, "due_at", c->due_at);
}

void cg_case_json_live(int64_t due_at, const cg_case_rules *rules, int64_t now, cg_buf *out)
{
    if (due_at > 0 && now > due_at)
        put_lit(out, ",\"overdue\":true,\"remaining_s\":");
    else
        put_lit(out, ",\"overdue\":false,\"remaining_s\":");
    int64_t remaining;
    if (due_at > 0 && rules &&
        cg_calendar_between(rules->calendar, now, due_at, &remaining, NULL) == 0)
        put_i64(out, remaining);
    else
        put_lit(out, "null");
}

void cg_case_json_tail(const cg_case *c, cg_buf *out)
{
    if (c->duplicate_of) {
        put_lit(out, ",\"duplicate_of\":");
        put_i64(out, c->duplicate_of);
    } else
        put_lit(out, ",\"duplicate_of\":null");
    if (c->evaluation) {
        put_lit(out, ",\"evaluation\":");
        put_i64(out, c->evaluation);
    } else
        put_lit(out, ",\"evaluation\":null");
    cg_buf_puts(out, c->has_contact ? ",\"has_contact\":true,\"photos\":"
                                    : ",\"has_contact\":false,\"photos\":");
    put_i64(out, c->n_photos);
    put_lit(out, ",\"device_id\":");
    put_string_or_null(out, c->device_id);
    cg_buf_putc(out, '}');
}

void cg_case_json(const cg_case *c, const cg_case_rules *rules, int64_t now, cg_buf *out)
{
    cg_case_json_head(c, rules, out);
    cg_case_json_live(c->due_at, rules, now, out);
    cg_case_json_tail(c, out);
}

void cg_case_event_json(const cg_case_event *e, cg_buf *out)
{
    cg_buf_printf(out, "{\"seq\":%" PRId64 ",\"action\":", e->seq);
    if (e->is_note)
        put_lit(out, "null");
    else
        cg_buf_printf(out, "\"%s\"", cg_case_action_name(e->action));
    cg_buf_printf(out, ",\"note_only\":%s,\"from\":", e->is_note ? "true" : "false");
    if (e->from == CG_CASE_NONE)
        put_lit(out, "null");
    else
        cg_buf_printf(out, "\"%s\"", cg_case_state_name(e->from));
    cg_buf_printf(out, ",\"to\":\"%s\",\"tier\":\"%s\",\"actor\":{\"id\":%" PRId64 ",\"name\":",
                  cg_case_state_name(e->to), cg_case_tier_name(e->tier), e->actor_id);
    cg_json_write_string(out, e->actor_name);
    char roles[128];
    cg_roles_format(e->roles, roles, sizeof roles);
    put_lit(out, "},\"roles\":");
    cg_json_write_string(out, roles);
    put_lit(out, ",\"at\":");
    put_time(out, e->at);
    put_lit(out, ",\"note\":");
    cg_json_write_string(out, e->note);
    /* The detail is a JSON object the store checked on the way in. */
    put_lit(out, ",\"detail\":");
    cg_buf_puts(out, e->detail[0] ? e->detail : "{}");
    cg_buf_putc(out, '}');
}
