/*
 * `civgrid serve`: the HTTP server (API v1 and the web console). Settings come from defaults, then
 * a JSON config file, then flags, and are validated before anything binds. Shutdown is graceful:
 * the first SIGTERM/SIGINT stops accepting and waits for the requests in flight, a second one
 * forces the exit.
 */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/opts.h"
#include "http/config.h"
#include "http/server.h"

#define UNSET INT_MIN

static int copy_setting(char *dst, size_t cap, const char *value, const char *key, cg_err *err)
{
    if (strlen(value) >= cap)
        return cg_err_set(err, CG_EINVAL, key, "longer than %zu bytes", cap - 1);
    memcpy(dst, value, strlen(value) + 1);
    return 0;
}

typedef struct {
    int port, threads, max_body, connection_timeout, max_connections, case_rows_mb;
} numeric_flags;

static int apply_flags(cg_http_config *c, const char *db, const char *bind, const numeric_flags *n,
                       const char *access_log, const char *web, cg_err *err)
{
    if ((db && copy_setting(c->db, sizeof c->db, db, "db", err) != 0) ||
        (bind && copy_setting(c->bind, sizeof c->bind, bind, "bind", err) != 0) ||
        (access_log &&
         copy_setting(c->access_log, sizeof c->access_log, access_log, "access-log", err) != 0) ||
        (web && copy_setting(c->web, sizeof c->web, web, "web", err) != 0))
        return -1;
    if (web)
        c->web_explicit = 1;
    if (n->port != UNSET)
        c->port = n->port;
    if (n->threads != UNSET)
        c->threads = n->threads;
    if (n->max_body != UNSET)
        c->max_body = n->max_body;
    if (n->connection_timeout != UNSET)
        c->connection_timeout = n->connection_timeout;
    if (n->max_connections != UNSET)
        c->max_connections = n->max_connections;
    if (n->case_rows_mb != UNSET)
        c->case_rows_mb = n->case_rows_mb;
    return 0;
}

/* Waits for the in-flight requests to finish; a second signal cuts it short. */
static int drain(cg_http_server *srv, const sigset_t *signals)
{
    const struct timespec tick = {0, 20 * 1000 * 1000};
    while (cg_http_server_in_flight(srv) > 0) {
        int sig = sigtimedwait(signals, NULL, &tick);
        if (sig > 0) {
            fprintf(stderr, "civgrid: second signal (%s): exiting now\n", strsignal(sig));
            return -1;
        }
    }
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    const char *db = NULL, *bind = NULL, *config = NULL, *access_log = NULL, *web = NULL;
    numeric_flags n = {UNSET, UNSET, UNSET, UNSET, UNSET, UNSET};
    int routes = 0;
    const cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database file (default civgrid.db)"},
        {CG_OPT_STRING, "bind", "ADDR", &bind, "address to listen on (default 127.0.0.1)"},
        {CG_OPT_INT, "port", "N", &n.port, "port to listen on (default 8080; 0 picks a free one)"},
        {CG_OPT_INT, "threads", "N", &n.threads, "worker threads (default: number of cores)"},
        {CG_OPT_STRING, "config", "FILE", &config,
         "JSON file with the same settings (db, bind, port, threads, access_log, max_body, web); "
         "flags override it"},
        {CG_OPT_STRING, "access-log", "FILE|-", &access_log,
         "access log file, '-' for stderr (default), '' for none"},
        {CG_OPT_INT, "max-body", "BYTES", &n.max_body,
         "largest request body accepted (default 1048576)"},
        {CG_OPT_INT, "connection-timeout", "SEC", &n.connection_timeout,
         "close a connection silent this long, mid-request too (default 30)"},
        {CG_OPT_INT, "max-connections", "N", &n.max_connections,
         "connections open at once (default 1024)"},
        {CG_OPT_INT, "case-rows-mb", "MB", &n.case_rows_mb,
         "memory for the rows of listed cases, kept to answer lists again (default 512; 0: none)"},
        {CG_OPT_STRING, "web", "DIR", &web, "static files of the web console (default web/dist)"},
        {CG_OPT_FLAG, "routes", NULL, &routes, "print the route table and exit"},
        {0}};
    const cg_cmd_help help = {
        "civgrid serve [options]",
        "Serve the API v1 and the web console over HTTP until SIGTERM or SIGINT (the first "
        "finishes the requests in flight, a second forces the exit).",
        opts,
        "The database must exist (create one with `civgrid demo` or `civgrid import`).\n"
        "exit status: 0 stopped cleanly, 2 bad option or setting, 3 missing database,\n"
        "4 database or network failure (e.g. a database from a newer civgrid)."};
    int r = cg_opts_parse(&help, &argc, argv);
    if (r != 0)
        return r > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;
    if (argc > 0) {
        fprintf(stderr, "civgrid: serve takes no arguments (got '%s')\n", argv[0]);
        return CG_EXIT_USAGE;
    }
    if (routes) {
        cg_http_routes_print(stdout);
        return CG_EXIT_OK;
    }

    cg_http_config cfg;
    cg_err err;
    cg_err_clear(&err);
    /* Page caches from one fixed 64 MB pool (touched once at start), so resident memory stays
     * flat under load: bench/load.sh grew 15 MB in 120 s without it, 2 MB with it. Caches
     * beyond the pool use the heap; a failure here only means the heap is used throughout. */
    if (cg_store_use_page_pool((size_t)64 << 20, &err) != 0)
        cg_err_clear(&err);
    cg_http_config_defaults(&cfg);
    if (config && cg_http_config_load(&cfg, config, &err) != 0) {
        fprintf(stderr, "civgrid: config %s: %s%s%s\n", config, err.field, err.field[0] ? ": " : "",
                err.message);
        return CG_EXIT_USAGE;
    }
    if (apply_flags(&cfg, db, bind, &n, access_log, web, &err) != 0 ||
        cg_http_config_validate(&cfg, &err) != 0) {
        fprintf(stderr, "civgrid: %s: %s\n", err.field, err.message);
        return CG_EXIT_USAGE;
    }

    /* Signals are taken synchronously by this thread; block them before any worker starts so
     * that no worker inherits a handler. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);

    cg_http_server *srv;
    if (cg_http_server_start(&cfg, &srv, &err) != 0)
        return cg_cli_fail(&err);
    int v6 = strchr(cfg.bind, ':') != NULL;
    printf("civgrid: serving http://%s%s%s:%d/ (db %s, %d threads)\n", v6 ? "[" : "", cfg.bind,
           v6 ? "]" : "", cg_http_server_port(srv), cfg.db, cfg.threads);
    fflush(stdout);

    int sig;
    while (sigwait(&signals, &sig) != 0)
        ;
    fprintf(stderr, "civgrid: %s: stopping (%u requests in flight)\n", strsignal(sig),
            cg_http_server_in_flight(srv));
    cg_http_server_quiesce(srv);
    if (drain(srv, &signals) != 0)
        _exit(CG_EXIT_RUNTIME);
    cg_http_server_stop(srv);
    fprintf(stderr, "civgrid: stopped\n");
    return CG_EXIT_OK;
}
