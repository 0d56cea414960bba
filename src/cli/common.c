/* Helpers every command shares: reporting an error value, choosing and opening the database. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cli/cli.h"

int cg_cli_fail(const cg_err *err)
{
    if (err->field[0])
        fprintf(stderr, "civgrid: %s: %s\n", err->field, err->message);
    else
        fprintf(stderr, "civgrid: %s\n", err->message);
    return cg_code_exit_status(err->code);
}

const char *cg_cli_db_path(const char *flag)
{
    if (flag && *flag)
        return flag;
    const char *env = getenv("CIVGRID_DB");
    return env && *env ? env : CG_DEFAULT_DB;
}

int cg_cli_open_store(const char *path, int flags, cg_store **out)
{
    cg_err err = {0};
    struct stat st;
    if (!(flags & CG_STORE_CREATE) && stat(path, &st) != 0) {
        fprintf(stderr,
                "civgrid: database %s does not exist (create one with 'civgrid demo' or "
                "'civgrid import', or name another with --db)\n",
                path);
        return CG_EXIT_INPUT;
    }
    if (cg_store_open(path, flags, out, &err) != 0)
        return cg_cli_fail(&err);
    return CG_EXIT_OK;
}
