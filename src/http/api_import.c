/*
 * Grid imports over HTTP: POST /api/v1/grids/imports takes a GeoJSON file or a zipped Shapefile
 * (.shp with its .shx, .dbf, .prj and .cpg: core/zip.h reads it, bounded) as the request body
 * (the same options as `civgrid import grids`) and answers 202 with the job at once; the job
 * runs on the server's import thread, and GET /api/v1/grids/imports/{id} shows its state and
 * progress and, once it is over, the report: counts, every rejected feature (index, code, name,
 * field, reason, and its geometry or a point to draw it at) and the topology findings of the
 * imported grids among the stored ones. All or nothing as on the command line: a file with one
 * rejected feature writes nothing, and the write is one transaction, audited under the caller
 * (a "grid.put" entry per grid and one "grid.import" entry).
 *
 * Bounds: the body has its own limit (config max_import_body, checked on the headers after the
 * caller is let through), a file holds at most max_import_features features, at most
 * JOBS_PENDING_MAX jobs wait or run at once (503 beyond), at most JOBS_KEPT_MAX are remembered
 * (the oldest finished ones are forgotten first, and any after JOB_KEEP_SECONDS), and a report
 * lists at most REPORT_REJECTS_MAX rejects and REPORT_FINDINGS_MAX findings, with geometries
 * only while it stays under REPORT_GEOMETRY_BYTES. A job is visible to the account that made
 * it only (anyone else gets the answer of a job that does not exist).
 */
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/grid_import_run.h"
#include "core/log.h"
#include "geo/crs.h"
#include "geo/geojson.h"
#include "geo/shapefile.h"
#include "http/auth.h"
#include "http/http.h"
#include "http/imports_state.h"
#include "model/grid_import.h"

#define CONTENT_JSON          "application/json"
#define JOBS_PENDING_MAX      4
#define JOBS_KEPT_MAX         32
#define JOB_KEEP_SECONDS      3600
#define REPORT_REJECTS_MAX    5000
#define REPORT_FINDINGS_MAX   2000
#define REPORT_GEOMETRY_BYTES (4u * 1024 * 1024)
#define FIELD_NAME_MAX        64
#define FILE_NAME_MAX         128
#define MAX_UNZIPPED          (1024LL * 1024 * 1024)

typedef enum {
    JOB_QUEUED,
    JOB_RUNNING,
    JOB_IMPORTED,  /* written */
    JOB_VALIDATED, /* a dry run with nothing rejected: nothing written */
    JOB_REJECTED,  /* features rejected: nothing written */
    JOB_FAILED     /* the file could not be read, or the write failed: nothing written */
} job_state;

static const char *const state_names[] = {"queued",    "running",  "imported",
                                          "validated", "rejected", "failed"};

enum {
    FIELD_CODE,
    FIELD_NAME,
    FIELD_NAME_EN,
    FIELD_LEVEL,
    FIELD_PARENT,
    FIELD_GRADE,
    FIELD_HOUSEHOLDS,
    FIELD_COUNT
};
static const char *const field_params[FIELD_COUNT] = {
    "code_field",   "name_field",  "name_en_field",   "level_field",
    "parent_field", "grade_field", "households_field"};

typedef struct import_job {
    int64_t id;
    /* who asked: the job runs as them, within their scope */
    int64_t account_id;
    char username[40], address[48];
    cg_scope scope;
    /* what */
    int dry_run;
    int zipped; /* a zipped Shapefile, not GeoJSON */
    cg_crs crs;
    char encoding[32]; /* Shapefile attributes; "" : from the .cpg, else UTF-8 or GB18030 */
    char fields[FIELD_COUNT][FIELD_NAME_MAX];
    char name[FILE_NAME_MAX];
    char *data; /* the body; freed when the job is over */
    size_t len, bytes;
    int64_t created_at, finished_at;
    /* progress, under the registry's lock */
    job_state state;
    const char *phase; /* queued, reading, validating, checking, writing, done */
    size_t total, validated, checked, check_total, written;
    /* once over: the report (JSON object text, malloc'd) or the error */
    char *result;
    size_t result_len;
    cg_err error;
    struct import_job *next; /* newest first */
} import_job;

struct cg_http_imports {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    import_job *jobs;
    size_t n_jobs;
    int64_t next_id;
    atomic_int stop;
    pthread_t thread;
    int thread_running;
    char db[1024];
    size_t max_features;
    size_t max_unzipped; /* all the files of a zipped Shapefile, unpacked */
};

