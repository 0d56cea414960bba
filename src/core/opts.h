/*
 * The one option parser every command uses (git's parse-options habit): a command describes its
 * options in a table, and gets --help, "--name value" and "--name=value", type checking and a
 * precise message for a bad option for free.
 *
 *   static cg_opt opts[] = {
 *       {CG_OPT_STRING, "db", "FILE", &db_path, "database file (default civgrid.db)"},
 *       {CG_OPT_FLAG, "json", NULL, &as_json, "print JSON instead of text"},
 *       {0}};
 *   static const cg_cmd_help help = {"civgrid grids check [options]", "Check grid topology.", opts,
 * NULL}; int r = cg_opts_parse(&help, &argc, argv);   // argc/argv now hold the positional
 * arguments if (r != 0) return r > 0 ? 0 : 2;
 */
#ifndef CG_CORE_OPTS_H
#define CG_CORE_OPTS_H

typedef enum { CG_OPT_END = 0, CG_OPT_FLAG, CG_OPT_STRING, CG_OPT_INT, CG_OPT_DOUBLE } cg_opt_type;

typedef struct {
    cg_opt_type type;
    const char *name; /* long name without the leading "--" */
    const char *arg;  /* the placeholder shown in --help, e.g. "FILE" */
    void *value;      /* int* for FLAG and INT, const char** for STRING, double* for DOUBLE */
    const char *help;
} cg_opt;

typedef struct {
    const char *usage;   /* "civgrid locate [options] LAT LON" */
    const char *summary; /* one or two sentences */
    const cg_opt *opts;  /* terminated by a zeroed entry */
    const char *epilog;  /* examples, exit codes; may be NULL */
} cg_cmd_help;

/*
 * Parses argv[1..argc) (argv[0] is the command name). On success, returns 0 and leaves the
 * positional arguments in argv[0..*argc). Returns 1 after printing --help to stdout, and -1 after
 * printing an error and the usage line to stderr.
 */
int cg_opts_parse(const cg_cmd_help *help, int *argc, char **argv);

void cg_opts_print_help(const cg_cmd_help *help, void *stream);

#endif
