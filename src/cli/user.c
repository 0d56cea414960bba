/*
 * `civgrid user add|list|disable|enable|passwd|grant`: accounts from the machine's own command
 * line, which is trusted (unscoped): the first administrator comes from `civgrid user add
 * --admin`. Passwords come from --password-file, from standard input when it is not a terminal,
 * or from a prompt with echo off; they are never printed, never logged and never put on the
 * command line (where `ps` would show them). Every change is audited as "cli:<unix user>".
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/crypto.h"
#include "core/opts.h"

#define PASSWORD_BUF 1100 /* the policy's 1024 bytes, a line end and room to notice more */

void cg_cli_set_actor(cg_store *s)
{
    cg_actor actor = {0};
    struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name)
        snprintf(actor.name, sizeof actor.name, "cli:%s", pw->pw_name);
    else
        snprintf(actor.name, sizeof actor.name, "cli:uid%u", (unsigned)geteuid());
    cg_store_set_actor(s, &actor);
}

/* Reads one line into buf without its line end; -1 at end of input or when it is too long. */
static int read_line(FILE *in, char *buf, size_t cap)
{
    if (!fgets(buf, (int)cap, in))
        return -1;
    size_t n = strcspn(buf, "\r\n");
    if (!buf[n] && n == cap - 1)
        return -1;
    buf[n] = '\0';
    return 0;
}

/* A prompt on the terminal with echo off, asked twice. */
static int prompt_password(char *buf, size_t cap)
{
    struct termios old, quiet;
    if (tcgetattr(STDIN_FILENO, &old))
        return -1;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    char again[PASSWORD_BUF];
    int rc = -1;
    fprintf(stderr, "password: ");
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0) {
        if (read_line(stdin, buf, cap) == 0) {
            fprintf(stderr, "\nagain: ");
            if (read_line(stdin, again, sizeof again) == 0)
                rc = strcmp(buf, again) == 0 ? 0 : -2;
        }
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    }
    fprintf(stderr, "\n");
    explicit_bzero(again, sizeof again);
    if (rc == -2)
        fprintf(stderr, "civgrid: password: the two entries differ\n");
    return rc;
}

/* The password for an account: from a file, a pipe or a prompt. Returns an exit status. */
static int get_password(const char *file, char *buf, size_t cap)
{
    int rc;
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f) {
            fprintf(stderr, "civgrid: password-file: cannot open %s: %s\n", file, strerror(errno));
            return CG_EXIT_INPUT;
        }
        rc = read_line(f, buf, cap);
        fclose(f);
    } else if (isatty(STDIN_FILENO)) {
        rc = prompt_password(buf, cap);
    } else {
        rc = read_line(stdin, buf, cap);
    }
    if (rc) {
        fprintf(stderr, "civgrid: password: none read (give one line on standard input or in "
                        "--password-file)\n");
        return CG_EXIT_INPUT;
    }
    return CG_EXIT_OK;
}

/* Checks the policy and hashes; the clear password is wiped either way. */
static int hash_password(const char *username, char *password, char hash[CG_PASSWORD_HASH_MAX])
{
    cg_err err = {0};
    int rc = cg_password_check(username, password, &err) || cg_crypto_init(&err) ||
             cg_password_hash(password, hash, &err);
    explicit_bzero(password, strlen(password));
    return rc ? cg_cli_fail(&err) : CG_EXIT_OK;
}

static int open_writer(const char *db, int flags, cg_store **s)
{
    int status = cg_cli_open_store(cg_cli_db_path(db), flags, s);
    if (status == 0)
        cg_cli_set_actor(*s);
    return status;
}

static int find_account(cg_store *s, const char *username, cg_account *a)
{
    cg_err err = {0};
    if (cg_store_account_by_name(s, username, a, NULL, 0, &err))
        return cg_cli_fail(&err);
    return CG_EXIT_OK;
}

#define PARSE_OR_RETURN(help, n_args)                                                              \
    do {                                                                                           \
        int parsed_ = cg_opts_parse(help, &argc, argv);                                            \
        if (parsed_ != 0)                                                                          \
            return parsed_ > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;                                       \
        if (argc != (n_args)) {                                                                    \
            fprintf(stderr, "usage: %s\n", (help)->usage);                                         \
            return CG_EXIT_USAGE;                                                                  \
        }                                                                                          \
    } while (0)

