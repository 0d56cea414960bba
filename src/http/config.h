/*
 * The server's configuration: defaults, a small JSON file with the same keys as the command-line
 * flags, and validation before anything binds (nginx's habit: a bad config is refused with the
 * key and the reason, never discovered at the first request).
 *
 *   {"db": "civgrid.db", "bind": "127.0.0.1", "port": 8080, "threads": 2,
 *    "access_log": "-", "max_body": 1048576, "web": "web/dist"}
 */
#ifndef CG_HTTP_CONFIG_H
#define CG_HTTP_CONFIG_H

#include <stddef.h>

#include "core/err.h"

#define CG_HTTP_DEFAULT_PORT     8080
#define CG_HTTP_DEFAULT_MAX_BODY (1024 * 1024)
#define CG_HTTP_MAX_THREADS      256

typedef struct {
    char db[1024];
    char bind[256];
    int port;              /* 0: any free port (the chosen one is printed) */
    int threads;           /* worker threads; 0 until validated, then >= 1 */
    char access_log[1024]; /* "-" for stderr, "" for none, else a file appended to */
    long long max_body;    /* bytes */
    char web[1024];        /* static files of the web console; "" for none */
    int web_explicit;      /* web was given (a missing directory is then an error) */
} cg_http_config;

/* Defaults: db civgrid.db, bind 127.0.0.1, port 8080, threads = cores, access log to stderr,
 * max_body 1 MiB, web = <source>/web/dist when that exists. */
void cg_http_config_defaults(cg_http_config *c);

/* Applies a JSON config file over c. Unknown keys, wrong types and out-of-range values are
 * refused with field = the key. */
int cg_http_config_load(cg_http_config *c, const char *path, cg_err *err);

/* Range and consistency checks (port, threads, max_body, bind address syntax). */
int cg_http_config_validate(const cg_http_config *c, cg_err *err);

#endif
