/*
 * civgrid: `civgrid <command> [options]`. This file only dispatches to the commands in src/cli/;
 * everything else lives in the library so tests and benchmarks link the same code.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} command;

static const command commands[] = {
    {"demo", cmd_demo,
     "generate a demo district (roads, buildings, places, grids) into a database"},
    {"serve", cmd_serve, "run the HTTP server (API v1 and the web console)"},
    {"import", cmd_import, "import grids (GeoJSON, Shapefile) or an OpenStreetMap extract"},
    {"grids", cmd_grids, "list, show, check topology and renumber grids"},
    {"locate", cmd_locate, "find the grid path of a point, or of every row of a CSV file"},
    {"backup", cmd_backup, "copy the database consistently while the server keeps writing"},
    {"restore", cmd_restore, "replace the database with a checked backup"},
    {"user", cmd_user, "add, list, disable, enable, grant accounts and set their passwords"},
    {"audit", cmd_audit, "verify the audit log's hash chain, or list its entries"},
    {"categories", cmd_categories, "export or import the case category taxonomy (JSON)"},
    {"calendar", cmd_calendar, "import a year's holidays or the weekly working hours (JSON)"},
    {"maintenance", cmd_maintenance,
     "purge expired sessions and residents' contacts past retention"},
    {"net", cmd_net, "build the road graph and routing hierarchy for a profile"},
    {"route", cmd_route, "the fastest route between two points on the road network"},
    {"cover", cmd_cover, "response-time coverage of every grid from posts on the road network"},
    {"iso", cmd_iso, "the road network reachable from a point within a time budget"},
    {"posts", cmd_posts, "plan patrol posts so demand is reached within a time budget"},
    {"version", cmd_version, "print the version and the database schema version"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: civgrid <command> [options]\n\n"
                 "civgrid runs grid-based community safety and public services: grids, places,\n"
                 "cases, patrols and plans.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'civgrid <command> --help' describes a command and its options.\n"
                 "exit status: 0 ok, 1 problems found, 2 usage error, 3 bad input, 4 runtime "
                 "failure\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CG_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CG_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "civgrid: '%s' is not a command (see 'civgrid --help')\n", argv[1]);
    return CG_EXIT_USAGE;
}