static int job_over(const import_job *j)
{
    return j->state >= JOB_IMPORTED;
}

static void job_free(import_job *j)
{
    free(j->data);
    free(j->result);
    free(j);
}

/* ---- the progress document ---- */

static void write_time(cg_buf *b, int64_t t)
{
    if (!t) {
        cg_buf_puts(b, "null");
        return;
    }
    char when[21];
    cg_time_iso8601(t, when);
    cg_buf_printf(b, "\"%s\"", when);
}

/* One number for a progress bar: reading 0-10, validating 10-40, checking 40-80, writing
 * 80-100. */
static int job_percent(const import_job *j)
{
    if (job_over(j))
        return 100;
    if (j->state == JOB_QUEUED || !j->phase || strcmp(j->phase, "reading") == 0)
        return j->total ? 10 : 0;
    double f = 0;
    if (strcmp(j->phase, "validating") == 0)
        f = 10 + 30.0 * (double)j->validated / (double)(j->total ? j->total : 1);
    else if (strcmp(j->phase, "checking") == 0)
        f = 40 + 40.0 * (double)j->checked / (double)(j->check_total ? j->check_total : 1);
    else if (strcmp(j->phase, "writing") == 0)
        f = 80 + 20.0 * (double)j->written / (double)(j->total ? j->total : 1);
    return f > 99 ? 99 : (int)f;
}

/* Under the registry's lock. */
static void job_write(cg_buf *b, const import_job *j)
{
    cg_buf_printf(b, "{\"id\":%lld,\"state\":\"%s\",\"dry_run\":%s,\"format\":\"%s\",",
                  (long long)j->id, state_names[j->state], j->dry_run ? "true" : "false",
                  j->zipped ? "shapefile" : "geojson");
    cg_buf_puts(b, "\"name\":");
    cg_json_write_string(b, j->name[0] ? j->name : NULL);
    cg_buf_printf(b, ",\"bytes\":%zu,\"crs\":\"%s\",\"created_at\":", j->bytes,
                  cg_crs_name(j->crs));
    write_time(b, j->created_at);
    cg_buf_puts(b, ",\"finished_at\":");
    write_time(b, j->finished_at);
    cg_buf_printf(b,
                  ",\"progress\":{\"phase\":\"%s\",\"total\":%zu,\"validated\":%zu,"
                  "\"checked\":%zu,\"check_total\":%zu,\"written\":%zu,\"percent\":%d}",
                  j->phase ? j->phase : "queued", j->total, j->validated, j->checked,
                  j->check_total, j->written, job_percent(j));
    cg_buf_puts(b, ",\"result\":");
    if (j->result)
        cg_buf_append(b, j->result, j->result_len);
    else
        cg_buf_puts(b, "null");
    cg_buf_puts(b, ",\"error\":");
    if (j->state == JOB_FAILED) {
        cg_buf_printf(b, "{\"code\":\"%s\",\"message\":", cg_code_name(j->error.code));
        cg_json_write_string(b, j->error.message);
        cg_buf_puts(b, ",\"field\":");
        cg_json_write_string(b, j->error.field[0] ? j->error.field : NULL);
        cg_buf_putc(b, '}');
    } else {
        cg_buf_puts(b, "null");
    }
    cg_buf_putc(b, '}');
}

/* ---- running a job (on the import thread) ---- */

typedef struct {
    cg_http_imports *im;
    import_job *job;
} progress_ctx;

static void set_phase(cg_http_imports *im, import_job *j, const char *phase)
{
    pthread_mutex_lock(&im->mu);
    j->phase = phase;
    pthread_mutex_unlock(&im->mu);
}

static void on_validated(void *ctx, size_t done, size_t total)
{
    progress_ctx *p = ctx;
    (void)total;
    pthread_mutex_lock(&p->im->mu);
    p->job->validated = done;
    pthread_mutex_unlock(&p->im->mu);
}

static void on_checked(void *ctx, size_t done, size_t total)
{
    progress_ctx *p = ctx;
    pthread_mutex_lock(&p->im->mu);
    p->job->checked = done;
    p->job->check_total = total;
    pthread_mutex_unlock(&p->im->mu);
}

static void on_written(void *ctx, size_t done, size_t total)
{
    progress_ctx *p = ctx;
    (void)total;
    pthread_mutex_lock(&p->im->mu);
    p->job->written = done;
    pthread_mutex_unlock(&p->im->mu);
}

