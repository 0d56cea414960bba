/* `civgrid import`: being written. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_import(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "civgrid: import is not built yet\n");
    return CG_EXIT_RUNTIME;
}
