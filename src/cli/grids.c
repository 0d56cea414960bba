/*
 * `civgrid grids list|show|history|check|renumber`: looking at the grid hierarchy, checking its
 * topology and numbering children west->east, north->south (编号上图).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/atlas.h"
#include "app/grid_json.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/opts.h"

#define PARSE_OR_RETURN(help)                                                                      \
    do {                                                                                           \
        int parsed_ = cg_opts_parse(help, &argc, argv);                                            \
        if (parsed_ != 0)                                                                          \
            return parsed_ > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;                                       \
    } while (0)

static int print_row(void *ctx, const cg_grid *g)
{
    (void)ctx;
    printf("%-17s %-9s %-6s %8d %12.0f  %s%s%s\n", g->code, cg_level_name(g->level),
           cg_grade_name(g->grade), g->households, g->area_m2, g->name_zh,
           g->name_en[0] ? " / " : "", g->name_en);
    return 0;
}

typedef struct {
    cg_buf *out;
    size_t n;
} feature_ctx;

static int write_feature(void *ctx, const cg_grid *g)
{
    feature_ctx *f = ctx;
    if (f->n++)
        cg_buf_putc(f->out, ',');
    cg_grid_write_feature(f->out, g, CG_CRS_WGS84);
    return 0;
}

static int grids_list(int argc, char **argv)
{
    const char *db = NULL, *parent = NULL, *level_name = NULL;
    int geojson = 0;
    const cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database (default $CIVGRID_DB or civgrid.db)"},
        {CG_OPT_STRING, "parent", "CODE", &parent, "only the children of this grid"},
        {CG_OPT_STRING, "level", "LEVEL", &level_name,
         "district, street, community, grid, subgrid"},
        {CG_OPT_FLAG, "geojson", NULL, &geojson, "print a GeoJSON FeatureCollection"},
        {0}};
    const cg_cmd_help help = {"civgrid grids list [options]",
                              "List current grids: code, level, grade, households, area in m2 and "
                              "names.",
                              opts, NULL};
    PARSE_OR_RETURN(&help);
    cg_grid_filter f = {0};
    f.parent_code = parent;
    if (level_name && cg_level_parse(level_name, &f.level) != 0) {
        fprintf(stderr,
                "civgrid: level: '%s' is not a level (district, street, community, grid, "
                "subgrid)\n",
                level_name);
        return CG_EXIT_USAGE;
    }
    cg_store *s;
    int status = cg_cli_open_store(cg_cli_db_path(db), 0, &s);
    if (status)
        return status;
    cg_err err = {0};
    int r;
    if (geojson) {
        cg_buf out;
        cg_buf_init(&out);
        feature_ctx ctx = {&out, 0};
        f.with_geom = 1;
        cg_buf_puts(&out, "{\"type\":\"FeatureCollection\",\"features\":[");
        r = cg_store_grid_list(s, &f, write_feature, &ctx, &err);
        cg_buf_puts(&out, "]}\n");
        if (r == 0)
            fwrite(out.data, 1, out.len, stdout);
        cg_buf_free(&out);
    } else {
        printf("%-17s %-9s %-6s %8s %12s  %s\n", "code", "level", "grade", "hh", "area_m2", "name");
        r = cg_store_grid_list(s, &f, print_row, NULL, &err);
    }
    cg_store_close(s);
    return r == 0 ? CG_EXIT_OK : cg_cli_fail(&err);
}

static int print_version(void *ctx, const cg_grid *g)
{
    (void)ctx;
    char from[21], to[21] = "current";
    cg_time_iso8601(g->valid_from, from);
    if (g->valid_to)
        cg_time_iso8601(g->valid_to, to);
    printf("%s  %-20s -> %-20s  %s  %.0f m2, %d households\n", g->code, from, to, g->name_zh,
           g->area_m2, g->households);
    return 0;
}

static int grids_show(int argc, char **argv, int history)
{
    const char *db = NULL, *crs_name = NULL;
    const cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database (default $CIVGRID_DB or civgrid.db)"},
        {CG_OPT_STRING, "crs", "CRS", &crs_name, "output coordinates: wgs84 (default) or gcj02"},
        {0}};
    const cg_cmd_help show_help = {"civgrid grids show [options] CODE",
                                   "Print one grid as JSON, with its geometry.", opts, NULL};
    const cg_cmd_help history_help = {"civgrid grids history [options] CODE",
                                      "List every version of a grid, oldest first.", opts, NULL};
    const cg_cmd_help *help = history ? &history_help : &show_help;
    PARSE_OR_RETURN(help);
    if (argc != 1) {
        fprintf(stderr, "civgrid: a CODE is needed\nusage: %s\n", help->usage);
        return CG_EXIT_USAGE;
    }
    cg_err err = {0};
    cg_crs crs;
    if (cg_crs_parse(crs_name, "crs", &crs, &err) != 0)
        return cg_cli_fail(&err);
    cg_store *s;
    int status = cg_cli_open_store(cg_cli_db_path(db), 0, &s);
    if (status)
        return status;
    int r;
    if (history) {
        r = cg_store_grid_history(s, argv[0], print_version, NULL, &err);
    } else {
        cg_grid g;
        cg_grid_init(&g);
        r = cg_store_grid_get(s, argv[0], 0, 1, &g, &err);
        if (r == 0) {
            cg_buf out;
            cg_buf_init(&out);
            cg_grid_write_json(&out, &g, 1, crs);
            cg_buf_putc(&out, '\n');
            fwrite(out.data, 1, out.len, stdout);
            cg_buf_free(&out);
        }
        cg_grid_free(&g);
    }
    cg_store_close(s);
    return r == 0 ? CG_EXIT_OK : cg_cli_fail(&err);
}

/* Progress on a terminal only: a percentage redrawn in place when it moves. */
static void show_progress(void *ctx, size_t done, size_t total)
{
    int *last = ctx;
    int pct = total ? (int)(100 * done / total) : 100;
    if (pct == *last)
        return;
    *last = pct;
    fprintf(stderr, "\rchecking topology: %3d%%", pct);
    if (done == total)
        fputc('\n', stderr);
}

