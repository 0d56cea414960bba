/*
 * Tests of the audit log's hash chain (model/audit.h) and of verifying a store's log end to end
 * (app/audit.h). The tampering cases edit the database file behind the program's back, as an
 * intruder with the file would: they link sqlite3 directly for that, the one place these tests
 * reach under store.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/audit.h"
#include "geo/geojson.h"
#include "model/audit.h"
#include "testutil.h"

static void sample(cg_audit_entry *e)
{
    memset(e, 0, sizeof *e);
    e->seq = 1;
    e->at = 1700000000;
    e->actor_id = 3;
    snprintf(e->actor, sizeof e->actor, "alice");
    snprintf(e->action, sizeof e->action, "grid.put");
    snprintf(e->target, sizeof e->target, "grid:330199");
    snprintf(e->summary, sizeof e->summary, "{}");
    cg_audit_hash(e, e->hash);
}

static void test_hash_rule(void **state)
{
    (void)state;
    cg_audit_entry e, f;
    sample(&e);
    char reason[256];
    assert_int_equal(cg_audit_check_link(0, "", &e, reason, sizeof reason), 0);
    /* Every field is covered. */
    f = e;
    f.at++;
    assert_int_equal(cg_audit_check_link(0, "", &f, reason, sizeof reason), -1);
    assert_non_null(strstr(reason, "hash does not match"));
    f = e;
    f.actor_id = 4;
    assert_int_equal(cg_audit_check_link(0, "", &f, reason, sizeof reason), -1);
    f = e;
    snprintf(f.summary, sizeof f.summary, "{ }");
    assert_int_equal(cg_audit_check_link(0, "", &f, reason, sizeof reason), -1);
    /* Moving text between fields changes the encoding (length prefixes). */
    f = e;
    snprintf(f.actor, sizeof f.actor, "alic");
    snprintf(f.address, sizeof f.address, "e");
    char h1[65], h2[65];
    cg_audit_hash(&f, h1);
    snprintf(f.actor, sizeof f.actor, "alice");
    f.address[0] = '\0';
    cg_audit_hash(&f, h2);
    assert_string_not_equal(h1, h2);
    /* Links: the next seq, after the right hash. */
    cg_audit_entry next;
    sample(&next);
    next.seq = 2;
    memcpy(next.prev_hash, e.hash, 65);
    cg_audit_hash(&next, next.hash);
    assert_int_equal(cg_audit_check_link(1, e.hash, &next, reason, sizeof reason), 0);
    assert_int_equal(cg_audit_check_link(0, "", &next, reason, sizeof reason), -1);
    assert_int_equal(cg_audit_check_link(1, h1, &next, reason, sizeof reason), -1);
}

static void test_json_string(void **state)
{
    (void)state;
    cg_buf b;
    cg_buf_init(&b);
    cg_json_write_string(&b, "a\"b\\c\n\x01网");
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001网\"");
    cg_buf_free(&b);
}

/* A store with a few entries written through the program; returns its path. */
static const char *make_log(const char *name)
{
    const char *path = cg_test_tmppath(name);
    unlink(path);
    cg_store *s;
    cg_err err = {0};
    if (cg_store_open(path, CG_STORE_CREATE, &s, &err))
        fail_msg("open: %s", err.message);
    cg_actor actor = {1, "alice", "127.0.0.1"};
    cg_store_set_actor(s, &actor);
    for (int i = 0; i < 5; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        if (cg_store_meta_set(s, key, "v", &err))
            fail_msg("meta: %s", err.message);
    }
    cg_store_close(s);
    return path;
}

static void tamper(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("tamper %s: %s", sql, msg);
    assert_int_equal(sqlite3_changes(db) > 0, 1);
    sqlite3_close(db);
}

/* Verifies the log at path; returns the first bad seq (0 when intact). */
static int64_t verify(const char *path, char *reason, size_t cap)
{
    cg_store *s;
    cg_err err = {0};
    if (cg_store_open(path, CG_STORE_READONLY, &s, &err))
        fail_msg("open: %s", err.message);
    cg_audit_verify_result r;
    if (cg_audit_verify(s, &r, &err))
        fail_msg("verify: %s", err.message);
    cg_store_close(s);
    snprintf(reason, cap, "%s", r.reason);
    if (!r.first_bad_seq)
        assert_int_equal(r.checked, 5);
    return r.first_bad_seq;
}

static void test_verify_intact(void **state)
{
    (void)state;
    char reason[256];
    assert_int_equal(verify(make_log("intact.db"), reason, sizeof reason), 0);
}

static void test_verify_changed_row(void **state)
{
    (void)state;
    char reason[256];
    const char *path = make_log("changed.db");
    tamper(path, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3");
    assert_int_equal(verify(path, reason, sizeof reason), 3);
    assert_non_null(strstr(reason, "entry 3"));
    /* Recomputing the row's own hash does not help: the next link breaks. */
    path = make_log("changed2.db");
    tamper(path, "UPDATE audit_log SET summary = '{}', hash = '" /* any 64 hex digits */
                 "0000000000000000000000000000000000000000000000000000000000000000' WHERE seq = 2");
    assert_int_equal(verify(path, reason, sizeof reason), 2);
}

static void test_verify_deleted_middle(void **state)
{
    (void)state;
    char reason[256];
    const char *path = make_log("middle.db");
    tamper(path, "DELETE FROM audit_log WHERE seq = 3");
    assert_int_equal(verify(path, reason, sizeof reason), 3);
    /* Renumbering the rest to close the gap breaks the links instead. */
    path = make_log("middle2.db");
    tamper(path, "DELETE FROM audit_log WHERE seq = 3; "
                 "UPDATE audit_log SET seq = seq - 1 WHERE seq > 3; "
                 "UPDATE audit_head SET seq = seq - 1");
    assert_int_equal(verify(path, reason, sizeof reason), 3);
}

static void test_verify_deleted_tail(void **state)
{
    (void)state;
    char reason[256];
    const char *path = make_log("tail.db");
    tamper(path, "DELETE FROM audit_log WHERE seq = 5");
    assert_int_equal(verify(path, reason, sizeof reason), 5);
    assert_non_null(strstr(reason, "head"));
}

static void test_verify_reordered(void **state)
{
    (void)state;
    char reason[256];
    const char *path = make_log("reorder.db");
    tamper(path, "UPDATE audit_log SET seq = seq + 100 WHERE seq IN (2, 3); "
                 "UPDATE audit_log SET seq = 3 WHERE seq = 102; "
                 "UPDATE audit_log SET seq = 2 WHERE seq = 103");
    assert_int_equal(verify(path, reason, sizeof reason), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_rule),
        cmocka_unit_test(test_json_string),
        cmocka_unit_test(test_verify_intact),
        cmocka_unit_test(test_verify_changed_row),
        cmocka_unit_test(test_verify_deleted_middle),
        cmocka_unit_test(test_verify_deleted_tail),
        cmocka_unit_test(test_verify_reordered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
