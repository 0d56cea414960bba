/*
 * Roles, the one permission table, scopes, the password and username policies and the login
 * back-off rule (access.h). Every permission decision in civgrid comes from `table` below, so
 * the question "who may do X" has one answer in one place; docs/access.md prints the same table
 * for people.
 */
#include "model/access.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define P(perm) (1u << (perm))

/*
 * The permission table: for each role, the actions it allows. An account holding several roles
 * may do what any of them allows. Reading grids includes their teams (leader, deputy, members),
 * so a grid leader sees the team of the grids in scope through CG_PERM_GRID_READ.
 */
static const struct {
    cg_role role;
    uint32_t perms;
} table[] = {
    {CG_ROLE_NONE, P(CG_PERM_PUBLIC)},
    {CG_ROLE_WORKER, P(CG_PERM_GRID_READ) | P(CG_PERM_LOCATE) | P(CG_PERM_PUBLIC) |
                         P(CG_PERM_CASE_READ) | P(CG_PERM_CASE_CREATE) |
                         P(CG_PERM_CASE_TRANSITION)},
    {CG_ROLE_LEADER, P(CG_PERM_GRID_READ) | P(CG_PERM_LOCATE) | P(CG_PERM_PUBLIC) |
                         P(CG_PERM_CASE_READ) | P(CG_PERM_CASE_CREATE) |
                         P(CG_PERM_CASE_TRANSITION) | P(CG_PERM_CASE_STATS)},
    {CG_ROLE_OPERATOR, P(CG_PERM_GRID_READ) | P(CG_PERM_GRID_WRITE) | P(CG_PERM_GRID_TEAM_WRITE) |
                           P(CG_PERM_GRID_CHECK) | P(CG_PERM_LOCATE) | P(CG_PERM_USER_READ) |
                           P(CG_PERM_PUBLIC) | P(CG_PERM_CASE_READ) | P(CG_PERM_CASE_CREATE) |
                           P(CG_PERM_CASE_TRANSITION) | P(CG_PERM_CASE_STATS)},
    {CG_ROLE_HANDLER, P(CG_PERM_GRID_READ) | P(CG_PERM_LOCATE) | P(CG_PERM_CONTACT_READ) |
                          P(CG_PERM_PUBLIC) | P(CG_PERM_CASE_READ) | P(CG_PERM_CASE_TRANSITION)},
    {CG_ROLE_INSPECTOR, P(CG_PERM_GRID_READ) | P(CG_PERM_GRID_CHECK) | P(CG_PERM_LOCATE) |
                            P(CG_PERM_AUDIT_READ) | P(CG_PERM_USER_READ) | P(CG_PERM_PUBLIC) |
                            P(CG_PERM_CASE_READ) | P(CG_PERM_CASE_CREATE) |
                            P(CG_PERM_CASE_TRANSITION) | P(CG_PERM_CASE_STATS)},
    {CG_ROLE_ADMIN, (1u << CG_PERM_COUNT) - 1},
};

#define N_TABLE (sizeof table / sizeof table[0])

int cg_access_allows(uint32_t roles, cg_perm perm)
{
    if ((unsigned)perm >= CG_PERM_COUNT)
        return 0;
    for (size_t i = 0; i < N_TABLE; i++)
        if ((table[i].role == CG_ROLE_NONE || (roles & (uint32_t)table[i].role)) &&
            (table[i].perms & P(perm)))
            return 1;
    return 0;
}

static const struct {
    cg_role role;
    const char *name, *name_zh;
} role_names[] = {
    {CG_ROLE_WORKER, "worker", "网格员"},
    {CG_ROLE_LEADER, "leader", "网格长"},
    {CG_ROLE_OPERATOR, "operator", "指挥中心操作员"},
    {CG_ROLE_HANDLER, "handler", "部门处置人员"},
    {CG_ROLE_INSPECTOR, "inspector", "督查员"},
    {CG_ROLE_ADMIN, "admin", "管理员"},
};

#define N_ROLES (sizeof role_names / sizeof role_names[0])

const char *cg_role_name(cg_role role)
{
    for (size_t i = 0; i < N_ROLES; i++)
        if (role_names[i].role == role)
            return role_names[i].name;
    return role == CG_ROLE_NONE ? "anonymous" : "unknown";
}

const char *cg_role_name_zh(cg_role role)
{
    for (size_t i = 0; i < N_ROLES; i++)
        if (role_names[i].role == role)
            return role_names[i].name_zh;
    return role == CG_ROLE_NONE ? "居民" : "未知";
}

int cg_role_parse(const char *s, cg_role *out)
{
    for (size_t i = 0; i < N_ROLES; i++)
        if (strcmp(s, role_names[i].name) == 0 || strcmp(s, role_names[i].name_zh) == 0) {
            *out = role_names[i].role;
            return 0;
        }
    return -1;
}