static int grids_check(int argc, char **argv)
{
    const char *db = NULL, *geojson = NULL;
    double min_area = 1.0;
    int quiet = 0;
    const cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database (default $CIVGRID_DB or civgrid.db)"},
        {CG_OPT_STRING, "geojson", "FILE", &geojson,
         "also write the findings as GeoJSON (- for "
         "stdout, then text goes to stderr)"},
        {CG_OPT_DOUBLE, "min-area", "M2", &min_area, "ignore slivers smaller than this (1 m2)"},
        {CG_OPT_FLAG, "quiet", NULL, &quiet, "no progress output"},
        {0}};
    const cg_cmd_help help = {
        "civgrid grids check [options]",
        "Check the topology of the current grid hierarchy: invalid polygons, children outside\n"
        "their parent, overlapping siblings, and gaps (parts of a parent no child covers).\n"
        "Each finding has its area in m2 and a point on it.",
        opts, "exit status: 0 clean, 1 findings, 2 usage error, 4 failure"};
    PARSE_OR_RETURN(&help);
    if (argc != 0) {
        fprintf(stderr, "civgrid: grids check takes no arguments\nusage: %s\n", help.usage);
        return CG_EXIT_USAGE;
    }
    cg_store *s;
    int status = cg_cli_open_store(cg_cli_db_path(db), 0, &s);
    if (status)
        return status;
    cg_err err = {0};
    cg_atlas *atlas = NULL;
    if (cg_atlas_load(s, 0, &atlas, &err) != 0) {
        cg_store_close(s);
        return cg_cli_fail(&err);
    }
    cg_store_close(s);
    int last_pct = -1;
    cg_topology_opts topts = {min_area, quiet || !isatty(2) ? NULL : show_progress, &last_pct};
    cg_finding *findings = NULL;
    size_t n = 0;
    if (cg_atlas_check(atlas, &topts, &findings, &n, &err) != 0) {
        cg_atlas_free(atlas);
        return cg_cli_fail(&err);
    }
    cg_buf text;
    cg_buf_init(&text);
    cg_atlas_findings_text(atlas, findings, n, &text);
    cg_buf_printf(&text, "%zu grids checked, %zu finding%s\n", cg_atlas_count(atlas), n,
                  n == 1 ? "" : "s");
    int to_stdout = geojson && strcmp(geojson, "-") == 0;
    fwrite(text.data, 1, text.len, to_stdout ? stderr : stdout);
    if (geojson) {
        cg_buf gj;
        cg_buf_init(&gj);
        cg_atlas_findings_geojson(atlas, findings, n, &gj);
        FILE *f = to_stdout ? stdout : fopen(geojson, "w");
        if (!f || fwrite(gj.data, 1, gj.len, f) != gj.len) {
            fprintf(stderr, "civgrid: cannot write %s\n", geojson);
            status = CG_EXIT_RUNTIME;
        }
        if (f && !to_stdout)
            fclose(f);
        cg_buf_free(&gj);
    }
    cg_buf_free(&text);
    cg_findings_free(findings, n);
    cg_atlas_free(atlas);
    if (status)
        return status;
    return n ? CG_EXIT_FINDINGS : CG_EXIT_OK;
}

