/*
 * The server's long-lived case state, shared by server.c (which owns its lifetime) and
 * http/cases_ctx.c (which implements it and cg_http_case_ctx): the current case rules, cached
 * process-wide and swapped when the store's rules generation changes (requests hold a reference,
 * as they hold the atlas); the group-commit intake queue; the photo directory; and the case timer
 * thread. Nothing outside src/http/ includes this.
 */
#ifndef CG_HTTP_CASES_STATE_H
#define CG_HTTP_CASES_STATE_H

#include "app/cases.h"
#include "http/config.h"
#include "http/http.h"

typedef struct cg_http_cases cg_http_cases;

/* Loads the rules through s, creates the photo directory and starts the intake queue on
 * cfg->db. */
int cg_http_cases_start(const cg_http_config *cfg, cg_store *s, cg_http_cases **out, cg_err *err);
/* Starts the timer thread when cfg->case_timer_seconds > 0: its own connection, a pass at
 * once and then every period; the atlas of each pass comes from `server`. */
int cg_http_cases_timer_start(cg_http_cases *c, cg_http_server *server, cg_err *err);
/* Joins the timer, stops the intake (committing what is queued) and frees; NULL is fine. Call
 * after the worker threads have stopped. */
void cg_http_cases_stop(cg_http_cases *c);
/* Closes the intake (cg_intake_close): what is queued is committed and its requests woken, later
 * submissions are refused. server.c calls it before stopping libmicrohttpd, so no request is
 * left suspended. NULL is fine. */
void cg_http_cases_close_intake(cg_http_cases *c);
/* Drops a request's hold on the rules (server.c, when the request completes). */
void cg_http_case_rules_release(cg_case_rules_ref *r);

/* server.c: the server's case state, and the atlas for threads that are not requests. */
cg_http_cases *cg_http_server_cases(cg_http_server *s);
cg_atlas_ref *cg_http_server_atlas_hold(cg_http_server *s);
const cg_atlas *cg_http_atlas_ref_atlas(const cg_atlas_ref *r);
void cg_http_server_atlas_release(cg_atlas_ref *r);

#endif
