/*
 * Tests of model/access.h (the permission table, roles, scopes, the password and username
 * policies, the login back-off) and core/crypto.h (argon2id, tokens, SHA-256, constant-time
 * comparison).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/crypto.h"
#include "model/access.h"
#include "testutil.h"

static void test_permission_table(void **state)
{
    (void)state;
    for (int p = 0; p < CG_PERM_COUNT; p++) {
        /* The administrator may do everything; every action is allowed to some real role. */
        assert_true(cg_access_allows(CG_ROLE_ADMIN, (cg_perm)p));
        int roles_allowing = 0;
        for (uint32_t r = CG_ROLE_WORKER; r <= CG_ROLE_ADMIN; r <<= 1)
            roles_allowing += cg_access_allows(r, (cg_perm)p);
        assert_true(roles_allowing >= 1);
        assert_string_not_equal(cg_perm_name((cg_perm)p), "unknown");
    }
    /* Grid workers read and locate, never write; anonymous residents only the public side. */
    assert_true(cg_access_allows(CG_ROLE_WORKER, CG_PERM_GRID_READ));
    assert_false(cg_access_allows(CG_ROLE_WORKER, CG_PERM_GRID_WRITE));
    assert_false(cg_access_allows(CG_ROLE_WORKER, CG_PERM_USER_ADMIN));
    assert_false(cg_access_allows(CG_ROLE_WORKER, CG_PERM_CONTACT_READ));
    assert_true(cg_access_allows(CG_ROLE_NONE, CG_PERM_PUBLIC));
    for (int p = 0; p < CG_PERM_COUNT; p++)
        if (p != CG_PERM_PUBLIC)
            assert_false(cg_access_allows(CG_ROLE_NONE, (cg_perm)p));
    /* Only administrators administer accounts; only handlers (and admins) read contacts. */
    for (uint32_t r = CG_ROLE_WORKER; r < CG_ROLE_ADMIN; r <<= 1) {
        assert_false(cg_access_allows(r, CG_PERM_USER_ADMIN));
        assert_int_equal(cg_access_allows(r, CG_PERM_CONTACT_READ), r == CG_ROLE_HANDLER);
    }
    /* Cases (docs/cases.md): every staff role reads cases and takes steps (which step is the
     * state machine's question); handlers do not report; statistics are for leaders, operators
     * and inspectors; the rules (taxonomy, calendar) are the administrators'. */
    for (uint32_t r = CG_ROLE_WORKER; r <= CG_ROLE_ADMIN; r <<= 1) {
        assert_true(cg_access_allows(r, CG_PERM_CASE_READ));
        assert_true(cg_access_allows(r, CG_PERM_CASE_TRANSITION));
        assert_int_equal(cg_access_allows(r, CG_PERM_CASE_CREATE), r != CG_ROLE_HANDLER);
        assert_int_equal(cg_access_allows(r, CG_PERM_CASE_STATS),
                         r == CG_ROLE_LEADER || r == CG_ROLE_OPERATOR || r == CG_ROLE_INSPECTOR ||
                             r == CG_ROLE_ADMIN);
        assert_int_equal(cg_access_allows(r, CG_PERM_CATEGORY_WRITE), r == CG_ROLE_ADMIN);
        assert_int_equal(cg_access_allows(r, CG_PERM_CALENDAR_WRITE), r == CG_ROLE_ADMIN);
    }
    assert_string_equal(cg_perm_name(CG_PERM_CASE_STATS), "case.stats");
    /* Roles combine: a worker who is also an inspector reads the audit log. */
    assert_true(cg_access_allows(CG_ROLE_WORKER | CG_ROLE_INSPECTOR, CG_PERM_AUDIT_READ));
    assert_false(cg_access_allows(CG_ROLE_ALL, CG_PERM_COUNT));
}

static void test_roles(void **state)
{
    (void)state;
    uint32_t roles = 0;
    cg_err err = {0};
    assert_int_equal(cg_roles_parse("worker, 网格长", &roles, &err), 0);
    assert_int_equal(roles, CG_ROLE_WORKER | CG_ROLE_LEADER);
    char buf[64];
    cg_roles_format(roles, buf, sizeof buf);
    assert_string_equal(buf, "worker,leader");
    assert_int_equal(cg_roles_parse("worker,king", &roles, &err), -1);
    assert_string_equal(err.field, "roles");
    assert_non_null(strstr(err.message, "king"));
    assert_int_equal(cg_roles_parse("", &roles, &err), -1);
    for (uint32_t r = CG_ROLE_WORKER; r <= CG_ROLE_ADMIN; r <<= 1) {
        cg_role back;
        assert_int_equal(cg_role_parse(cg_role_name((cg_role)r), &back), 0);
        assert_int_equal(back, r);
        assert_int_equal(cg_role_parse(cg_role_name_zh((cg_role)r), &back), 0);
        assert_int_equal(back, r);
    }
}

