/* Unit-test helpers: see testutil.h. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[512];
static char paths[64][1024];
static int next_path;

static void remove_tmpdir(void)
{
    if (tmpdir[0]) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}

const char *cg_test_tmpdir(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/civgrid-test-XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            abort();
        }
        atexit(remove_tmpdir);
    }
    return tmpdir;
}

static const char *next_buffer(void)
{
    char *p = paths[next_path];
    next_path = (next_path + 1) % 64;
    return p;
}

const char *cg_test_tmppath(const char *name)
{
    char *p = (char *)next_buffer();
    snprintf(p, 1024, "%s/%s", cg_test_tmpdir(), name);
    return p;
}

const char *cg_test_data(const char *name)
{
    char *p = (char *)next_buffer();
    snprintf(p, 1024, "%s/%s", CG_TEST_DATA, name);
    return p;
}

const char *cg_test_shared_data(const char *name)
{
    char *p = (char *)next_buffer();
    snprintf(p, 1024, "%s/%s", CG_SHARED_DATA, name);
    struct stat st;
    return stat(p, &st) == 0 ? p : NULL;
}

void cg_test_skip(const char *why)
{
    printf("SKIPPED: %s\n", why);
    exit(77);
}

void cg_test_write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        perror(path);
        abort();
    }
    fclose(f);
}
