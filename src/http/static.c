/*
 * Static files of the web console (built into web/dist). The path is already percent-decoded
 * by the server, so "%2e%2e" arrives here as ".."; any "." or ".." segment, a backslash or a
 * hidden file is refused before the file system sees the name, and the resolved path must still
 * lie inside the web directory (a symlink pointing out is refused too). GET / serves index.html.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/http.h"

static const struct {
    const char *ext, *type;
} content_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".geojson", "application/geo+json"},
    {".webmanifest", "application/manifest+json"},
    {".map", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".gif", "image/gif"},
    {".webp", "image/webp"},
    {".ico", "image/x-icon"},
    {".woff", "font/woff"},
    {".woff2", "font/woff2"},
    {".ttf", "font/ttf"},
    {".txt", "text/plain; charset=utf-8"},
    {".wasm", "application/wasm"},
};

static const char *content_type_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (dot)
        for (size_t i = 0; i < sizeof content_types / sizeof content_types[0]; i++)
            if (strcasecmp(dot, content_types[i].ext) == 0)
                return content_types[i].type;
    return "application/octet-stream";
}

/* Refuses any segment that is empty-dotted or hidden: ".", "..", ".git", and backslashes that
 * some clients use as separators. */
static int path_is_safe(const char *path)
{
    if (strchr(path, '\\'))
        return 0;
    for (const char *seg = path; seg; seg = strchr(seg, '/')) {
        seg++;
        if (seg[0] == '.')
            return 0;
    }
    return 1;
}

static void not_found(cg_http_req *req)
{
    cg_err err;
    cg_err_set(&err, CG_ENOTFOUND, "path", "no file %s", req->path);
    cg_http_reply_error(req, &err);
}

void cg_http_static_serve(cg_http_req *req)
{
    cg_err err;
    if (!path_is_safe(req->path)) {
        cg_err_set(&err, CG_EINVAL, "path", "path segments may not start with '.' or hold '\\'");
        cg_http_reply_error(req, &err);
        return;
    }
    const char *web = cg_http_web_dir(req);
    const char *rel = strcmp(req->path, "/") == 0 ? "/index.html" : req->path;
    char *full = cg_arena_sprintf(req->arena, "%s%s", web, rel);
    char real_web[PATH_MAX], real_file[PATH_MAX];
    if (!realpath(web, real_web) || !realpath(full, real_file)) {
        not_found(req);
        return;
    }
    size_t wl = strlen(real_web);
    if (strncmp(real_file, real_web, wl) != 0 || real_file[wl] != '/') {
        cg_err_set(&err, CG_EINVAL, "path", "path leaves the web directory");
        cg_http_reply_error(req, &err);
        return;
    }
    int fd = open(real_file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        not_found(req);
        return;
    }
    cg_http_reply_fd(req, fd, (uint64_t)st.st_size, content_type_of(real_file));
}
