/* Logging and clocks: see log.h. */
#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <time.h>

static cg_log_level min_level = CG_LOG_INFO;
static FILE *log_stream;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void cg_log_set_level(cg_log_level level)
{
    min_level = level;
}

void cg_log_set_stream(FILE *stream)
{
    log_stream = stream;
}

void cg_time_iso8601(long long t, char buf[21])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

long long cg_time_now(void)
{
    return (long long)time(NULL);
}

long long cg_time_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void cg_log(cg_log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    static const char *names[] = {"debug", "info", "warn", "error"};
    char when[21];
    cg_time_iso8601(cg_time_now(), when);
    FILE *out = log_stream ? log_stream : stderr;
    pthread_mutex_lock(&log_lock);
    fprintf(out, "%s %s ", when, names[level]);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    fflush(out);
    pthread_mutex_unlock(&log_lock);
}
