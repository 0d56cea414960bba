/*
 * Guards for JSON from outside, before jansson parses it: a bound on nesting depth, so a body of
 * a million '[' is refused in one linear scan instead of driving the parser deep, and the common
 * "one JSON object with only these keys" check of API request bodies.
 */
#ifndef CG_CORE_JSON_H
#define CG_CORE_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "core/err.h"

/*
 * CG_ELIMIT (naming line and column) when arrays and objects nest deeper than max_depth.
 * Brackets inside strings do not count; nothing else is validated. `what` names the document in
 * the message ("the document", "the request body").
 */
int cg_json_check_depth(const char *data, size_t len, int max_depth, const char *what, cg_err *err);

/* Depth allowed in API request bodies. */
#define CG_JSON_BODY_MAX_DEPTH 16

/*
 * Parses a request body that must be one JSON object whose keys are all in known[] (NULL-
 * terminated): depth-checked, duplicate keys refused. Returns a new reference, or NULL with err
 * naming the field ("body", or the unknown key).
 */
json_t *cg_json_parse_object(const char *data, size_t len, const char *const *known, cg_err *err);

#endif
