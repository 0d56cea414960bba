/*
 * The server's grid import jobs (http/api_import.c), owned by server.c like the case state: a
 * bounded list of jobs in memory and one background thread that runs them one at a time, so a
 * long import never holds a worker thread. Nothing outside src/http/ includes this.
 */
#ifndef CG_HTTP_IMPORTS_STATE_H
#define CG_HTTP_IMPORTS_STATE_H

#include "http/config.h"
#include "http/http.h"

typedef struct cg_http_imports cg_http_imports;

/* Starts the import thread; its store connection is opened on cfg->db. */
int cg_http_imports_start(const cg_http_config *cfg, cg_http_imports **out, cg_err *err);
/* Stops the thread (a running job is failed at its next phase boundary, queued ones dropped:
 * nothing of theirs was written) and frees everything; NULL is fine. */
void cg_http_imports_stop(cg_http_imports *im);

/* server.c: the server's import jobs. */
cg_http_imports *cg_http_server_imports(cg_http_server *s);

#endif