static void test_scopes(void **state)
{
    (void)state;
    cg_scope street = {"330199001"}, grid = {"330199001001001"}, other = {"330199002"};
    assert_true(cg_scope_contains(&street, "330199001"));
    assert_true(cg_scope_contains(&street, "330199001001001"));
    assert_false(cg_scope_contains(&street, "330199"));
    assert_false(cg_scope_contains(&street, "330199002001"));
    assert_false(cg_scope_contains(&grid, "330199001001")); /* not the parent */
    assert_true(cg_scope_contains(&cg_scope_all, "330199"));
    assert_true(cg_scope_within(&street, &grid));
    assert_false(cg_scope_within(&grid, &street));
    assert_false(cg_scope_within(&street, &other));
    assert_false(cg_scope_within(&street, &cg_scope_all));
    assert_true(cg_scope_within(&cg_scope_all, &street));
}

static void test_policies(void **state)
{
    (void)state;
    cg_err err = {0};
    assert_int_equal(cg_password_check("alice", "correct horse", &err), 0);
    assert_int_equal(cg_password_check("alice", "short", &err), -1);
    assert_non_null(strstr(err.message, "10"));
    assert_int_equal(cg_password_check("alicealice", "AliceAlice", &err), -1);
    assert_non_null(strstr(err.message, "username"));
    assert_int_equal(cg_password_check("alice", "aaaaaaaaaaaa", &err), -1);
    /* Ten Chinese characters are ten characters, although thirty bytes. */
    assert_int_equal(cg_password_check("alice", "网格化管理服务平台密码", &err), 0);
    assert_int_equal(cg_password_check("alice", "网格化管理", &err), -1);

    assert_int_equal(cg_username_check("worker.01", &err), 0);
    assert_int_equal(cg_username_check("ab", &err), -1);
    assert_int_equal(cg_username_check("1abc", &err), -1);
    assert_int_equal(cg_username_check("Alice", &err), -1);
    assert_int_equal(cg_username_check("al ice", &err), -1);
}

static void test_lock_backoff(void **state)
{
    (void)state;
    for (int n = 0; n < CG_LOGIN_FREE_FAILURES; n++)
        assert_int_equal(cg_login_lock_until(n, 1000), 0);
    int64_t prev = 0;
    for (int n = CG_LOGIN_FREE_FAILURES; n < 40; n++) {
        int64_t until = cg_login_lock_until(n, 1000);
        assert_true(until > 1000);
        assert_true(until - 1000 <= CG_LOGIN_LOCK_MAX);
        assert_true(until >= prev); /* never shorter after more failures */
        prev = until;
    }
    assert_int_equal(cg_login_lock_until(CG_LOGIN_FREE_FAILURES + 1, 1000), 1002);
    assert_int_equal(prev - 1000, CG_LOGIN_LOCK_MAX);
    assert_int_equal(cg_login_lock_until(1 << 30, 0), CG_LOGIN_LOCK_MAX);
}

static void test_crypto(void **state)
{
    (void)state;
    cg_err err = {0};
    assert_int_equal(cg_crypto_init(&err), 0);
    char h1[CG_PASSWORD_HASH_MAX], h2[CG_PASSWORD_HASH_MAX];
    assert_int_equal(cg_password_hash("correct horse battery", h1, &err), 0);
    assert_int_equal(cg_password_hash("correct horse battery", h2, &err), 0);
    assert_non_null(strstr(h1, "$argon2id$"));
    assert_null(strstr(h1, "correct"));
    assert_string_not_equal(h1, h2); /* salted */
    assert_true(cg_password_verify(h1, "correct horse battery"));
    assert_true(cg_password_verify(h2, "correct horse battery"));
    assert_false(cg_password_verify(h1, "correct horse batterY"));
    assert_false(cg_password_verify("not a hash", "correct horse battery"));
    assert_false(cg_password_verify("", ""));

    char seen[64][CG_TOKEN_CHARS + 1];
    for (int i = 0; i < 64; i++) {
        cg_token_new(seen[i]);
        assert_int_equal(strlen(seen[i]), CG_TOKEN_CHARS);
        assert_int_equal(strspn(seen[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                         "0123456789-_"),
                         CG_TOKEN_CHARS);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(seen[i], seen[j]);
    }

    /* SHA-256 of "abc" (FIPS 180-2, appendix B.1). */
    char hex[CG_SHA256_HEX];
    cg_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    assert_true(cg_secure_equal("token", "token"));
    assert_false(cg_secure_equal("token", "tokem"));
    assert_false(cg_secure_equal("token", "token2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_permission_table), cmocka_unit_test(test_roles),
        cmocka_unit_test(test_scopes),           cmocka_unit_test(test_policies),
        cmocka_unit_test(test_lock_backoff),     cmocka_unit_test(test_crypto),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
