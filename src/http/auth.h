/*
 * Who is asking, and may they: the server's gate between routing and the handler.
 *
 * A request authenticates with a session cookie (the console: `cg_session`, HttpOnly,
 * SameSite=Strict) or a bearer token (`Authorization: Bearer ...`: the field app and scripts).
 * Either is a random token (core/crypto.h) whose SHA-256 names a session in the store; the store
 * never holds the token itself. The gate then checks the route's declared permission against the
 * one table in model/access.h (401 when not logged in, 403 when no role allows it), the CSRF
 * token of cookie-authenticated writes, and the rate limit of anonymous calls; it sets the
 * store's actor so every write the handler makes is audited under the caller's name.
 *
 * Logins are throttled twice: a token bucket per client address in memory (cheap, first), and
 * the lock-out with back-off per account and per address kept in the store (model/access.h,
 * cg_login_lock_until), which survives restarts and is shared by every worker thread.
 */
#ifndef CG_HTTP_AUTH_H
#define CG_HTTP_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

#define CG_SESSION_COOKIE_NAME "cg_session"

/* ---- the rate limiter: token buckets per key, in memory, bounded ---- */

typedef struct cg_rate_limiter cg_rate_limiter;

/* `per_minute` tokens a minute refill a bucket of `burst`; at most `max_keys` keys are kept, the
 * least recently used is forgotten first (a forgotten key starts again with a full bucket). */
cg_rate_limiter *cg_rate_limiter_new(int per_minute, int burst, size_t max_keys);
void cg_rate_limiter_free(cg_rate_limiter *l);
/* Takes one token for key at monotonic time now_ns: 0 when allowed, else the whole seconds until
 * a token is there (>= 1) for a Retry-After header. Thread-safe. */
int cg_rate_take(cg_rate_limiter *l, const char *key, long long now_ns);
/* Keys held now (<= max_keys). */
size_t cg_rate_limiter_size(cg_rate_limiter *l);
/* The server's limiters (server.c): logins, anonymous calls of public routes, base-map tiles. */
cg_rate_limiter *cg_http_rate_limiter(cg_http_req *req, cg_rate_bucket bucket);

/* ---- the gate (server.c calls these around every routed handler) ---- */

/*
 * Authenticates the request, applies rate limits, the route's permission and CSRF. Returns 0
 * when the handler may run (req->auth filled, the store's actor set), -1 after answering.
 */
int cg_http_auth_before(cg_http_req *req);
/* Resets the store's actor after the handler. */
void cg_http_auth_after(cg_http_req *req);

/* The caller's scope: the account's scope when logged in. Anonymous callers have none, and no
 * route that reads grids lets them through, so this is never called for them. */
const cg_scope *cg_http_scope(cg_http_req *req);

/* ---- logins and sessions (api_access.c's login and logout) ---- */

enum { CG_LOGIN_CONSOLE = 1, CG_LOGIN_TOKEN = 2 };

/*
 * Checks a username and password under both throttles and, when they pass, opens a session of
 * `client` kind and answers the request: 200 with the account (and the CSRF token, with the
 * cookie set, for the console; the bearer token for CG_LOGIN_TOKEN), 401 for a wrong username
 * or password (one message for both, one argon2 verification in both cases), 429 with
 * Retry-After while locked or over the rate (the same body whether or not the account exists).
 */
void cg_http_login(cg_http_req *req, const char *username, const char *password, int client);
/* Ends the caller's session (the store forgets its hash) and clears the cookie. */
int cg_http_logout(cg_http_req *req, cg_err *err);

/* Writes the account as JSON (no secret in it). */
void cg_http_write_account(cg_buf *b, const cg_account *a);

#endif