/* ---- renumbering ---- */

typedef struct {
    cg_grid *items;
    size_t n, cap;
} grid_list;

static int keep_grid(void *ctx, const cg_grid *g)
{
    grid_list *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->items = realloc(l->items, sizeof(cg_grid) * l->cap);
        if (!l->items)
            abort();
    }
    cg_grid_copy(&l->items[l->n++], g);
    return 0;
}

static void free_list(grid_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        cg_grid_free(&l->items[i]);
    free(l->items);
}

/*
 * Plans the renumbering of the children of `parent` (and, with recursive, of every level below):
 * reads only, appending each grid with its new code to `plan` and its old code to `old_codes`.
 * A child's new code becomes the prefix of its whole subtree even without recursive. Planning
 * before writing matters: once two siblings swap codes, "the children of 001" would mean a
 * different set of rows.
 */
static int plan_renumber(cg_store *s, const char *parent, const char *new_parent, int recursive,
                         grid_list *plan, grid_list *old_codes, cg_err *err)
{
    grid_list kids = {0};
    cg_grid_filter f = {0};
    f.parent_code = parent;
    f.with_geom = 1;
    if (cg_store_grid_list(s, &f, keep_grid, &kids, err) != 0) {
        free_list(&kids);
        return -1;
    }
    int r = 0;
    size_t *order = malloc(sizeof(size_t) * (kids.n ? kids.n : 1));
    cg_point *centroids = malloc(sizeof(cg_point) * (kids.n ? kids.n : 1));
    double *heights = malloc(sizeof(double) * (kids.n ? kids.n : 1));
    if (!centroids || !heights || !order)
        abort();
    for (size_t i = 0; i < kids.n; i++) {
        centroids[i] = cg_mpoly_centroid(&kids.items[i].geom);
        cg_bbox b = cg_mpoly_bbox(&kids.items[i].geom);
        heights[i] = b.max_y - b.min_y;
    }
    cg_grid_number_order(centroids, heights, kids.n, order);
    free(centroids);
    free(heights);
    for (size_t k = 0; k < kids.n && r == 0; k++) {
        cg_grid *g = &kids.items[order[k]];
        char old_code[CG_CODE_MAX], new_code[CG_CODE_MAX];
        snprintf(old_code, sizeof old_code, "%s", g->code);
        if (recursive || strcmp(parent, new_parent) == 0) {
            if (cg_grid_child_code(new_parent, g->level, (int)k + 1, new_code, err) != 0) {
                r = -1;
                break;
            }
        } else {
            /* Below a renumbered grid without --recursive: keep the sequence, swap the prefix. */
            snprintf(new_code, sizeof new_code, "%s%s", new_parent, old_code + strlen(parent));
        }
        keep_grid(old_codes, g);
        snprintf(g->code, sizeof g->code, "%s", new_code);
        snprintf(g->parent_code, sizeof g->parent_code, "%s", new_parent);
        keep_grid(plan, g);
        if (recursive || strcmp(old_code, new_code) != 0)
            r = plan_renumber(s, old_code, new_code, recursive, plan, old_codes, err);
    }
    free(order);
    free_list(&kids);
    return r;
}

/* Applies a plan: retire every old code first, so new codes never meet a current row. */
static int apply_renumber(cg_store *s, grid_list *plan, const grid_list *old_codes, int dry_run,
                          size_t *changed, cg_err *err)
{
    int64_t now = cg_time_now();
    for (size_t i = 0; i < plan->n; i++) {
        if (strcmp(old_codes->items[i].code, plan->items[i].code) != 0) {
            printf("%s -> %s  %s\n", old_codes->items[i].code, plan->items[i].code,
                   plan->items[i].name_zh);
            (*changed)++;
        }
    }
    if (dry_run)
        return 0;
    for (size_t i = 0; i < plan->n; i++)
        if (strcmp(old_codes->items[i].code, plan->items[i].code) != 0 &&
            cg_store_grid_retire(s, old_codes->items[i].code, now, err) != 0)
            return -1;
    for (size_t i = 0; i < plan->n; i++)
        if (strcmp(old_codes->items[i].code, plan->items[i].code) != 0 &&
            cg_store_grid_put(s, &plan->items[i], now, err) != 0)
            return -1;
    return 0;
}

