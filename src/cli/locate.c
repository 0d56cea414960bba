/* `civgrid locate`: being written. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_locate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "civgrid: locate is not built yet\n");
    return CG_EXIT_RUNTIME;
}
