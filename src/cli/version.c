/* `civgrid version`: the program version and the schema version it reads and writes. */
#include <stdio.h>

#include "cli/cli.h"
#include "core/opts.h"
#include "store/store.h"

#define CIVGRID_VERSION "0.1.0"

int cmd_version(int argc, char **argv)
{
    static const cg_opt opts[] = {{0}};
    static const cg_cmd_help help = {"civgrid version",
                                     "Print the version of civgrid and the "
                                     "database schema version it uses.",
                                     opts, NULL};
    int r = cg_opts_parse(&help, &argc, argv);
    if (r != 0)
        return r > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;
    printf("civgrid %s (schema version %d)\n", CIVGRID_VERSION,
           cg_store_schema_version_supported());
    return CG_EXIT_OK;
}