int cg_roles_parse(const char *list, uint32_t *out, cg_err *err)
{
    uint32_t roles = 0;
    const char *p = list;
    for (;;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, ",");
        size_t len = n;
        while (len > 0 && p[len - 1] == ' ')
            len--;
        char name[64];
        if (len == 0 || len >= sizeof name)
            return cg_err_set(err, CG_EINVAL, "roles",
                              "'%s' is not a list of roles (worker, leader, operator, handler, "
                              "inspector, admin)",
                              list);
        memcpy(name, p, len);
        name[len] = '\0';
        cg_role role;
        if (cg_role_parse(name, &role))
            return cg_err_set(err, CG_EINVAL, "roles",
                              "unknown role '%s' (worker, leader, operator, handler, inspector, "
                              "admin)",
                              name);
        roles |= (uint32_t)role;
        if (!p[n])
            break;
        p += n + 1;
    }
    *out = roles;
    return 0;
}

void cg_roles_format(uint32_t roles, char *buf, size_t cap)
{
    assert(cap > 0);
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < N_ROLES; i++) {
        if (!(roles & (uint32_t)role_names[i].role))
            continue;
        int n = snprintf(buf + len, cap - len, "%s%s", len ? "," : "", role_names[i].name);
        if (n < 0 || (size_t)n >= cap - len)
            return;
        len += (size_t)n;
    }
}

const char *cg_perm_name(cg_perm perm)
{
    static const char *const names[CG_PERM_COUNT] = {
        [CG_PERM_GRID_READ] = "grid.read",
        [CG_PERM_GRID_WRITE] = "grid.write",
        [CG_PERM_GRID_TEAM_WRITE] = "grid.team.write",
        [CG_PERM_GRID_CHECK] = "grid.check",
        [CG_PERM_LOCATE] = "locate",
        [CG_PERM_USER_READ] = "user.read",
        [CG_PERM_USER_ADMIN] = "user.admin",
        [CG_PERM_AUDIT_READ] = "audit.read",
        [CG_PERM_CONTACT_READ] = "contact.read",
        [CG_PERM_PUBLIC] = "public",
        [CG_PERM_CASE_READ] = "case.read",
        [CG_PERM_CASE_CREATE] = "case.create",
        [CG_PERM_CASE_TRANSITION] = "case.transition",
        [CG_PERM_CASE_STATS] = "case.stats",
        [CG_PERM_CATEGORY_WRITE] = "category.write",
        [CG_PERM_CALENDAR_WRITE] = "calendar.write",
    };
    return (unsigned)perm < CG_PERM_COUNT ? names[perm] : "unknown";
}

/* ---- scopes ---- */

const cg_scope cg_scope_all = {""};

int cg_scope_contains(const cg_scope *scope, const char *code)
{
    size_t n = strlen(scope->code);
    return strncmp(code, scope->code, n) == 0;
}

int cg_scope_within(const cg_scope *outer, const cg_scope *inner)
{
    size_t n = strlen(outer->code);
    if (n == 0)
        return 1;
    return strncmp(inner->code, outer->code, n) == 0;
}

/* ---- policies ---- */

/* Characters, not bytes: a Chinese password of ten characters is ten characters long. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* argon2id hashes any length, but a megabyte "password" is a denial of service, not a secret. */
#define PASSWORD_MAX_BYTES 1024
#define PASSWORD_MIN_CHARS 10

int cg_password_check(const char *username, const char *password, cg_err *err)
{
    if (utf8_chars(password) < PASSWORD_MIN_CHARS)
        return cg_err_set(err, CG_EINVAL, "password", "a password needs at least %d characters",
                          PASSWORD_MIN_CHARS);
    if (strlen(password) > PASSWORD_MAX_BYTES)
        return cg_err_set(err, CG_EINVAL, "password", "a password may have at most %d bytes",
                          PASSWORD_MAX_BYTES);
    if (username && strcasecmp(username, password) == 0)
        return cg_err_set(err, CG_EINVAL, "password", "a password must not be the username");
    const char *p = password;
    while (*p == password[0])
        p++;
    if (!*p)
        return cg_err_set(err, CG_EINVAL, "password", "a password must not repeat one character");
    return 0;
}

int cg_username_check(const char *username, cg_err *err)
{
    size_t n = strlen(username);
    if (n < 3 || n > 32)
        return cg_err_set(err, CG_EINVAL, "username", "a username has 3 to 32 characters");
    if (!(username[0] >= 'a' && username[0] <= 'z'))
        return cg_err_set(err, CG_EINVAL, "username",
                          "a username starts with a lower-case letter (a-z)");
    for (size_t i = 0; i < n; i++) {
        char c = username[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return cg_err_set(err, CG_EINVAL, "username",
                              "a username may hold only a-z, 0-9, '.', '_' and '-'");
    }
    return 0;
}

int64_t cg_login_lock_until(int failures, int64_t now)
{
    if (failures < CG_LOGIN_FREE_FAILURES)
        return 0;
    int shift = failures - CG_LOGIN_FREE_FAILURES;
    /* 2^10 = 1024 s already exceeds the cap; stop shifting before it could overflow. */
    int64_t wait = shift >= 10 ? CG_LOGIN_LOCK_MAX : (int64_t)1 << shift;
    if (wait > CG_LOGIN_LOCK_MAX)
        wait = CG_LOGIN_LOCK_MAX;
    return now + wait;
}
