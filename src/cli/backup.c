/*
 * `civgrid backup FILE` and `civgrid restore FILE`: a consistent copy of the database taken
 * while the server keeps writing, and putting one back after checking it.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/opts.h"

static void show_progress(void *ctx, int64_t done, int64_t total)
{
    int *last = ctx;
    int pct = total ? (int)(100 * done / total) : 100;
    if (pct == *last)
        return;
    *last = pct;
    fprintf(stderr, "\rbackup: %3d%%", pct);
    if (done == total)
        fputc('\n', stderr);
}

int cmd_backup(int argc, char **argv)
{
    const char *db = NULL;
    int force = 0;
    const cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database (default $CIVGRID_DB or civgrid.db)"},
        {CG_OPT_FLAG, "force", NULL, &force, "replace FILE if it exists"},
        {0}};
    const cg_cmd_help help = {
        "civgrid backup [options] FILE",
        "Copy the database into FILE as it was at one instant, while the server goes on\n"
        "writing. The copy appears under FILE only when it is complete.",
        opts, "exit status: 0 done, 2 usage error, 3 FILE exists, 4 failure"};
    int r = cg_opts_parse(&help, &argc, argv);
    if (r != 0)
        return r > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;
    if (argc != 1) {
        fprintf(stderr, "civgrid: backup needs the FILE to write\nusage: %s\n", help.usage);
        return CG_EXIT_USAGE;
    }
    struct stat st;
    if (!force && stat(argv[0], &st) == 0) {
        fprintf(stderr, "civgrid: %s exists (use --force to replace it)\n", argv[0]);
        return CG_EXIT_INPUT;
    }
    cg_store *s;
    int status = cg_cli_open_store(cg_cli_db_path(db), 0, &s);
    if (status)
        return status;
    cg_err err = {0};
    int last = -1;
    r = cg_store_backup(s, argv[0], isatty(2) ? show_progress : NULL, &last, &err);
    cg_store_close(s);
    if (r != 0)
        return cg_cli_fail(&err);
    if (stat(argv[0], &st) == 0)
        printf("backed up %s to %s (%lld bytes)\n", cg_cli_db_path(db), argv[0],
               (long long)st.st_size);
    return CG_EXIT_OK;
}

int cmd_restore(int argc, char **argv)
{
    const char *db = NULL;
    const cg_opt opts[] = {{CG_OPT_STRING, "db", "FILE", &db,
                            "database to replace (default $CIVGRID_DB or civgrid.db)"},
                           {0}};
    const cg_cmd_help help = {
        "civgrid restore [options] FILE",
        "Replace the database's contents with the backup FILE, after checking that FILE is an\n"
        "intact civgrid database of this version. A running server picks up the restored grids.",
        opts, "exit status: 0 done, 2 usage error, 3 FILE is not a usable backup, 4 failure"};
    int r = cg_opts_parse(&help, &argc, argv);
    if (r != 0)
        return r > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;
    if (argc != 1) {
        fprintf(stderr, "civgrid: restore needs the backup FILE\nusage: %s\n", help.usage);
        return CG_EXIT_USAGE;
    }
    cg_err err = {0};
    if (cg_store_restore(argv[0], cg_cli_db_path(db), &err) != 0)
        return cg_cli_fail(&err);
    printf("restored %s from %s\n", cg_cli_db_path(db), argv[0]);
    return CG_EXIT_OK;
}
