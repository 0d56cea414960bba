/* `civgrid demo`: being written. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_demo(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "civgrid: demo is not built yet\n");
    return CG_EXIT_RUNTIME;
}
