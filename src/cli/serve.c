/* `civgrid serve`: being written. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "civgrid: serve is not built yet\n");
    return CG_EXIT_RUNTIME;
}
