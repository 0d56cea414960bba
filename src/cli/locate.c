/*
 * `civgrid locate LAT LON` and `civgrid locate --csv in.csv > out.csv`: the grid path of a point,
 * or of every row of a CSV file (the row gets grid_code, grid_name, grid_path and locate_error
 * columns appended). Rows with bad coordinates are kept with the reason, never dropped.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/atlas.h"
#include "cli/cli.h"
#include "core/csv.h"
#include "core/log.h"
#include "core/opts.h"
#include "geo/crs.h"

static int parse_coord(const char *s, double *out)
{
    char *end;
    errno = 0;
    while (*s == ' ')
        s++;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (errno || end == s || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static long find_column(const cg_csv_reader *r, const char *chosen, const char *const *names)
{
    for (size_t i = 0; i < r->n_fields; i++) {
        const char *h = cg_csv_field(r, i);
        if (chosen) {
            if (strcmp(h, chosen) == 0)
                return (long)i;
            continue;
        }
        for (const char *const *n = names; *n; n++)
            if (strcasecmp(h, *n) == 0)
                return (long)i;
    }
    return -1;
}

static void append_path(cg_buf *out, const cg_atlas *a, const size_t *path, size_t depth)
{
    cg_buf cell;
    cg_buf_init(&cell);
    for (size_t k = 0; k < depth; k++) {
        if (k)
            cg_buf_puts(&cell, " > ");
        cg_buf_puts(&cell, cg_atlas_grid(a, path[k])->name_zh);
    }
    cg_csv_write_field(out, cell.data ? cell.data : "");
    cg_buf_free(&cell);
}

static int locate_csv(const cg_atlas *a, const char *path, cg_crs crs, const char *lat_col,
                      const char *lon_col)
{
    static const char *const lat_names[] = {"lat", "latitude", "y", "纬度", NULL};
    static const char *const lon_names[] = {"lon", "lng", "longitude", "x", "经度", NULL};
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!in) {
        fprintf(stderr, "civgrid: cannot open %s: %s\n", path, strerror(errno));
        return CG_EXIT_INPUT;
    }
    cg_csv_reader r;
    cg_csv_reader_init(&r, in);
    int status = CG_EXIT_OK;
    if (cg_csv_next(&r) != 1) {
        fprintf(stderr, "civgrid: %s: no header line\n", path);
        status = CG_EXIT_INPUT;
        goto done;
    }
    long lat_i = find_column(&r, lat_col, lat_names), lon_i = find_column(&r, lon_col, lon_names);
    if (lat_i < 0 || lon_i < 0) {
        fprintf(stderr,
                "civgrid: %s: header has no %s column (name it with --%s-column; looked for %s)\n",
                path, lat_i < 0 ? "latitude" : "longitude", lat_i < 0 ? "lat" : "lon",
                lat_i < 0 ? (lat_col ? lat_col : "lat, latitude, y, 纬度")
                          : (lon_col ? lon_col : "lon, lng, longitude, x, 经度"));
        status = CG_EXIT_INPUT;
        goto done;
    }
    size_t n_header = r.n_fields, rows = 0, located = 0, bad = 0;
    cg_buf out;
    cg_buf_init(&out);
    for (size_t i = 0; i < r.n_fields; i++) {
        cg_csv_write_field(&out, cg_csv_field(&r, i));
        cg_buf_putc(&out, ',');
    }
    cg_buf_puts(&out, "grid_code,grid_name,grid_path,locate_error\n");
    int got;
    while ((got = cg_csv_next(&r)) == 1) {
        if (r.n_fields == 1 && cg_csv_field(&r, 0)[0] == '\0')
            continue; /* blank line */
        rows++;
        for (size_t i = 0; i < n_header; i++) {
            cg_csv_write_field(&out, cg_csv_field(&r, i));
            cg_buf_putc(&out, ',');
        }
        double lat, lon;
        cg_err err = {0};
        const char *problem = NULL;
        if (parse_coord(cg_csv_field(&r, (size_t)lat_i), &lat) != 0)
            problem = "latitude is not a number";
        else if (parse_coord(cg_csv_field(&r, (size_t)lon_i), &lon) != 0)
            problem = "longitude is not a number";
        else if (cg_point_check((cg_point){lon, lat}, "point", &err) != 0)
            problem = err.message;
        if (problem) {
            bad++;
            cg_buf_puts(&out, ",,,");
            cg_csv_write_field(&out, problem);
        } else {
            size_t p[16];
            size_t depth = cg_atlas_locate(a, cg_crs_to_wgs84(crs, (cg_point){lon, lat}), p, 16);
            if (depth) {
                const cg_grid *g = cg_atlas_grid(a, p[depth - 1]);
                located++;
                cg_buf_puts(&out, g->code);
                cg_buf_putc(&out, ',');
                cg_csv_write_field(&out, g->name_zh);
                cg_buf_putc(&out, ',');
                append_path(&out, a, p, depth);
                cg_buf_putc(&out, ',');
            } else {
                cg_buf_puts(&out, ",,,outside every grid");
            }
        }
        cg_buf_putc(&out, '\n');
        if (out.len > (1 << 20)) {
            fwrite(out.data, 1, out.len, stdout);
            cg_buf_reset(&out);
        }
    }
    fwrite(out.data, 1, out.len, stdout);
    cg_buf_free(&out);
    if (got < 0) {
        fprintf(stderr,
                "civgrid: %s: line %zu: malformed CSV (unterminated quote or a record "
                "over 1 MiB); stopped there\n",
                path, r.next_line);
        status = CG_EXIT_INPUT;
    }
    fprintf(stderr, "%zu rows: %zu located, %zu outside every grid, %zu with bad coordinates\n",
            rows, located, rows - located - bad, bad);
