/*
 * Server configuration: see config.h. The file is parsed with jansson (it is read once at start,
 * so convenience beats speed here) and every key is checked by the same rules as the flags.
 */
#include "app/maintenance.h"
#include "http/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_BODY_LIMIT (1024LL * 1024 * 1024)

void cg_http_config_defaults(cg_http_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->db, sizeof c->db, "civgrid.db");
    snprintf(c->bind, sizeof c->bind, "127.0.0.1");
    c->port = CG_HTTP_DEFAULT_PORT;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    c->threads = cores < 1 ? 1 : cores > CG_HTTP_MAX_THREADS ? CG_HTTP_MAX_THREADS : (int)cores;
    snprintf(c->access_log, sizeof c->access_log, "-");
    c->max_body = CG_HTTP_DEFAULT_MAX_BODY;
    struct stat st;
    if (stat(CIVGRID_SOURCE_DIR "/web/dist", &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(c->web, sizeof c->web, "%s", CIVGRID_SOURCE_DIR "/web/dist");
    c->session_hours = 12;
    c->retention_days = CG_RETENTION_DAYS_DEFAULT;
    c->token_days = 30;
    c->login_rate = 20;
    c->login_burst = 10;
    c->public_rate = 600;
    c->public_burst = 60;
    c->tile_rate = 3000;
    c->tile_burst = 400;
    c->rate_clients = 4096;
    c->connection_timeout = CG_HTTP_DEFAULT_TIMEOUT;
    c->max_connections = CG_HTTP_DEFAULT_MAX_CONN;
    c->case_timer_seconds = CG_HTTP_CASE_TIMER_DEFAULT;
    c->case_rows_mb = CG_HTTP_CASE_ROWS_MB_DEFAULT;
    c->max_import_body = CG_HTTP_DEFAULT_MAX_IMPORT_BODY;
    c->max_import_features = CG_HTTP_DEFAULT_MAX_IMPORT_FEATURES;
}

void cg_http_config_photo_dir(const cg_http_config *c, char *out, size_t cap)
{
    if (c->photo_dir[0])
        snprintf(out, cap, "%s", c->photo_dir);
    else
        snprintf(out, cap, "%s.photos", c->db);
}

/* Checks each comma-separated entry is an IPv4 or IPv6 address. */
static int check_proxies(const char *list, cg_err *err)
{
    char copy[512];
    snprintf(copy, sizeof copy, "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        unsigned char addr[sizeof(struct in6_addr)];
        if (inet_pton(AF_INET, t, addr) != 1 && inet_pton(AF_INET6, t, addr) != 1)
            return cg_err_set(err, CG_EINVAL, "trusted_proxies", "'%s' is not an IP address", t);
    }
    return 0;
}

/* Open311 api keys: comma-separated, each 8..128 characters of [A-Za-z0-9._-]. */
static int check_api_keys(const char *list, cg_err *err)
{
    for (const char *p = list; *p;) {
        p += strspn(p, ", ");
        size_t len = strcspn(p, ", ");
        if (!len)
            break;
        if (len < 8 || len > 128)
            return cg_err_set(err, CG_EINVAL, "open311_api_keys",
                              "key %zu characters long: each key needs 8 to 128", len);
        for (size_t i = 0; i < len; i++)
            if (!isalnum((unsigned char)p[i]) && !strchr("._-", p[i]))
                return cg_err_set(err, CG_EINVAL, "open311_api_keys",
                                  "a key holds '%c': only letters, digits, '.', '_' and '-'",
                                  p[i] > 0x20 && p[i] < 0x7f ? p[i] : '?');
        p += len;
    }
    return 0;
}

/* A jurisdiction_id: a host name (letters, digits, '.', '-'). */
static int check_jurisdiction(const char *j, cg_err *err)
{
    for (const char *p = j; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
            return cg_err_set(err, CG_EINVAL, "open311_jurisdiction",
                              "'%s' is not a host name such as civgrid.example.cn", j);
    return 0;
}

int cg_http_config_trusts(const cg_http_config *c, const char *addr)
{
    size_t n = strlen(addr);
    for (const char *p = c->trusted_proxies; *p;) {
        p += strspn(p, ", ");
        size_t len = strcspn(p, ", ");
        if (len && len == n && memcmp(p, addr, n) == 0)
            return 1;
        p += len;
    }
    return 0;
}

static int set_string(char *dst, size_t cap, const char *key, json_t *v, cg_err *err)
{
    if (!json_is_string(v))
        return cg_err_set(err, CG_EINVAL, key, "expected a string");
    if (json_string_length(v) >= cap)
        return cg_err_set(err, CG_EINVAL, key, "longer than %zu bytes", cap - 1);
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static int get_integer(const char *key, json_t *v, long long *out, cg_err *err)
{
    if (!json_is_integer(v))
        return cg_err_set(err, CG_EINVAL, key, "expected a whole number");
    *out = json_integer_value(v);
    return 0;
}

/* Integers are range-checked here, before narrowing to int, so "port": 1e12 cannot wrap. */
/* A body size limit: a whole number of bytes in 1..MAX_BODY_LIMIT. */
static int get_body_limit(const char *key, json_t *v, long long *out, cg_err *err)
{
    long long n = 0;
    if (get_integer(key, v, &n, err))
        return -1;
    if (n < 1 || n > MAX_BODY_LIMIT)
        return cg_err_set(err, CG_EINVAL, key, "%lld is out of range 1..%lld", n, MAX_BODY_LIMIT);
    *out = n;
    return 0;
}

static int get_int_in(const char *key, json_t *v, long long min, long long max, int *out,
                      cg_err *err)
{
    long long n = 0;
    if (get_integer(key, v, &n, err) != 0)
        return -1;
    if (n < min || n > max)
        return cg_err_set(err, CG_EINVAL, key, "%lld is out of range %lld..%lld", n, min, max);
    *out = (int)n;
    return 0;
}

int cg_http_config_load(cg_http_config *c, const char *path, cg_err *err)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return cg_err_set(err, CG_EINVAL, NULL, "line %d column %d: %s", jerr.line, jerr.column,
                          jerr.text);
    int rc = 0;
    if (!json_is_object(root)) {
        rc = cg_err_set(err, CG_EINVAL, NULL, "expected a JSON object of settings");
        goto done;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "db") == 0) {
            rc = set_string(c->db, sizeof c->db, key, v, err);
        } else if (strcmp(key, "bind") == 0) {
            rc = set_string(c->bind, sizeof c->bind, key, v, err);
        } else if (strcmp(key, "port") == 0) {
            rc = get_int_in(key, v, 0, 65535, &c->port, err);
        } else if (strcmp(key, "threads") == 0) {
            rc = get_int_in(key, v, 1, CG_HTTP_MAX_THREADS, &c->threads, err);
        } else if (strcmp(key, "access_log") == 0) {
            rc = set_string(c->access_log, sizeof c->access_log, key, v, err);
        } else if (strcmp(key, "max_body") == 0) {
            rc = get_body_limit(key, v, &c->max_body, err);
        } else if (strcmp(key, "max_import_body") == 0) {
            rc = get_body_limit(key, v, &c->max_import_body, err);
        } else if (strcmp(key, "max_import_features") == 0) {
            rc = get_int_in(key, v, 1, CG_HTTP_MAX_IMPORT_FEATURES, &c->max_import_features, err);
        } else if (strcmp(key, "web") == 0) {
            rc = set_string(c->web, sizeof c->web, key, v, err);
            c->web_explicit = 1;
        } else if (strcmp(key, "session_hours") == 0) {
            rc = get_int_in(key, v, 1, 24 * 366, &c->session_hours, err);
        } else if (strcmp(key, "retention_days") == 0) {
            rc = get_int_in(key, v, 1, 3660, &c->retention_days, err);
        } else if (strcmp(key, "token_days") == 0) {
            rc = get_int_in(key, v, 1, 3660, &c->token_days, err);
        } else if (strcmp(key, "login_rate") == 0) {
            rc = get_int_in(key, v, 1, 1000000, &c->login_rate, err);
        } else if (strcmp(key, "login_burst") == 0) {
            rc = get_int_in(key, v, 1, 1000000, &c->login_burst, err);
        } else if (strcmp(key, "public_rate") == 0) {
            rc = get_int_in(key, v, 1, 1000000, &c->public_rate, err);
        } else if (strcmp(key, "public_burst") == 0) {
            rc = get_int_in(key, v, 1, 1000000, &c->public_burst, err);
        } else if (strcmp(key, "tile_rate") == 0) {
            rc = get_int_in(key, v, 1, 1000000, &c->tile_rate, err);
        } else if (strcmp(key, "tile_burst") == 0) {
            rc = get_int_in(key, v, 1, 1000000, &c->tile_burst, err);
        } else if (strcmp(key, "rate_clients") == 0) {
            rc = get_int_in(key, v, 1, 1 << 24, &c->rate_clients, err);
        } else if (strcmp(key, "connection_timeout") == 0) {
            rc = get_int_in(key, v, 1, 3600, &c->connection_timeout, err);
        } else if (strcmp(key, "max_connections") == 0) {
            rc = get_int_in(key, v, 1, CG_HTTP_MAX_CONNECTIONS, &c->max_connections, err);
        } else if (strcmp(key, "trusted_proxies") == 0) {
            rc = set_string(c->trusted_proxies, sizeof c->trusted_proxies, key, v, err);
            if (rc == 0)
                rc = check_proxies(c->trusted_proxies, err);
        } else if (strcmp(key, "photo_dir") == 0) {
            rc = set_string(c->photo_dir, sizeof c->photo_dir, key, v, err);
        } else if (strcmp(key, "case_timer_seconds") == 0) {
            rc = get_int_in(key, v, 0, CG_HTTP_CASE_TIMER_MAX, &c->case_timer_seconds, err);
        } else if (strcmp(key, "case_rows_mb") == 0) {
            rc = get_int_in(key, v, 0, CG_HTTP_CASE_ROWS_MB_MAX, &c->case_rows_mb, err);
        } else if (strcmp(key, "open311_api_keys") == 0) {
            rc = set_string(c->open311_api_keys, sizeof c->open311_api_keys, key, v, err);
            if (rc == 0)
                rc = check_api_keys(c->open311_api_keys, err);
        } else if (strcmp(key, "open311_jurisdiction") == 0) {
            rc = set_string(c->open311_jurisdiction, sizeof c->open311_jurisdiction, key, v, err);
            if (rc == 0)
                rc = check_jurisdiction(c->open311_jurisdiction, err);
        } else if (strcmp(key, "open311_contact") == 0) {
            rc = set_string(c->open311_contact, sizeof c->open311_contact, key, v, err);
        } else {
            rc = cg_err_set(err, CG_EINVAL, key,
                            "unknown key (known: db, bind, port, threads, access_log, max_body, "
                            "web, session_hours, token_days, login_rate, login_burst, "
                            "public_rate, public_burst, tile_rate, tile_burst, rate_clients, "
                            "trusted_proxies, retention_days, connection_timeout, "
                            "max_connections, photo_dir, case_timer_seconds, case_rows_mb, "
                            "max_import_body, max_import_features, open311_api_keys, "
                            "open311_jurisdiction, open311_contact)");
        }
        if (rc != 0)
            break;
    }
done:
    json_decref(root);
    return rc;
}