static int user_add(int argc, char **argv)
{
    const char *db = NULL, *roles_text = NULL, *scope = "", *name = "", *department = "",
               *phone = "", *password_file = NULL;
    int admin = 0;
    const cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database (default $CIVGRID_DB or civgrid.db)"},
        {CG_OPT_FLAG, "admin", NULL, &admin, "an administrator of the whole installation"},
        {CG_OPT_STRING, "roles", "LIST", &roles_text,
         "worker, leader, operator, handler, inspector, admin (comma-separated)"},
        {CG_OPT_STRING, "scope", "CODE", &scope, "the grid subtree the account works in"},
        {CG_OPT_STRING, "name", "TEXT", &name, "display name"},
        {CG_OPT_STRING, "department", "TEXT", &department, "department (handlers)"},
        {CG_OPT_STRING, "duty-phone", "NUMBER", &phone, "on-duty phone number"},
        {CG_OPT_STRING, "password-file", "FILE", &password_file,
         "read the password from the first line of FILE (else standard input or a prompt)"},
        {0}};
    const cg_cmd_help help = {"civgrid user add [options] USERNAME",
                              "Create an account. The password (at least 10 characters, not the "
                              "username) is read from --password-file, standard input or a "
                              "prompt, never from the command line.",
                              opts, "example: civgrid user add --admin root < password.txt"};
    PARSE_OR_RETURN(&help, 1);
    cg_account a;
    memset(&a, 0, sizeof a);
    cg_err err = {0};
    snprintf(a.username, sizeof a.username, "%s", argv[0]);
    if (cg_username_check(argv[0], &err))
        return cg_cli_fail(&err);
    if (admin)
        a.roles = CG_ROLE_ADMIN;
    if (roles_text) {
        uint32_t roles;
        if (cg_roles_parse(roles_text, &roles, &err))
            return cg_cli_fail(&err);
        a.roles |= roles;
    }
    if (!a.roles) {
        fprintf(stderr, "civgrid: roles: give --roles or --admin\n");
        return CG_EXIT_USAGE;
    }
    snprintf(a.scope.code, sizeof a.scope.code, "%s", admin ? "" : scope);
    snprintf(a.display_name, sizeof a.display_name, "%s", name);
    snprintf(a.department, sizeof a.department, "%s", department);
    snprintf(a.duty_phone, sizeof a.duty_phone, "%s", phone);

    char password[PASSWORD_BUF], hash[CG_PASSWORD_HASH_MAX];
    int status = get_password(password_file, password, sizeof password);
    if (status == 0)
        status = hash_password(a.username, password, hash);
    explicit_bzero(password, sizeof password);
    if (status)
        return status;
    cg_store *s;
    if ((status = open_writer(db, CG_STORE_CREATE, &s)))
        return status;
    if (cg_store_account_create(s, &a, hash, &err))
        status = cg_cli_fail(&err);
    cg_store_close(s);
    if (status == 0) {
        char roles[128];
        cg_roles_format(a.roles, roles, sizeof roles);
        printf("created account %s (id %lld, roles %s, scope %s)\n", a.username, (long long)a.id,
               roles, a.scope.code[0] ? a.scope.code : "all");
    }
    return status;
}

static int print_account(void *ctx, const cg_account *a)
{
    (void)ctx;
    char roles[128];
    cg_roles_format(a->roles, roles, sizeof roles);
    printf("%-6lld %-20s %-28s %-17s %-8s %s\n", (long long)a->id, a->username, roles,
           a->scope.code[0] ? a->scope.code : "all", a->disabled ? "disabled" : "active",
           a->display_name);
    return 0;
}

static int user_list(int argc, char **argv)
{
    const char *db = NULL;
    const cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database (default $CIVGRID_DB or civgrid.db)"}, {0}};
    const cg_cmd_help help = {"civgrid user list [options]",
                              "List accounts: id, username, roles, scope, state, display name.",
                              opts, NULL};
    PARSE_OR_RETURN(&help, 0);
    cg_store *s;
    int status = cg_cli_open_store(cg_cli_db_path(db), 0, &s);
    if (status)
        return status;
    cg_err err = {0};
    if (cg_store_account_list(s, NULL, print_account, NULL, &err))
        status = cg_cli_fail(&err);
    cg_store_close(s);
    return status;
}

/* disable and enable: the same change with a different value. */
static int user_set_disabled(int argc, char **argv, int disabled)
{
    const char *db = NULL;
    const cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database (default $CIVGRID_DB or civgrid.db)"}, {0}};
    const cg_cmd_help help = {disabled ? "civgrid user disable [options] USERNAME"
                                       : "civgrid user enable [options] USERNAME",
                              disabled ? "Disable an account and end its sessions."
                                       : "Enable a disabled account.",
                              opts, NULL};
    PARSE_OR_RETURN(&help, 1);
    cg_store *s;
    int status = open_writer(db, 0, &s);
    if (status)
        return status;
    cg_account a;
    cg_err err = {0};
    if ((status = find_account(s, argv[0], &a)) == 0) {
        a.disabled = disabled;
        if (cg_store_account_update(s, NULL, &a, &err))
            status = cg_cli_fail(&err);
        else
            printf("%s %s\n", disabled ? "disabled" : "enabled", a.username);
    }
    cg_store_close(s);
    return status;
}