done:
    cg_csv_reader_free(&r);
    if (in != stdin)
        fclose(in);
    return status;
}

int cmd_locate(int argc, char **argv)
{
    const char *db = NULL, *crs_name = NULL, *csv = NULL, *lat_col = NULL, *lon_col = NULL;
    const cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database (default $CIVGRID_DB or civgrid.db)"},
        {CG_OPT_STRING, "crs", "CRS", &crs_name, "coordinates given in wgs84 (default) or gcj02"},
        {CG_OPT_STRING, "csv", "FILE", &csv, "locate every row of a CSV file (- for stdin)"},
        {CG_OPT_STRING, "lat-column", "NAME", &lat_col,
         "CSV latitude column (default: lat, "
         "latitude, y, 纬度)"},
        {CG_OPT_STRING, "lon-column", "NAME", &lon_col,
         "CSV longitude column (default: lon, lng, "
         "longitude, x, 经度)"},
        {0}};
    const cg_cmd_help help = {
        "civgrid locate [options] LAT LON\n       civgrid locate --csv FILE [options] > out.csv",
        "Find the grid path (district > street > community > grid) of a point, or of every row\n"
        "of a CSV file, which is written to stdout with grid_code, grid_name, grid_path and\n"
        "locate_error columns appended.",
        opts, "exit status: 0 located, 1 the point is in no grid, 2 usage error, 3 bad input"};
    int r = cg_opts_parse(&help, &argc, argv);
    if (r != 0)
        return r > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;
    cg_err err = {0};
    cg_crs crs;
    if (cg_crs_parse(crs_name, "crs", &crs, &err) != 0)
        return cg_cli_fail(&err);
    double lat = 0, lon = 0;
    if (!csv) {
        if (argc != 2) {
            fprintf(stderr, "civgrid: locate needs LAT LON or --csv FILE\nusage: %s\n", help.usage);
            return CG_EXIT_USAGE;
        }
        if (parse_coord(argv[0], &lat) != 0)
            return cg_err_set(&err, CG_EINVAL, "lat", "'%s' is not a number", argv[0]),
                   cg_cli_fail(&err);
        if (parse_coord(argv[1], &lon) != 0)
            return cg_err_set(&err, CG_EINVAL, "lon", "'%s' is not a number", argv[1]),
                   cg_cli_fail(&err);
        if (cg_point_check((cg_point){lon, lat}, "point", &err) != 0)
            return cg_cli_fail(&err);
    } else if (argc != 0) {
        fprintf(stderr, "civgrid: with --csv, give no LAT LON\nusage: %s\n", help.usage);
        return CG_EXIT_USAGE;
    }
    cg_store *s;
    int status = cg_cli_open_store(cg_cli_db_path(db), CG_STORE_READONLY, &s);
    if (status)
        return status;
    cg_atlas *atlas;
    r = cg_atlas_load(s, 0, &atlas, &err);
    cg_store_close(s);
    if (r != 0)
        return cg_cli_fail(&err);
    if (csv) {
        status = locate_csv(atlas, csv, crs, lat_col, lon_col);
    } else {
        size_t path[16];
        size_t depth = cg_atlas_locate(atlas, cg_crs_to_wgs84(crs, (cg_point){lon, lat}), path, 16);
        for (size_t k = 0; k < depth; k++) {
            const cg_grid *g = cg_atlas_grid(atlas, path[k]);
            printf("%-9s %-17s %s%s%s\n", cg_level_name(g->level), g->code, g->name_zh,
                   g->name_en[0] ? " / " : "", g->name_en);
        }
        if (depth == 0) {
            fprintf(stderr, "civgrid: (%.7f, %.7f) lies in no grid\n", lat, lon);
            status = CG_EXIT_FINDINGS;
        }
    }
    cg_atlas_free(atlas);
    return status;
}