int cg_http_config_validate(const cg_http_config *c, cg_err *err)
{
    if (c->port < 0 || c->port > 65535)
        return cg_err_set(err, CG_EINVAL, "port", "%d is out of range 0..65535", c->port);
    if (c->threads < 1 || c->threads > CG_HTTP_MAX_THREADS)
        return cg_err_set(err, CG_EINVAL, "threads", "%d is out of range 1..%d", c->threads,
                          CG_HTTP_MAX_THREADS);
    if (c->max_body < 1 || c->max_body > MAX_BODY_LIMIT)
        return cg_err_set(err, CG_EINVAL, "max_body", "%lld is out of range 1..%lld", c->max_body,
                          MAX_BODY_LIMIT);
    if (c->max_import_body < 1 || c->max_import_body > MAX_BODY_LIMIT)
        return cg_err_set(err, CG_EINVAL, "max_import_body", "%lld is out of range 1..%lld",
                          c->max_import_body, MAX_BODY_LIMIT);
    if (c->max_import_features < 1 || c->max_import_features > CG_HTTP_MAX_IMPORT_FEATURES)
        return cg_err_set(err, CG_EINVAL, "max_import_features", "%d is out of range 1..%d",
                          c->max_import_features, CG_HTTP_MAX_IMPORT_FEATURES);
    if (c->connection_timeout < 1 || c->connection_timeout > 3600)
        return cg_err_set(err, CG_EINVAL, "connection_timeout", "%d is out of range 1..3600",
                          c->connection_timeout);
    if (c->max_connections < 1 || c->max_connections > CG_HTTP_MAX_CONNECTIONS)
        return cg_err_set(err, CG_EINVAL, "max_connections", "%d is out of range 1..%d",
                          c->max_connections, CG_HTTP_MAX_CONNECTIONS);
    unsigned char addr[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, c->bind, addr) != 1 && inet_pton(AF_INET6, c->bind, addr) != 1)
        return cg_err_set(err, CG_EINVAL, "bind",
                          "'%s' is not an IPv4 or IPv6 address (e.g. 127.0.0.1, 0.0.0.0, ::1)",
                          c->bind);
    if (c->db[0] == '\0')
        return cg_err_set(err, CG_EINVAL, "db", "no database file given");
    if (c->case_timer_seconds < 0 || c->case_timer_seconds > CG_HTTP_CASE_TIMER_MAX)
        return cg_err_set(err, CG_EINVAL, "case_timer_seconds",
                          "%d is out of range 0..%d (0 turns the case timer off)",
                          c->case_timer_seconds, CG_HTTP_CASE_TIMER_MAX);
    if (c->case_rows_mb < 0 || c->case_rows_mb > CG_HTTP_CASE_ROWS_MB_MAX)
        return cg_err_set(err, CG_EINVAL, "case_rows_mb",
                          "%d is out of range 0..%d (0 keeps no rows in memory)", c->case_rows_mb,
                          CG_HTTP_CASE_ROWS_MB_MAX);
    if (strlen(c->db) + sizeof ".photos" > sizeof c->photo_dir && !c->photo_dir[0])
        return cg_err_set(err, CG_EINVAL, "photo_dir",
                          "the database path is too long to derive the photo directory from it: "
                          "set photo_dir");
    if (check_api_keys(c->open311_api_keys, err) != 0 ||
        check_jurisdiction(c->open311_jurisdiction, err) != 0)
        return -1;
    if (c->web_explicit && c->web[0]) {
        struct stat st;
        if (stat(c->web, &st) != 0 || !S_ISDIR(st.st_mode))
            return cg_err_set(err, CG_EINVAL, "web", "'%s' is not a directory", c->web);
    }
    return 0;
}