static int grids_renumber(int argc, char **argv)
{
    const char *db = NULL;
    int recursive = 0, dry_run = 0;
    const cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database (default $CIVGRID_DB or civgrid.db)"},
        {CG_OPT_FLAG, "recursive", NULL, &recursive, "renumber every level below PARENT too"},
        {CG_OPT_FLAG, "dry-run", NULL, &dry_run, "print the new codes; write nothing"},
        {0}};
    const cg_cmd_help help = {
        "civgrid grids renumber [options] PARENT",
        "Number the children of PARENT west->east within rows running north->south (编号上图),\n"
        "giving each the code PARENT + its 3-digit (sub-grid: 2-digit) sequence number. A child's\n"
        "descendants take its new code as their prefix. Old codes stay in the grid history.",
        opts, NULL};
    PARSE_OR_RETURN(&help);
    if (argc != 1) {
        fprintf(stderr, "civgrid: renumber needs the PARENT code\nusage: %s\n", help.usage);
        return CG_EXIT_USAGE;
    }
    cg_store *s;
    int status = cg_cli_open_store(cg_cli_db_path(db), 0, &s);
    if (status)
        return status;
    cg_cli_set_actor(s);
    cg_err err = {0};
    cg_grid parent;
    cg_grid_init(&parent);
    if (cg_store_grid_get(s, argv[0], 0, 0, &parent, &err) != 0) {
        cg_store_close(s);
        return cg_cli_fail(&err);
    }
    cg_grid_free(&parent);
    size_t changed = 0;
    grid_list plan = {0}, old_codes = {0};
    int r = cg_store_begin(s, &err);
    if (r == 0)
        r = plan_renumber(s, argv[0], argv[0], recursive, &plan, &old_codes, &err);
    if (r == 0)
        r = apply_renumber(s, &plan, &old_codes, dry_run, &changed, &err);
    free_list(&plan);
    free_list(&old_codes);
    if (r == 0 && !dry_run)
        r = cg_store_commit(s, &err);
    if (r != 0 || dry_run)
        cg_store_rollback(s);
    cg_store_close(s);
    if (r != 0)
        return cg_cli_fail(&err);
    printf("%zu code%s %s\n", changed, changed == 1 ? "" : "s",
           dry_run ? "would change (dry run)" : "changed");
    return CG_EXIT_OK;
}

int cmd_grids(int argc, char **argv)
{
    static const cg_opt opts[] = {{0}};
    static const cg_cmd_help help = {
        "civgrid grids (list|show|history|check|renumber) [options]",
        "Work with the grid hierarchy:\n"
        "  list               list current grids (filters: --parent, --level; --geojson)\n"
        "  show CODE          one grid as JSON with its geometry\n"
        "  history CODE       every version of a grid\n"
        "  check              topology check: invalid polygons, outside parent, overlaps, gaps\n"
        "  renumber PARENT    number children west->east, north->south\n"
        "'civgrid grids <subcommand> --help' lists its options.",
        opts, NULL};
    if (argc >= 2) {
        const char *sub = argv[1];
        if (strcmp(sub, "list") == 0)
            return grids_list(argc - 1, argv + 1);
        if (strcmp(sub, "show") == 0)
            return grids_show(argc - 1, argv + 1, 0);
        if (strcmp(sub, "history") == 0)
            return grids_show(argc - 1, argv + 1, 1);
        if (strcmp(sub, "check") == 0)
            return grids_check(argc - 1, argv + 1);
        if (strcmp(sub, "renumber") == 0)
            return grids_renumber(argc - 1, argv + 1);
    }
    int r = cg_opts_parse(&help, &argc, argv);
    if (r != 0)
        return r > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;
    fprintf(stderr, "civgrid: grids needs a subcommand\nusage: %s\n", help.usage);
    return CG_EXIT_USAGE;
}
