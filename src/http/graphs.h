/*
 * The road graphs the API answers from: the files `civgrid net build` writes beside the database
 * (DB.car.graph, ...), mapped on first use per profile and mapped again when the file changes (a
 * rebuild renames a new file into place). A request holds the graph it started with, so a swap
 * never pulls it away mid-query; caches built on a graph (http/api_plan.c) hold it too, and key
 * on its serial, which no other load in the process shares. Search workspaces (a few bytes per
 * node each) are pooled per graph rather than allocated per request.
 */
#ifndef CG_HTTP_GRAPHS_H
#define CG_HTTP_GRAPHS_H

#include <stdint.h>

#include "http/http.h"
#include "net/route.h"

typedef struct cg_http_graph cg_http_graph;

/* The current graph of profile p (loading or reloading it), with one reference taken. A missing
 * file is CG_ENOTFOUND, a stale or damaged one CG_ECONFLICT (from cg_graph_load). */
int cg_http_graph_acquire(cg_http_req *req, cg_profile p, cg_http_graph **out, cg_err *err);
/* Another reference to a graph already held. */
void cg_http_graph_hold(cg_http_graph *h);
/* Gives back a reference, and s (a workspace from cg_http_graph_search, or NULL) to the pool. */
void cg_http_graph_release(cg_http_graph *h, cg_search *s);

const cg_graph *cg_http_graph_get(const cg_http_graph *h);
cg_profile cg_http_graph_profile(const cg_http_graph *h);
uint64_t cg_http_graph_serial(const cg_http_graph *h);
/* A search workspace on the graph, from its pool when one is free. */
int cg_http_graph_search(cg_http_graph *h, cg_search **out, cg_err *err);

#endif
