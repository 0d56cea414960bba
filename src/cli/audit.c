/*
 * `civgrid audit verify|list`: checking the audit log's hash chain end to end (app/audit.h) and
 * reading its entries. verify exits 1 and names the first broken entry when any row was changed,
 * removed or reordered behind civgrid's back. Both open the database read-only: they never write,
 * and verify holds no write lock however long the log.
 */
#include <stdio.h>
#include <string.h>

#include "app/audit.h"
#include "cli/cli.h"
#include "core/log.h"
#include "core/opts.h"

static int audit_verify(int argc, char **argv)
{
    const char *db = NULL;
    const cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database (default $CIVGRID_DB or civgrid.db)"}, {0}};
    const cg_cmd_help help = {"civgrid audit verify [options]",
                              "Check every link of the audit log's hash chain and its recorded "
                              "head.",
                              opts, "exit status: 0 intact, 1 broken (the entry is named)"};
    int r = cg_opts_parse(&help, &argc, argv);
    if (r != 0)
        return r > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;
    cg_store *s;
    int status = cg_cli_open_store(cg_cli_db_path(db), CG_STORE_READONLY, &s);
    if (status)
        return status;
    cg_err err = {0};
    cg_audit_verify_result res;
    if (cg_audit_verify(s, &res, &err)) {
        cg_store_close(s);
        return cg_cli_fail(&err);
    }
    cg_store_close(s);
    if (res.first_bad_seq) {
        printf("audit log BROKEN at entry %lld: %s (%lld entries before it are intact)\n",
               (long long)res.first_bad_seq, res.reason, (long long)res.checked);
        return CG_EXIT_FINDINGS;
    }
    printf("audit log intact: %lld entries\n", (long long)res.checked);
    return CG_EXIT_OK;
}

static int print_entry(void *ctx, const cg_audit_entry *e)
{
    (void)ctx;
    char when[21];
    cg_time_iso8601(e->at, when);
    printf("%-7lld %s %-20s %-15s %-16s %-24s %s\n", (long long)e->seq, when, e->actor,
           e->address[0] ? e->address : "-", e->action, e->target, e->summary);
    return 0;
}

static int audit_list(int argc, char **argv)
{
    const char *db = NULL, *actor = NULL, *action = NULL, *target = NULL;
    int limit = 50, since = 0, until = 0;
    const cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database (default $CIVGRID_DB or civgrid.db)"},
        {CG_OPT_STRING, "actor", "NAME", &actor, "only entries by this actor"},
        {CG_OPT_STRING, "action", "NAME", &action, "only this action (grid.put, user.create, ...)"},
        {CG_OPT_STRING, "target", "PREFIX", &target, "only targets starting with PREFIX"},
        {CG_OPT_INT, "since", "UNIX", &since, "only entries at or after this time"},
        {CG_OPT_INT, "until", "UNIX", &until, "only entries before this time"},
        {CG_OPT_INT, "limit", "N", &limit, "at most N entries, newest first (default 50; 0: all)"},
        {0}};
    const cg_cmd_help help = {"civgrid audit list [options]",
                              "List audit entries, newest first: seq, time, actor, address, "
                              "action, target, summary.",
                              opts, NULL};
    int r = cg_opts_parse(&help, &argc, argv);
    if (r != 0)
        return r > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;
    cg_store *s;
    int status = cg_cli_open_store(cg_cli_db_path(db), CG_STORE_READONLY, &s);
    if (status)
        return status;
    cg_audit_filter f = {.since = since,
                         .until = until,
                         .actor = actor,
                         .action = action,
                         .target_prefix = target,
                         .limit = limit,
                         .newest_first = 1};
    cg_err err = {0};
    if (cg_store_audit_list(s, &f, print_entry, NULL, &err))
        status = cg_cli_fail(&err);
    cg_store_close(s);
    return status;
}

int cmd_audit(int argc, char **argv)
{
    static const char usage[] = "usage: civgrid audit <verify|list> [options]\n"
                                "  verify    check the hash chain; exit 1 naming a broken entry\n"
                                "  list      list entries, newest first, with filters\n";
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CG_EXIT_USAGE : CG_EXIT_OK;
    }
    if (strcmp(argv[1], "verify") == 0)
        return audit_verify(argc - 1, argv + 1);
    if (strcmp(argv[1], "list") == 0)
        return audit_list(argc - 1, argv + 1);
    fprintf(stderr, "civgrid: audit: '%s' is not a subcommand\n%s", argv[1], usage);
    return CG_EXIT_USAGE;
}