static int user_passwd(int argc, char **argv)
{
    const char *db = NULL, *password_file = NULL;
    const cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database (default $CIVGRID_DB or civgrid.db)"},
        {CG_OPT_STRING, "password-file", "FILE", &password_file,
         "read the password from the first line of FILE (else standard input or a prompt)"},
        {0}};
    const cg_cmd_help help = {"civgrid user passwd [options] USERNAME",
                              "Set an account's password; its sessions end.", opts, NULL};
    PARSE_OR_RETURN(&help, 1);
    char password[PASSWORD_BUF], hash[CG_PASSWORD_HASH_MAX];
    int status = get_password(password_file, password, sizeof password);
    if (status == 0)
        status = hash_password(argv[0], password, hash);
    explicit_bzero(password, sizeof password);
    if (status)
        return status;
    cg_store *s;
    if ((status = open_writer(db, 0, &s)))
        return status;
    cg_account a;
    cg_err err = {0};
    if ((status = find_account(s, argv[0], &a)) == 0) {
        if (cg_store_account_set_password(s, NULL, a.id, hash, &err))
            status = cg_cli_fail(&err);
        else
            printf("password of %s changed\n", a.username);
    }
    cg_store_close(s);
    return status;
}

static int user_grant(int argc, char **argv)
{
    const char *db = NULL, *roles_text = NULL, *scope = NULL;
    const cg_opt opts[] = {
        {CG_OPT_STRING, "db", "FILE", &db, "database (default $CIVGRID_DB or civgrid.db)"},
        {CG_OPT_STRING, "roles", "LIST", &roles_text, "the account's roles from now on"},
        {CG_OPT_STRING, "scope", "CODE", &scope, "the account's scope from now on ('' for all)"},
        {0}};
    const cg_cmd_help help = {"civgrid user grant [options] USERNAME",
                              "Set an account's roles and/or scope.", opts,
                              "example: civgrid user grant --roles worker,leader --scope "
                              "330106001001 wang"};
    PARSE_OR_RETURN(&help, 1);
    if (!roles_text && !scope) {
        fprintf(stderr, "civgrid: give --roles, --scope or both\n");
        return CG_EXIT_USAGE;
    }
    cg_err err = {0};
    uint32_t roles = 0;
    if (roles_text && cg_roles_parse(roles_text, &roles, &err))
        return cg_cli_fail(&err);
    cg_store *s;
    int status = open_writer(db, 0, &s);
    if (status)
        return status;
    cg_account a;
    if ((status = find_account(s, argv[0], &a)) == 0) {
        if (roles_text)
            a.roles = roles;
        if (scope)
            snprintf(a.scope.code, sizeof a.scope.code, "%s", scope);
        char text[128];
        cg_roles_format(a.roles, text, sizeof text);
        if (cg_store_account_update(s, NULL, &a, &err))
            status = cg_cli_fail(&err);
        else
            printf("%s: roles %s, scope %s\n", a.username, text,
                   a.scope.code[0] ? a.scope.code : "all");
    }
    cg_store_close(s);
    return status;
}

int cmd_user(int argc, char **argv)
{
    static const char usage[] =
        "usage: civgrid user <add|list|disable|enable|passwd|grant> [options]\n"
        "  add       create an account (the first administrator: add --admin)\n"
        "  list      list accounts\n"
        "  disable   disable an account and end its sessions\n"
        "  enable    enable a disabled account\n"
        "  passwd    set an account's password\n"
        "  grant     set an account's roles and scope\n";
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CG_EXIT_USAGE : CG_EXIT_OK;
    }
    const char *sub = argv[1];
    argc--, argv++;
    if (strcmp(sub, "add") == 0)
        return user_add(argc, argv);
    if (strcmp(sub, "list") == 0)
        return user_list(argc, argv);
    if (strcmp(sub, "disable") == 0)
        return user_set_disabled(argc, argv, 1);
    if (strcmp(sub, "enable") == 0)
        return user_set_disabled(argc, argv, 0);
    if (strcmp(sub, "passwd") == 0)
        return user_passwd(argc, argv);
    if (strcmp(sub, "grant") == 0)
        return user_grant(argc, argv);
    fprintf(stderr, "civgrid: user: '%s' is not a subcommand\n%s", sub, usage);
    return CG_EXIT_USAGE;
}
