/*
 * Who may do what: roles, the one permission table, and scopes. Types and rules only.
 *
 * A role says which kinds of action an account may take; a scope says where: a grid subtree
 * named by its code (a worker's own grid, a community, a street, the whole district), or the
 * whole installation. Every store call that lists, counts, reads, exports or changes grids (and,
 * as they arrive, cases, places, patrols) takes the caller's scope and applies it in the query
 * itself, so nothing outside the scope is ever fetched: not a row, not a count, not the fact that
 * it exists. Handlers ask cg_access_allows() for the action and pass the scope down; they never
 * filter results afterwards.
 *
 * Residents have no accounts: they use the public endpoints anonymously (CG_ROLE_NONE).
 */
#ifndef CG_MODEL_ACCESS_H
#define CG_MODEL_ACCESS_H

#include <stdint.h>

#include "core/err.h"
#include "model/grid.h"

/* Roles are bits: an account may hold several. */
typedef enum {
    CG_ROLE_NONE = 0,           /* anonymous resident: public endpoints only */
    CG_ROLE_WORKER = 1 << 0,    /* 网格员 grid worker */
    CG_ROLE_LEADER = 1 << 1,    /* 网格长 grid leader */
    CG_ROLE_OPERATOR = 1 << 2,  /* community/street/district operator: register, dispatch, close */
    CG_ROLE_HANDLER = 1 << 3,   /* department handler */
    CG_ROLE_INSPECTOR = 1 << 4, /* 督查员 inspector */
    CG_ROLE_ADMIN = 1 << 5,     /* administrator */
} cg_role;

#define CG_ROLE_ALL 0x3f

/* "worker", "leader", "operator", "handler", "inspector", "admin". */
const char *cg_role_name(cg_role role);
const char *
cg_role_name_zh(cg_role role); /* 网格员 网格长 指挥中心操作员 部门处置人员 督查员 管理员 */
/* Parses one role name (English or Chinese); -1 when unknown. */
int cg_role_parse(const char *s, cg_role *out);
/* Parses "worker,leader" into a bit set; names the bad one in err (field "roles"). */
int cg_roles_parse(const char *list, uint32_t *out, cg_err *err);
/* Writes "worker,leader" into buf. */
void cg_roles_format(uint32_t roles, char *buf, size_t cap);

/* Actions. Places and patrols get theirs when those issues land. Which step of a case a role
 * may take is the case state machine's table (model/case.h), not this one: case.transition only
 * opens the door to it. */
typedef enum {
    CG_PERM_GRID_READ = 0,   /* list/read grids and their teams in scope */
    CG_PERM_GRID_WRITE,      /* import, redraw, renumber grids in scope */
    CG_PERM_GRID_TEAM_WRITE, /* assign a grid's leader, deputy and members */
    CG_PERM_GRID_CHECK,      /* run the topology check */
    CG_PERM_LOCATE,          /* locate a point */
    CG_PERM_USER_READ,       /* list accounts in scope */
    CG_PERM_USER_ADMIN,      /* create, disable, grant, reset passwords */
    CG_PERM_AUDIT_READ,      /* read the audit log */
    CG_PERM_CONTACT_READ,    /* read a resident's contact details on a case one handles */
    CG_PERM_PUBLIC,          /* public endpoints (anyone, even anonymous) */
    CG_PERM_CASE_READ,       /* list and read cases in scope, their history and photos */
    CG_PERM_CASE_CREATE,     /* report a case (staff intake; residents report through public) */
    CG_PERM_CASE_TRANSITION, /* take a step of a case, assign it, attach a photo */
    CG_PERM_CASE_STATS,      /* case statistics per grid, category, department, day */
    CG_PERM_CATEGORY_WRITE,  /* replace the category taxonomy */
    CG_PERM_CALENDAR_WRITE,  /* import a year of the working calendar */
    CG_PERM_COUNT
} cg_perm;

const char *cg_perm_name(cg_perm perm);

/* The one permission table (access.c): does any of these roles allow the action? */
int cg_access_allows(uint32_t roles, cg_perm perm);

/* A scope: the code of a grid subtree, or "" for the whole installation. */
typedef struct {
    char code[CG_CODE_MAX];
} cg_scope;

/* The unrestricted scope (trusted local command line, administrators of the whole district). */
extern const cg_scope cg_scope_all;

/* Does the scope include this grid code (the code itself or a descendant)? */
int cg_scope_contains(const cg_scope *scope, const char *code);
/* Is `inner` a scope inside (or equal to) `outer`? Used when one account grants another. */
int cg_scope_within(const cg_scope *outer, const cg_scope *inner);

/* Password policy: at least 10 characters, not the username (any case), not all one character. */
int cg_password_check(const char *username, const char *password, cg_err *err);
/* Username: 3..32 characters of [a-z0-9._-], starting with a letter. */
int cg_username_check(const char *username, cg_err *err);

/*
 * Login throttling, one rule for accounts and source addresses alike: fewer than
 * CG_LOGIN_FREE_FAILURES consecutive failures cost nothing; from then on the n-th failure locks
 * the key for 2^(n - CG_LOGIN_FREE_FAILURES) seconds, capped at CG_LOGIN_LOCK_MAX. Returns the Unix
 * time until which the key is locked after `failures` consecutive failures (0: not locked).
 */
#define CG_LOGIN_FREE_FAILURES 5
#define CG_LOGIN_LOCK_MAX      900
int64_t cg_login_lock_until(int failures, int64_t now);

typedef struct {
    int64_t id;
    char username[40];
    char display_name[128];
    uint32_t roles;
    cg_scope scope;
    char department[128]; /* for department handlers; "" otherwise */
    char duty_phone[32];  /* the on-duty number of a staff member; "" when none */
    int disabled;
    int64_t created_at;
} cg_account;

#endif