/* The first coordinate pair anywhere under v (depth-bounded): where to draw a feature whose
 * geometry could not be read. */
static int first_pair(const json_t *v, int depth, cg_point *p)
{
    if (!json_is_array(v) || depth > 8)
        return -1;
    if (json_array_size(v) >= 2 && json_is_number(json_array_get(v, 0)) &&
        json_is_number(json_array_get(v, 1))) {
        p->x = json_number_value(json_array_get(v, 0));
        p->y = json_number_value(json_array_get(v, 1));
        return 0;
    }
    for (size_t i = 0; i < json_array_size(v); i++)
        if (first_pair(json_array_get(v, i), depth + 1, p) == 0)
            return 0;
    return -1;
}

static int point_ok(cg_point p)
{
    return p.x >= -180 && p.x <= 180 && p.y >= -90 && p.y <= 90;
}

static void write_point(cg_buf *b, cg_point p)
{
    cg_buf_printf(b, "{\"lon\":%.7f,\"lat\":%.7f}", p.x, p.y);
}

static void write_rejects(cg_buf *b, const import_job *j, const cg_feature *features,
                          const cg_reject *rejects, size_t n_rejects, const cg_grid_fields *fields)
{
    json_t *doc = NULL; /* the body parsed again, only if a reject has no readable geometry */
    int doc_tried = 0;
    size_t listed = n_rejects < REPORT_REJECTS_MAX ? n_rejects : REPORT_REJECTS_MAX;
    cg_buf_puts(b, "\"rejects\":[");
    for (size_t i = 0; i < listed; i++) {
        const cg_reject *r = &rejects[i];
        const cg_feature *f = &features[r->feature_index];
        char name[CG_NAME_MAX];
        cg_grid_import_feature_name(f, fields, name, sizeof name);
        cg_buf_printf(b, "%s{\"index\":%zu,\"code\":", i ? "," : "", r->feature_index);
        cg_json_write_string(b, r->code[0] ? r->code : NULL);
        cg_buf_puts(b, ",\"name\":");
        cg_json_write_string(b, name[0] ? name : NULL);
        cg_buf_puts(b, ",\"field\":");
        cg_json_write_string(b, r->field[0] ? r->field : NULL);
        cg_buf_puts(b, ",\"reason\":");
        cg_json_write_string(b, r->reason);
        cg_buf_puts(b, ",\"reason_code\":");
        cg_json_write_string(b, r->reason_code);
        cg_buf_puts(b, ",\"reason_value\":");
        cg_json_write_string(b, r->reason_value[0] ? r->reason_value : NULL);
        int has_geom = f->has_geom && !f->error[0] && f->geom.n_polys > 0;
        cg_point at = {0, 0};
        int has_point = 0;
        if (has_geom) {
            at = cg_mpoly_centroid(&f->geom);
            has_point = point_ok(at);
        } else {
            if (!doc_tried && !j->zipped) {
                doc_tried = 1;
                doc = json_loadb(j->data, j->len, JSON_DECODE_ANY, NULL);
            }
            const json_t *feature = NULL;
            if (json_is_array(json_object_get(doc, "features")))
                feature = json_array_get(json_object_get(doc, "features"), r->feature_index);
            else if (r->feature_index == 0)
                feature = doc;
            const json_t *coords =
                json_object_get(json_object_get(feature, "geometry"), "coordinates");
            if (first_pair(coords, 0, &at) == 0) {
                at = cg_crs_to_wgs84(j->crs, at);
                has_point = point_ok(at);
            }
        }
        cg_buf_puts(b, ",\"point\":");
        if (has_point)
            write_point(b, at);
        else
            cg_buf_puts(b, "null");
        cg_buf_puts(b, ",\"geometry\":");
        if (has_geom && b->len < REPORT_GEOMETRY_BYTES)
            cg_geojson_write_mpoly(b, &f->geom, CG_CRS_WGS84, 7);
        else
            cg_buf_puts(b, "null");
        cg_buf_putc(b, '}');
    }
    cg_buf_printf(b, "],\"rejects_listed\":%zu", listed);
    json_decref(doc);
}

