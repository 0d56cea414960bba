/*
 * `civgrid maintenance`: purge expired sessions and residents' contact details kept longer than
 * the retention period after their case closed (app/maintenance.h), and report the counts.
 */
#include <stdio.h>
#include <time.h>

#include "app/maintenance.h"
#include "cli/cli.h"
#include "core/opts.h"

int cmd_maintenance(int argc, char **argv)
{
    const char *db = NULL;
    int retention_days = CG_RETENTION_DAYS_DEFAULT;
    const cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database (default $CIVGRID_DB or civgrid.db)"},
        {CG_OPT_INT, "retention-days", "N", &retention_days,
         "keep a resident's contact details N days after the case closed (default 180)"},
        {0}};
    const cg_cmd_help help = {"civgrid maintenance [options]",
                              "Purge expired sessions, and residents' contact details whose case "
                              "closed more than the retention period ago. Both are audited.",
                              opts, NULL};
    int r = cg_opts_parse(&help, &argc, argv);
    if (r != 0)
        return r > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;
    if (argc != 0 || retention_days < 0) {
        fprintf(stderr, "civgrid: maintenance takes no arguments and a retention of 0 days or "
                        "more\n");
        return CG_EXIT_USAGE;
    }
    cg_store *s;
    int status = cg_cli_open_store(cg_cli_db_path(db), 0, &s);
    if (status)
        return status;
    cg_cli_set_actor(s);
    cg_err err = {0};
    cg_maintenance_result res;
    if (cg_maintenance_run(s, (int64_t)time(NULL), retention_days, &res, &err)) {
        cg_store_close(s);
        return cg_cli_fail(&err);
    }
    cg_store_close(s);
    printf("purged %lld expired sessions and %lld resident contacts (cases closed more than %d "
           "days ago)\n",
           (long long)res.sessions_purged, (long long)res.contacts_purged, retention_days);
    return CG_EXIT_OK;
}
