/*
 * The commands of the civgrid binary, one file each under src/cli/ (git's builtins model). Each
 * entry point gets argv with argv[0] the command name and returns the process exit status:
 *   0 success, 1 the command ran and found problems (e.g. topology findings),
 *   2 usage error (bad option), 3 bad input data (nothing was written), 4 runtime failure
 *   (database, file system).
 */
#ifndef CG_CLI_CLI_H
#define CG_CLI_CLI_H

#include "core/err.h"
#include "store/store.h"

#define CG_EXIT_OK       0
#define CG_EXIT_FINDINGS 1
#define CG_EXIT_USAGE    2
#define CG_EXIT_INPUT    3
#define CG_EXIT_RUNTIME  4

#define CG_DEFAULT_DB "civgrid.db"

int cmd_demo(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_grids(int argc, char **argv);
int cmd_locate(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_net(int argc, char **argv);
int cmd_route(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_maintenance(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_cover(int argc, char **argv);
int cmd_iso(int argc, char **argv);
int cmd_posts(int argc, char **argv);
int cmd_categories(int argc, char **argv);
int cmd_calendar(int argc, char **argv);
/* `civgrid import osm`, called by `civgrid import` (src/cli/import_osm.c). */
int cg_cli_import_osm(int argc, char **argv);

/* Prints "civgrid: <message>" (with the field when there is one) and returns the exit status. */
int cg_cli_fail(const cg_err *err);
/* The database path: the --db flag when given, else $CIVGRID_DB, else civgrid.db. */
const char *cg_cli_db_path(const char *flag);
/* Opens the store, printing a clear message on failure; returns an exit status (0 on success). */
int cg_cli_open_store(const char *path, int flags, cg_store **out);
/* Attributes the store's writes to "cli:<unix user>", the audit log's actor (src/cli/user.c). */
void cg_cli_set_actor(cg_store *s);

#endif