static void write_findings(cg_buf *b, const cg_grid_import_finding *f, size_t n)
{
    size_t listed = n < REPORT_FINDINGS_MAX ? n : REPORT_FINDINGS_MAX;
    cg_buf_puts(b, "\"findings\":[");
    for (size_t i = 0; i < listed; i++) {
        cg_buf_printf(b, "%s{\"kind\":\"%s\",\"code\":", i ? "," : "",
                      cg_finding_kind_name(f[i].f.kind));
        cg_json_write_string(b, f[i].code);
        cg_buf_puts(b, ",\"other_code\":");
        cg_json_write_string(b, f[i].other_code[0] ? f[i].other_code : NULL);
        cg_buf_printf(b, ",\"other_stored\":%s,\"area_m2\":%.1f,\"reason\":",
                      f[i].other_stored ? "true" : "false", f[i].f.area_m2);
        cg_json_write_string(b, f[i].f.reason);
        cg_buf_printf(b, ",\"reason_code\":\"%s\"", cg_finding_reason_code(&f[i].f));
        cg_buf_puts(b, ",\"point\":");
        write_point(b, f[i].f.at);
        cg_buf_puts(b, ",\"geometry\":");
        if (f[i].f.geom.n_polys > 0 && b->len < REPORT_GEOMETRY_BYTES)
            cg_geojson_write_mpoly(b, &f[i].f.geom, CG_CRS_WGS84, 7);
        else
            cg_buf_puts(b, "null");
        cg_buf_putc(b, '}');
    }
    cg_buf_printf(b, "],\"findings_listed\":%zu", listed);
}

/* Runs one job to its end state; fills *result (the report) unless the job failed. */
static job_state job_run(cg_http_imports *im, import_job *j, cg_store **store, cg_buf *result,
                         cg_err *err)
{
    progress_ctx pc = {im, j};
    if (!*store && cg_store_open(im->db, 0, store, err) != 0) {
        *store = NULL;
        return JOB_FAILED;
    }
    if (cg_store_reopen_if_writable(store, err) < 0)
        return JOB_FAILED;
    cg_store *s = *store;
    cg_actor actor = {0};
    actor.actor_id = j->account_id;
    snprintf(actor.name, sizeof actor.name, "%s", j->username);
    snprintf(actor.address, sizeof actor.address, "%s", j->address);
    cg_store_set_actor(s, &actor);

    cg_grid_fields fields = {0};
    const char **slots[FIELD_COUNT] = {&fields.code,      &fields.name,   &fields.name_en,
                                       &fields.level,     &fields.parent, &fields.grade,
                                       &fields.households};
    for (int k = 0; k < FIELD_COUNT; k++)
        *slots[k] = j->fields[k][0] ? j->fields[k] : NULL;

    job_state end = JOB_FAILED;
    cg_feature *features = NULL;
    size_t n = 0, n_grids = 0, n_rejects = 0, n_findings = 0;
    cg_grid *grids = NULL;
    cg_reject *rejects = NULL;
    cg_grid_import_finding *findings = NULL;
    cg_grid_import_counts counts = {0};

    set_phase(im, j, "reading");
    cg_geojson_read_opts ro = {j->crs, im->max_features, 0};
    cg_shapefile_read_opts so = {j->encoding[0] ? j->encoding : NULL, j->crs, im->max_features};
    if (j->zipped
            ? cg_shapefile_read_zip(j->data, j->len, &so, im->max_unzipped, &features, &n, err) != 0
            : cg_geojson_read(j->data, j->len, &ro, &features, &n, err) != 0) {
        if (!err->field[0])
            snprintf(err->field, sizeof err->field, "body");
        goto done;
    }
    pthread_mutex_lock(&im->mu);
    j->total = n;
    j->phase = "validating";
    pthread_mutex_unlock(&im->mu);
    if (atomic_load(&im->stop))
        goto stopped;

    cg_grid_import_opts vo = {cg_grid_import_lookup_store, s, &j->scope, on_validated, &pc};
    if (cg_grid_import_prepare_with(features, n, &fields, &vo, &grids, &n_grids, &rejects,
                                    &n_rejects, err) != 0)
        goto done;
    if (atomic_load(&im->stop))
        goto stopped;

    set_phase(im, j, "checking");
    cg_topology_opts to = {0, on_checked, &pc};
    if (n_grids > 0 &&
        cg_grid_import_check(s, &j->scope, grids, n_grids, &to, &findings, &n_findings, err) != 0)
        goto done;
    if (atomic_load(&im->stop))
        goto stopped;

    if (n_rejects > 0) {
        end = JOB_REJECTED;
    } else if (j->dry_run) {
        end = JOB_VALIDATED;
    } else {
        set_phase(im, j, "writing");
        char target[48];
        snprintf(target, sizeof target, "import:%lld", (long long)j->id);
        if (cg_grid_import_write(s, grids, n_grids, cg_time_now(), target, on_written, &pc, &counts,
                                 err) != 0)
            goto done;
        end = JOB_IMPORTED;
    }

    cg_buf_printf(result,
                  "{\"features\":%zu,\"accepted\":%zu,\"rejected\":%zu,\"written\":%zu,"
                  "\"unchanged\":%zu,\"levels\":{",
                  n, n_grids, n_rejects, counts.written, counts.unchanged);
    for (int l = CG_LEVEL_DISTRICT, first = 1; l <= CG_LEVEL_SUBGRID; l++)
        if (counts.per_level[l]) {
            cg_buf_printf(result, "%s\"%s\":%zu", first ? "" : ",", cg_level_name(l),
                          counts.per_level[l]);
            first = 0;
        }
    cg_buf_puts(result, "},");
    write_rejects(result, j, features, rejects, n_rejects, &fields);
    cg_buf_putc(result, ',');
    write_findings(result, findings, n_findings);
    cg_buf_printf(result, ",\"findings_count\":%zu}", n_findings);
    goto done;
stopped:
    cg_err_set(err, CG_EBUSY, NULL,
               "the server stopped before the import ended: nothing was "
               "written; send the file again");
    end = JOB_FAILED;
done:
    for (size_t i = 0; i < n_grids; i++)
        cg_grid_free(&grids[i]);
    free(grids);
    free(rejects);
    cg_grid_import_findings_free(findings, n_findings);
    cg_features_free(features, n);
    cg_actor system = {0};
    snprintf(system.name, sizeof system.name, "system");
    cg_store_set_actor(s, &system);
    return end;
}

