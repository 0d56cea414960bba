/*
 * The HTTP server as `civgrid serve` drives it: start (open and check the database, load the
 * atlas, bind, start the libmicrohttpd thread pool), then on a signal quiesce (stop accepting),
 * wait for the requests in flight, and stop. Only src/cli/serve.c includes this.
 */
#ifndef CG_HTTP_SERVER_H
#define CG_HTTP_SERVER_H

#include <stdio.h>

#include "core/err.h"
#include "http/config.h"

typedef struct cg_http_server cg_http_server;

/* Validated config in, a listening server out. Fails before binding on a bad database. */
int cg_http_server_start(const cg_http_config *c, cg_http_server **out, cg_err *err);
/* The port actually bound (differs from the config's when it asked for 0). */
int cg_http_server_port(const cg_http_server *s);
/* Stops accepting connections; requests in flight carry on. */
void cg_http_server_quiesce(cg_http_server *s);
/* Requests started and not yet completed. */
unsigned cg_http_server_in_flight(cg_http_server *s);
/* Stops the threads, closes connections and the database, frees s. */
void cg_http_server_stop(cg_http_server *s);

/* Prints the route table, one "METHOD PATTERN" per line (compared against the OpenAPI document
 * by the API tests). */
void cg_http_routes_print(FILE *out);

#endif
