/*
 * Logging to stderr (or a file), one line per event, with an ISO-8601 UTC time and a level.
 * Thread-safe. Never log secrets: passwords, tokens and resident contact details stay out.
 */
#ifndef CG_CORE_LOG_H
#define CG_CORE_LOG_H

#include <stdio.h>

typedef enum { CG_LOG_DEBUG, CG_LOG_INFO, CG_LOG_WARN, CG_LOG_ERROR } cg_log_level;

void cg_log_set_level(cg_log_level level);
void cg_log_set_stream(FILE *stream);
void cg_log(cg_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define cg_log_debug(...) cg_log(CG_LOG_DEBUG, __VA_ARGS__)
#define cg_log_info(...)  cg_log(CG_LOG_INFO, __VA_ARGS__)
#define cg_log_warn(...)  cg_log(CG_LOG_WARN, __VA_ARGS__)
#define cg_log_error(...) cg_log(CG_LOG_ERROR, __VA_ARGS__)

/* "2026-11-24T02:01:37Z" for a Unix time; buf must hold 21 bytes. */
void cg_time_iso8601(long long unix_seconds, char buf[21]);
/* Current Unix time in seconds and in monotonic nanoseconds. */
long long cg_time_now(void);
long long cg_time_mono_ns(void);

#endif