static import_job *next_queued(cg_http_imports *im)
{
    import_job *oldest = NULL;
    for (import_job *j = im->jobs; j; j = j->next)
        if (j->state == JOB_QUEUED)
            oldest = j; /* the list is newest first */
    return oldest;
}

static void *import_main(void *arg)
{
    cg_http_imports *im = arg;
    cg_store *store = NULL;
    pthread_mutex_lock(&im->mu);
    for (;;) {
        import_job *j = NULL;
        while (!atomic_load(&im->stop) && !(j = next_queued(im)))
            pthread_cond_wait(&im->cv, &im->mu);
        if (atomic_load(&im->stop))
            break;
        j->state = JOB_RUNNING;
        j->phase = "reading";
        pthread_mutex_unlock(&im->mu);

        cg_buf result;
        cg_buf_init(&result);
        cg_err err;
        cg_err_clear(&err);
        long long t0 = cg_time_mono_ns();
        job_state end = job_run(im, j, &store, &result, &err);
        size_t len = 0;
        char *text = end == JOB_FAILED ? NULL : cg_buf_detach(&result, &len);
        cg_buf_free(&result);
        cg_log_info("grid import %lld by %s: %s (%zu features, %.0f ms)%s%s", (long long)j->id,
                    j->username, state_names[end], j->total, (double)(cg_time_mono_ns() - t0) / 1e6,
                    end == JOB_FAILED ? ": " : "", end == JOB_FAILED ? err.message : "");

        pthread_mutex_lock(&im->mu);
        j->state = end;
        j->phase = "done";
        j->result = text;
        j->result_len = len;
        if (end == JOB_FAILED)
            j->error = err;
        j->finished_at = cg_time_now();
        free(j->data); /* the report is all a finished job keeps */
        j->data = NULL;
    }
    pthread_mutex_unlock(&im->mu);
    if (store)
        cg_store_close(store);
    return NULL;
}

int cg_http_imports_start(const cg_http_config *cfg, cg_http_imports **out, cg_err *err)
{
    cg_http_imports *im = calloc(1, sizeof *im);
    if (!im)
        return cg_err_set(err, CG_ENOMEM, NULL, "out of memory");
    pthread_mutex_init(&im->mu, NULL);
    pthread_cond_init(&im->cv, NULL);
    atomic_init(&im->stop, 0);
    im->next_id = 1;
    snprintf(im->db, sizeof im->db, "%s", cfg->db);
    im->max_features = (size_t)cfg->max_import_features;
    /* Shapefiles zip to about a third; four times the body allows for that, within 1 GiB. */
    long long unzipped = cfg->max_import_body * 4;
    im->max_unzipped = (size_t)(unzipped > MAX_UNZIPPED ? MAX_UNZIPPED : unzipped);
    if (pthread_create(&im->thread, NULL, import_main, im) != 0) {
        cg_http_imports_stop(im);
        return cg_err_set(err, CG_EIO, NULL, "cannot start the grid import thread");
    }
    im->thread_running = 1;
    *out = im;
    return 0;
}

