/* `civgrid grids`: being written. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_grids(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "civgrid: grids is not built yet\n");
    return CG_EXIT_RUNTIME;
}
