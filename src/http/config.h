/*
 * The server's configuration: defaults, a small JSON file with the same keys as the command-line
 * flags, and validation before anything binds (nginx's habit: a bad config is refused with the
 * key and the reason, never discovered at the first request).
 *
 *   {"db": "civgrid.db", "bind": "127.0.0.1", "port": 8080, "threads": 2,
 *    "access_log": "-", "max_body": 1048576, "web": "web/dist",
 *    "session_hours": 12, "token_days": 30, "login_rate": 20, "login_burst": 10,
 *    "public_rate": 600, "public_burst": 60, "tile_rate": 3000, "tile_burst": 400,
 *    "rate_clients": 4096,
 *    "trusted_proxies": "10.0.0.5,10.0.0.6", "connection_timeout": 30, "max_connections": 1024,
 *    "retention_days": 180, "photo_dir": "civgrid.db.photos", "case_timer_seconds": 60}
 *
 * Sessions: a console login (cookie) lives session_hours, a bearer token token_days. Rate limits
 * are token buckets per client address: *_rate requests a minute, bursts of *_burst, for at most
 * rate_clients addresses at once (the oldest is forgotten first). Anonymous base-map tiles have a
 * bucket of their own (tile_rate, tile_burst), so a resident panning the map never uses up the
 * public bucket their report needs (and tiles never starve the map). trusted_proxies are the
 * reverse proxies whose X-Forwarded-For names the client and whose X-Forwarded-Proto: https marks
 * the request as TLS (session cookies then get Secure); anyone else's forwarding headers are
 * ignored.
 *
 * A connection silent for connection_timeout seconds is closed, whether idle between requests or
 * stalled in the middle of one (a client sending its headers a byte at a time, slower than that):
 * connections are multiplexed on epoll, so a slow client holds a connection slot, never a worker
 * thread. At most max_connections are open at once (the file-descriptor limit is raised to fit).
 *
 * Cases: photos are stored under photo_dir (default: the database path + ".photos"); the case
 * timer (escalation of overdue disputes, overdue counts, old idempotency keys) runs every
 * case_timer_seconds (0 turns it off, e.g. when another server on the same database runs it).
 *
 * Grid imports through the API (POST /api/v1/grids/imports): the body may be up to
 * max_import_body bytes (default 64 MiB; a limit of that route only, checked after the caller
 * is let through) and hold up to max_import_features features (default 200,000).
 *
 * Open311 (docs/open311.md): open311_api_keys lists the keys that may POST requests
 * ("key1,key2": 8 to 128 characters each of A-Z a-z 0-9 - _ .; none configured refuses every
 * submission with the spec's 403), open311_jurisdiction the jurisdiction_id this server answers
 * for (a host name such as "civgrid.example.cn"; when empty, jurisdiction_id is ignored), and
 * open311_contact the contact line of the discovery document.
 */
#ifndef CG_HTTP_CONFIG_H
#define CG_HTTP_CONFIG_H

#include <stddef.h>

#include "core/err.h"

#define CG_HTTP_DEFAULT_PORT     8080
#define CG_HTTP_DEFAULT_MAX_BODY (1024 * 1024)
#define CG_HTTP_MAX_THREADS      256
#define CG_HTTP_DEFAULT_TIMEOUT  30
#define CG_HTTP_DEFAULT_MAX_CONN 1024
#define CG_HTTP_MAX_CONNECTIONS  65536

typedef struct {
    char db[1024];
    char bind[256];
    int port;                      /* 0: any free port (the chosen one is printed) */
    int threads;                   /* worker threads; 0 until validated, then >= 1 */
    char access_log[1024];         /* "-" for stderr, "" for none, else a file appended to */
    long long max_body;            /* bytes */
    char web[1024];                /* static files of the web console; "" for none */
    int web_explicit;              /* web was given (a missing directory is then an error) */
    int session_hours;             /* cookie sessions */
    int token_days;                /* bearer tokens */
    int login_rate, login_burst;   /* per client address: per minute, bucket size */
    int public_rate, public_burst; /* anonymous calls of public endpoints, per address */
    int tile_rate, tile_burst;     /* anonymous base-map tiles, per address (own bucket) */
    int rate_clients;              /* addresses the rate limiter remembers */
    char trusted_proxies[512];     /* comma-separated addresses; "" for none */
    int retention_days;            /* resident contacts are purged this long after closing */
    int connection_timeout;        /* seconds a connection may stay silent (mid-request too) */
    int max_connections;           /* open connections at once; more are refused at accept */
    char photo_dir[1024];          /* case photos; "" for <db>.photos */
    int case_timer_seconds;        /* the case timer's period; 0: off */
    int case_rows_mb;              /* memory for listed cases' rows (app/case_index.h); 0: none */
    long long max_import_body;     /* bytes of a grid import uploaded to the API */
    int max_import_features;       /* features of one such import */

    /* Open311 */
    char open311_api_keys[1024];    /* "key1,key2" for POST requests; "" refuses all (403) */
    char open311_jurisdiction[256]; /* the jurisdiction_id served; "": any (ignored) */
    char open311_contact[256];      /* discovery's contact line; "" for none */
} cg_http_config;

/* Is addr one of the configured trusted proxies? */
int cg_http_config_trusts(const cg_http_config *c, const char *addr);

/* Defaults: db civgrid.db, bind 127.0.0.1, port 8080, threads = cores, access log to stderr,
 * max_body 1 MiB, web = <source>/web/dist when that exists, sessions 12 h, tokens 30 days, login
 * 20/min (burst 10), public 600/min (burst 60), tiles 3000/min (burst 400), 4096 rate-limited
 * addresses, no trusted proxy, connection timeout 30 s, 1024 connections. */
void cg_http_config_defaults(cg_http_config *c);

/* Applies a JSON config file over c. Unknown keys, wrong types and out-of-range values are
 * refused with field = the key. */
int cg_http_config_load(cg_http_config *c, const char *path, cg_err *err);

/* Range and consistency checks (port, threads, max_body, bind address syntax, timer period). */
int cg_http_config_validate(const cg_http_config *c, cg_err *err);

/* The photo directory to use: photo_dir, or <db>.photos when it is empty. */
void cg_http_config_photo_dir(const cg_http_config *c, char *out, size_t cap);

#define CG_HTTP_DEFAULT_MAX_IMPORT_BODY     (64LL * 1024 * 1024)
#define CG_HTTP_DEFAULT_MAX_IMPORT_FEATURES 200000
#define CG_HTTP_MAX_IMPORT_FEATURES         10000000

#define CG_HTTP_CASE_ROWS_MB_DEFAULT 512
#define CG_HTTP_CASE_ROWS_MB_MAX     (1 << 20)

#define CG_HTTP_CASE_TIMER_DEFAULT 60
#define CG_HTTP_CASE_TIMER_MAX     86400

#endif