void cg_http_imports_stop(cg_http_imports *im)
{
    if (!im)
        return;
    if (im->thread_running) {
        pthread_mutex_lock(&im->mu);
        atomic_store(&im->stop, 1);
        pthread_cond_broadcast(&im->cv);
        pthread_mutex_unlock(&im->mu);
        pthread_join(im->thread, NULL);
    }
    while (im->jobs) {
        import_job *j = im->jobs;
        im->jobs = j->next;
        job_free(j);
    }
    pthread_mutex_destroy(&im->mu);
    pthread_cond_destroy(&im->cv);
    free(im);
}

/* Forgets finished jobs past their time, and the oldest finished ones while more than `keep`
 * are remembered. Under the lock. */
static void prune(cg_http_imports *im, int64_t now, size_t keep)
{
    for (;;) {
        import_job **victim = NULL;
        for (import_job **p = &im->jobs; *p; p = &(*p)->next)
            if (job_over(*p) && (im->n_jobs > keep || now - (*p)->finished_at > JOB_KEEP_SECONDS))
                victim = p; /* the last one found is the oldest */
        if (!victim)
            return;
        import_job *j = *victim;
        *victim = j->next;
        job_free(j);
        im->n_jobs--;
    }
}

/* ---- the handlers ---- */

static void handle_import_post(cg_http_req *req)
{
    static const char *const known[] = {
        "dry_run",          "format",        "crs",         "name",         "code_field",
        "name_field",       "name_en_field", "level_field", "parent_field", "grade_field",
        "households_field", "encoding",      NULL};
    cg_err err;
    cg_err_clear(&err);
    if (cg_query_check_known(&req->query, known, &err) != 0)
        goto fail;
    import_job *j = cg_arena_calloc(req->arena, 1, sizeof *j); /* copied to the heap below */
    const char *format = cg_query_get(&req->query, "format");
    const char *type = cg_http_header(req, "Content-Type");
    if (format && strcmp(format, "geojson") != 0 && strcmp(format, "shapefile") != 0) {
        cg_err_set(&err, CG_EINVAL, "format",
                   "'%.32s' is not a format (geojson, or shapefile for a zipped Shapefile)",
                   format);
        goto fail;
    }
    j->zipped = format ? strcmp(format, "shapefile") == 0
                       : type && strncasecmp(type, "application/zip", 15) == 0;
    const char *encoding = cg_query_get(&req->query, "encoding");
    if (encoding) {
        if (!j->zipped) {
            cg_err_set(&err, CG_EINVAL, "encoding",
                       "an encoding is for Shapefile attributes (GeoJSON is UTF-8)");
            goto fail;
        }
        if (!encoding[0] || strlen(encoding) >= sizeof j->encoding) {
            cg_err_set(&err, CG_EINVAL, "encoding", "'%.32s' is not an encoding (UTF-8, GBK, ...)",
                       encoding);
            goto fail;
        }
        snprintf(j->encoding, sizeof j->encoding, "%s", encoding);
    }
    const char *crs = cg_query_get(&req->query, "crs");
    j->crs = CG_CRS_WGS84;
    if ((crs && cg_crs_parse(crs, "crs", &j->crs, &err) != 0) ||
        cg_query_bool(&req->query, "dry_run", &j->dry_run, &err) != 0)
        goto fail;
    for (int k = 0; k < FIELD_COUNT; k++) {
        const char *v = cg_query_get(&req->query, field_params[k]);
        if (!v)
            continue;
        if (!v[0] || strlen(v) >= FIELD_NAME_MAX) {
            cg_err_set(&err, CG_EINVAL, field_params[k], "an attribute name has 1 to %d bytes",
                       FIELD_NAME_MAX - 1);
            goto fail;
        }
        snprintf(j->fields[k], FIELD_NAME_MAX, "%s", v);
    }
    const char *name = cg_query_get(&req->query, "name");
    if (name) {
        if (strlen(name) >= FILE_NAME_MAX) {
            cg_err_set(&err, CG_EINVAL, "name", "a file name has at most %d bytes",
                       FILE_NAME_MAX - 1);
            goto fail;
        }
        snprintf(j->name, sizeof j->name, "%s", name);
    }
    if (req->body_in_len == 0) {
        cg_err_set(&err, CG_EINVAL, "body",
                   "the body is empty: send the file (GeoJSON, or a zipped Shapefile) as the "
                   "request body");
        goto fail;
    }

    cg_http_imports *im = cg_http_server_imports(req->server);
    int64_t now = cg_time_now();
    pthread_mutex_lock(&im->mu);
    prune(im, now, JOBS_KEPT_MAX - 1);
    size_t pending = 0;
    for (import_job *p = im->jobs; p; p = p->next)
        pending += !job_over(p);
    if (pending >= JOBS_PENDING_MAX || im->n_jobs >= JOBS_KEPT_MAX) {
        pthread_mutex_unlock(&im->mu);
        cg_http_add_header(req, "Retry-After", "5");
        cg_err_set(&err, CG_EBUSY, "body",
                   "%d imports are waiting or running: try again when one has finished",
                   JOBS_PENDING_MAX);
        goto fail;
    }
    import_job *job = malloc(sizeof *job);
    if (!job) {
        pthread_mutex_unlock(&im->mu);
        cg_err_set(&err, CG_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    *job = *j;
    job->id = im->next_id++;
    job->account_id = req->auth.account.id;
    snprintf(job->username, sizeof job->username, "%s", req->auth.account.username);
    snprintf(job->address, sizeof job->address, "%s", req->client);
    job->scope = *cg_http_scope(req);
    job->data = cg_http_body_take(req, &job->len);
    job->bytes = job->len;
    job->created_at = now;
    job->state = JOB_QUEUED;
    job->phase = "queued";
    job->next = im->jobs;
    im->jobs = job;
    im->n_jobs++;
    cg_buf *b = cg_http_scratch(req);
    job_write(b, job);
    char *location = cg_arena_sprintf(req->arena, "/api/v1/grids/imports/%lld", (long long)job->id);
    pthread_cond_signal(&im->cv);
    pthread_mutex_unlock(&im->mu);
    cg_http_add_header(req, "Location", location);
    cg_http_reply(req, 202, CONTENT_JSON, b);
    return;
fail:
    cg_http_reply_error(req, &err);
}

static void handle_import_get(cg_http_req *req)
{
    static const char *const known[] = {NULL};
    cg_err err;
    cg_err_clear(&err);
    if (cg_query_check_known(&req->query, known, &err) != 0) {
        cg_http_reply_error(req, &err);
        return;
    }
    const char *p = req->params[0];
    char *end;
    long long id = strtoll(p, &end, 10);
    if (!*p || *end || id < 1) {
        cg_err_set(&err, CG_EINVAL, "id", "'%.32s' is not an import number", p);
        cg_http_reply_error(req, &err);
        return;
    }
    cg_http_imports *im = cg_http_server_imports(req->server);
    cg_buf *b = cg_http_scratch(req);
    pthread_mutex_lock(&im->mu);
    prune(im, cg_time_now(), JOBS_KEPT_MAX);
    const import_job *j = im->jobs;
    while (j && !(j->id == id && j->account_id == req->auth.account.id))
        j = j->next;
    if (j)
        job_write(b, j);
    pthread_mutex_unlock(&im->mu);
    if (!j) {
        /* Another account's job answers as a job that does not exist. */
        cg_err_set(&err, CG_ENOTFOUND, "id",
                   "no import %lld of yours is remembered (finished imports are kept for an hour)",
                   id);
        cg_http_reply_error(req, &err);
        return;
    }
    cg_http_reply(req, 200, CONTENT_JSON, b);
}

const cg_route cg_import_routes[] = {
    {"POST", "/api/v1/grids/imports", handle_import_post,
     "start a grid import from a GeoJSON or zipped Shapefile body (202 with the job)",
     CG_PERM_GRID_WRITE},
    {"GET", "/api/v1/grids/imports/{id}", handle_import_get,
     "an import job's state, progress and report", CG_PERM_GRID_WRITE},
};
const size_t cg_import_routes_count = sizeof cg_import_routes / sizeof cg_import_routes[0];
