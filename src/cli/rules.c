/*
 * `civgrid categories export|import` and `civgrid calendar import|hours`: the rules of the case
 * loop as administrators edit them, JSON in and out (app/cases.h, the rule documents). An import
 * is validated by the model's parser before anything is written, so a bad file changes nothing
 * and the error names the field ("categories[12].limit", "holidays[3]"). A running server picks
 * the new rules up by their generation number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cases.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/opts.h"

#define RULE_FILE_MAX CG_CAT_JSON_MAX

/* Opens the store for writing, reads FILE and hands both to `put`. */
typedef int (*rule_put)(cg_store *s, const char *json, size_t len, char *done, size_t cap,
                        cg_err *err);

static int import_file(const cg_cmd_help *help, int argc, char **argv, const char **db,
                       rule_put put)
{
    int r = cg_opts_parse(help, &argc, argv);
    if (r != 0)
        return r > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;
    if (argc != 1) {
        fprintf(stderr, "usage: %s\n", help->usage);
        return CG_EXIT_USAGE;
    }
    char *data;
    size_t len;
    cg_err err = {0};
    if (cg_read_file(argv[0], &data, &len, RULE_FILE_MAX) != 0) {
        cg_err_set(&err, CG_EINVAL, "file", "cannot read '%s' (missing, unreadable or over %d KB)",
                   argv[0], RULE_FILE_MAX >> 10);
        return cg_cli_fail(&err);
    }
    cg_store *s;
    int status = cg_cli_open_store(cg_cli_db_path(*db), CG_STORE_CREATE, &s);
    if (status) {
        free(data);
        return status;
    }
    cg_cli_set_actor(s);
    char done[128];
    if (put(s, data, len, done, sizeof done, &err)) {
        cg_err_prefix(&err, "%s", argv[0]);
        status = cg_cli_fail(&err);
    } else {
        printf("%s\n", done);
    }
    cg_store_close(s);
    free(data);
    return status;
}

static int put_taxonomy(cg_store *s, const char *json, size_t len, char *done, size_t cap,
                        cg_err *err)
{
    if (cg_case_rules_put_taxonomy(s, json, len, err))
        return -1;
    cg_taxonomy tax;
    if (cg_taxonomy_parse(json, len, &tax, err))
        return -1;
    snprintf(done, cap, "imported %zu categories", tax.n);
    cg_taxonomy_free(&tax);
    return 0;
}

static int put_year(cg_store *s, const char *json, size_t len, char *done, size_t cap, cg_err *err)
{
    int year = 0;
    if (cg_case_rules_put_year(s, json, len, &year, err))
        return -1;
    snprintf(done, cap, "imported the holidays and make-up days of %d", year);
    return 0;
}

static int put_hours(cg_store *s, const char *json, size_t len, char *done, size_t cap, cg_err *err)
{
    if (cg_case_rules_put_hours(s, json, len, err))
        return -1;
    snprintf(done, cap, "imported the weekly working hours");
    return 0;
}

static int categories_export(int argc, char **argv)
{
    const char *db = NULL;
    int builtin = 0;
    const cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database (default $CIVGRID_DB or civgrid.db)"},
        {CG_OPT_FLAG, "default", NULL, &builtin, "the taxonomy built into civgrid (no database)"},
        {0}};
    const cg_cmd_help help = {"civgrid categories export [options]",
                              "Print the category taxonomy in force (stored, or the default) as "
                              "JSON, ready to edit and import.",
                              opts, NULL};
    int r = cg_opts_parse(&help, &argc, argv);
    if (r != 0)
        return r > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;
    if (argc != 0) {
        fprintf(stderr, "usage: %s\n", help.usage);
        return CG_EXIT_USAGE;
    }
    cg_buf out;
    cg_buf_init(&out);
    cg_err err = {0};
    int status = CG_EXIT_OK;
    if (builtin) {
        cg_taxonomy tax;
        if (cg_taxonomy_default(&tax, &err))
            return cg_cli_fail(&err);
        cg_taxonomy_to_json(&tax, &out);
        cg_taxonomy_free(&tax);
    } else {
        cg_store *s;
        status = cg_cli_open_store(cg_cli_db_path(db), CG_STORE_READONLY, &s);
        if (status)
            return status;
        if (cg_case_rules_export_taxonomy(s, &out, &err))
            status = cg_cli_fail(&err);
        cg_store_close(s);
    }
    if (status == CG_EXIT_OK)
        printf("%s\n", out.data);
    cg_buf_free(&out);
    return status;
}

int cmd_categories(int argc, char **argv)
{
    static const char usage[] = "usage: civgrid categories <export|import> [options]\n"
                                "  export            print the taxonomy in force as JSON\n"
                                "  import FILE       validate and store a taxonomy (JSON)\n";
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CG_EXIT_USAGE : CG_EXIT_OK;
    }
    if (strcmp(argv[1], "export") == 0)
        return categories_export(argc - 1, argv + 1);
    if (strcmp(argv[1], "import") == 0) {
        const char *db = NULL;
        const cg_opt opts[] = {
            {CG_OPT_STRING, "db", "FILE", &db, "database (default $CIVGRID_DB or civgrid.db)"},
            {0}};
        const cg_cmd_help help = {"civgrid categories import FILE [options]",
                                  "Validate a category taxonomy (docs/cases.md) and store it; "
                                  "nothing is written when any entry is wrong.",
                                  opts, NULL};
        return import_file(&help, argc - 1, argv + 1, &db, put_taxonomy);
    }
    fprintf(stderr, "civgrid: categories: '%s' is not a subcommand\n%s", argv[1], usage);
    return CG_EXIT_USAGE;
}

int cmd_calendar(int argc, char **argv)
{
    static const char usage[] =
        "usage: civgrid calendar <import|hours> FILE [options]\n"
        "  import FILE       one year's holidays and make-up working days (JSON)\n"
        "  hours FILE        the weekly working hours (JSON)\n";
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CG_EXIT_USAGE : CG_EXIT_OK;
    }
    const char *db = NULL;
    const cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database (default $CIVGRID_DB or civgrid.db)"}, {0}};
    if (strcmp(argv[1], "import") == 0) {
        const cg_cmd_help help = {"civgrid calendar import FILE [options]",
                                  "Validate and store one year of public holidays and make-up "
                                  "working days, replacing that year (docs/cases.md).",
                                  opts, NULL};
        return import_file(&help, argc - 1, argv + 1, &db, put_year);
    }
    if (strcmp(argv[1], "hours") == 0) {
        const cg_cmd_help help = {"civgrid calendar hours FILE [options]",
                                  "Store the weekly working hours: {\"mon\": "
                                  "\"08:30-12:00,13:30-17:30\", ..., \"sun\": \"\", "
                                  "\"makeup\": \"...\"}; a day left out keeps its default.",
                                  opts, NULL};
        return import_file(&help, argc - 1, argv + 1, &db, put_hours);
    }
    fprintf(stderr, "civgrid: calendar: '%s' is not a subcommand\n%s", argv[1], usage);
    return CG_EXIT_USAGE;
}
