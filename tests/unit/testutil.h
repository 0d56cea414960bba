/*
 * Helpers shared by the unit tests: a fresh temporary directory per test program, reading test
 * data files, and skipping (exit 77, which ctest reports as skipped) when optional data is absent.
 * Include after <cmocka.h>'s prerequisites (stdarg.h, stddef.h, setjmp.h, stdint.h).
 */
#ifndef CG_TESTS_TESTUTIL_H
#define CG_TESTS_TESTUTIL_H

#include <stddef.h>

/* A directory under $TMPDIR made for this process and removed at exit. */
const char *cg_test_tmpdir(void);
/* A path inside cg_test_tmpdir(); the returned string is owned by the helper (up to 64 live). */
const char *cg_test_tmppath(const char *name);
/* Path to tests/data/<name>. */
const char *cg_test_data(const char *name);
/* Path to ../shared/data/<name>, or NULL when it is absent. */
const char *cg_test_shared_data(const char *name);
/* Prints why and exits with 77 so ctest marks the test skipped. */
void cg_test_skip(const char *why) __attribute__((noreturn));
/* Writes bytes to a file; aborts the test on failure. */
void cg_test_write_file(const char *path, const char *data, size_t len);

#endif
