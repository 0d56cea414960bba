/*
 * `civgrid demo [--seed N] [--size small|city] [--out DIR] [--force]`: generates the fictional
 * demo district (src/model/demo.c) and writes it to DIR/civgrid.db through the store in one
 * transaction: the grid hierarchy, the road ways (the network the routing code reads), buildings
 * with household counts and points of interest. An existing database is kept unless --force.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/case_demo.h"
#include "cli/cli.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/opts.h"
#include "model/demo.h"
#include "store/store.h"

#define DEMO_ATTRIBUTION "civgrid demo: synthetic data for a fictional district (no real places)"

typedef struct {
    int verbose;
    long long t0;
} progress_ctx;

static double seconds_since(long long t0)
{
    return (cg_time_mono_ns() - t0) / 1e9;
}

static void progress(void *ctx, const char *stage)
{
    progress_ctx *p = ctx;
    if (p->verbose)
        fprintf(stderr, "civgrid: demo: %6.1fs generating %s\n", seconds_since(p->t0), stage);
}

/* mkdir -p for the output directory. */
static int make_dirs(const char *path, cg_err *err)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return cg_err_set(err, CG_EINVAL, "out", "directory name is too long");
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return cg_err_set(err, CG_EIO, "out", "cannot create directory %s: %s", buf,
                                  strerror(errno));
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return 0;
}

static int write_demo(cg_store *s, const cg_demo *d, uint64_t seed, cg_demo_size size,
                      progress_ctx *p, cg_err *err)
{
    int64_t now = cg_time_now();
    for (size_t k = 0; k < d->n_grids; k++) {
        cg_grid g = d->grids[k]; /* the store sets g.id; the demo arrays stay const */
        if (cg_store_grid_put(s, &g, now, err) != 0)
            return -1;
    }
    if (p->verbose)
        fprintf(stderr, "civgrid: demo: %6.1fs wrote %zu grids\n", seconds_since(p->t0),
                d->n_grids);
    for (size_t k = 0; k < d->n_ways; k++)
        if (cg_store_way_put(s, &d->ways[k], err) != 0)
            return -1;
    if (p->verbose)
        fprintf(stderr, "civgrid: demo: %6.1fs wrote %zu roads\n", seconds_since(p->t0), d->n_ways);
    for (size_t k = 0; k < d->n_buildings; k++)
        if (cg_store_building_put(s, &d->buildings[k], err) != 0)
            return -1;
    for (size_t k = 0; k < d->n_pois; k++)
        if (cg_store_poi_put(s, &d->pois[k], err) != 0)
            return -1;
    if (p->verbose)
        fprintf(stderr, "civgrid: demo: %6.1fs wrote %zu buildings and %zu places\n",
                seconds_since(p->t0), d->n_buildings, d->n_pois);
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)seed);
    if (cg_store_meta_set(s, "demo.seed", buf, err) != 0 ||
        cg_store_meta_set(s, "demo.size", cg_demo_size_name(size), err) != 0)
        return -1;
    snprintf(buf, sizeof buf, "%lld", (long long)d->residents);
    if (cg_store_meta_set(s, "demo.residents", buf, err) != 0 ||
        cg_store_meta_set(s, "attribution", DEMO_ATTRIBUTION, err) != 0)
        return -1;
    return 0;
}

/*
 * One account per role so a person can log in as each: random passwords (shown once, never
 * stored in clear), scopes that make the roles visible — the worker and leader on one grid (and
 * set as its team), the inspector on one street, the others on the whole district.
 */
#define DEMO_ACCOUNTS 6

typedef struct {
    cg_account account;
    char password[17];
} demo_account;

static int create_demo_accounts(cg_store *s, const cg_demo *d, demo_account out[DEMO_ACCOUNTS],
                                cg_err *err)
{
    const cg_grid *district = &d->grids[0], *street = NULL, *grid = NULL;
    for (size_t k = 0; k < d->n_grids; k++) {
        if (!street && d->grids[k].level == CG_LEVEL_STREET)
            street = &d->grids[k];
        if (!grid && d->grids[k].level == CG_LEVEL_GRID)
            grid = &d->grids[k];
    }
    if (!street || !grid)
        return cg_err_set(err, CG_EINTERNAL, "", "the demo district has no street or no grid");
    static const struct {
        const char *username, *display;
        cg_role role;
        int scope; /* 0 district, 1 street, 2 grid */
        const char *department;
    } plan[DEMO_ACCOUNTS] = {
        {"admin", "系统管理员 Administrator", CG_ROLE_ADMIN, 0, ""},
        {"operator", "区指挥中心 District Command Centre", CG_ROLE_OPERATOR, 0, ""},
        {"inspector", "督查员 Inspector", CG_ROLE_INSPECTOR, 1, ""},
        {"handler", "城管处置员 City Management Handler", CG_ROLE_HANDLER, 0,
         "城市管理局 City Management Bureau"},
        {"leader", "网格长 Grid Leader", CG_ROLE_LEADER, 2, ""},
        {"worker", "网格员 Grid Worker", CG_ROLE_WORKER, 2, ""},
    };
    const char *scopes[3] = {district->code, street->code, grid->code};
    for (int i = 0; i < DEMO_ACCOUNTS; i++) {
        demo_account *a = &out[i];
        memset(a, 0, sizeof *a);
        char token[CG_TOKEN_CHARS + 1], hash[CG_PASSWORD_HASH_MAX];
        cg_token_new(token);
        memcpy(a->password, token, 16);
        snprintf(a->account.username, sizeof a->account.username, "%s", plan[i].username);
        snprintf(a->account.display_name, sizeof a->account.display_name, "%s", plan[i].display);
        snprintf(a->account.scope.code, sizeof a->account.scope.code, "%s",
                 plan[i].role == CG_ROLE_ADMIN ? "" : scopes[plan[i].scope]);
        snprintf(a->account.department, sizeof a->account.department, "%s", plan[i].department);
        a->account.roles = plan[i].role;
        a->account.created_at = cg_time_now();
        if (cg_password_hash(a->password, hash, err) != 0 ||
            cg_store_account_create(s, &a->account, hash, err) != 0)
            return -1;
    }
    int64_t worker_id = out[5].account.id;
    return cg_store_grid_team_set(s, NULL, grid->code, out[4].account.id, 0, &worker_id, 1,
                                  cg_time_now(), err);
}

static void print_demo_accounts(const demo_account a[DEMO_ACCOUNTS])
{
    printf("\ndemo accounts (the passwords are shown only now; change them with civgrid user "
           "passwd):\n");
    printf("  %-10s %-18s %-16s %s\n", "username", "role", "scope", "password");
    for (int i = 0; i < DEMO_ACCOUNTS; i++)
        printf("  %-10s %-18s %-16s %s\n", a[i].account.username,
               cg_role_name((cg_role)a[i].account.roles),
               a[i].account.scope.code[0] ? a[i].account.scope.code : "(all)", a[i].password);
}

int cmd_demo(int argc, char **argv)
{
    int seed = 1, force = 0, cases = 150;
    const char *size_name = "small", *out_dir = "demo-out";
    const cg_opt opts[] = {
        {CG_OPT_INT, "seed", "N", &seed,
         "random seed (default 1); the same seed, the same district"},
        {CG_OPT_STRING, "size", "SIZE", &size_name,
         "small (~60k residents, default) or city (~2M residents, >= 1M road nodes)"},
        {CG_OPT_STRING, "out", "DIR", &out_dir, "output directory (default demo-out)"},
        {CG_OPT_FLAG, "force", NULL, &force, "replace an existing DIR/civgrid.db"},
        {CG_OPT_INT, "cases", "N", &cases,
         "demo cases over the last 14 days, at every stage (default 150; 0 for none)"},
        {0}};
    const cg_cmd_help help = {
        "civgrid demo [options]",
        "Generate the fictional demo district 明湖区 (Minghu District): streets, communities and "
        "grids of 150-300 households, roads, buildings with household counts and key places, "
        "into DIR/civgrid.db. Deterministic for a seed.",
        opts, "Then: civgrid serve --db DIR/civgrid.db"};
    int parsed = cg_opts_parse(&help, &argc, argv);
    if (parsed != 0)
        return parsed > 0 ? CG_EXIT_OK : CG_EXIT_USAGE;
    if (argc > 0) {
        fprintf(stderr, "civgrid: demo takes no arguments (got '%s')\nusage: %s\n", argv[0],
                help.usage);
        return CG_EXIT_USAGE;
    }
    cg_err err = {0};
    cg_demo_size size;
    if (seed < 0) {
        fprintf(stderr, "civgrid: seed: must be 0 or more (got %d)\n", seed);
        return CG_EXIT_USAGE;
    }
    if (cases < 0 || cases > 100000) {
        fprintf(stderr, "civgrid: cases: must be 0..100000 (got %d)\n", cases);
        return CG_EXIT_USAGE;
    }
    if (cg_demo_size_parse(size_name, &size, &err) != 0) {
        cg_cli_fail(&err);
        return CG_EXIT_USAGE;
    }
    char db[4200];
    snprintf(db, sizeof db, "%s/civgrid.db", out_dir);
    struct stat st;
    if (stat(db, &st) == 0) {
        if (!force) {
            fprintf(stderr, "civgrid: out: %s exists; use --force to replace it\n", db);
            return CG_EXIT_INPUT;
        }
        static const char *suffixes[] = {"", "-wal", "-shm"};
        for (size_t k = 0; k < 3; k++) {
            char f[4300];
            snprintf(f, sizeof f, "%s%s", db, suffixes[k]);
            if (unlink(f) != 0 && errno != ENOENT) {
                fprintf(stderr, "civgrid: out: cannot remove %s: %s\n", f, strerror(errno));
                return CG_EXIT_RUNTIME;
            }
        }
    }
    if (make_dirs(out_dir, &err) != 0)
        return cg_cli_fail(&err);

    progress_ctx p = {size == CG_DEMO_CITY, cg_time_mono_ns()};
    cg_demo d;
    if (cg_demo_generate((uint64_t)seed, size, progress, &p, &d, &err) != 0)
        return cg_cli_fail(&err);
    cg_store *s;
    int status = cg_cli_open_store(db, CG_STORE_CREATE, &s);
    if (status) {
        cg_demo_free(&d);
        return status;
    }
    cg_cli_set_actor(s);
    demo_account accounts[DEMO_ACCOUNTS];
    if (cg_crypto_init(&err) != 0 || cg_store_begin(s, &err) != 0 ||
        write_demo(s, &d, (uint64_t)seed, size, &p, &err) != 0 ||
        create_demo_accounts(s, &d, accounts, &err) != 0 || cg_store_commit(s, &err) != 0) {
        cg_store_rollback(s);
        cg_store_close(s);
        cg_demo_free(&d);
        return cg_cli_fail(&err);
    }
    int made = 0;
    if (cases > 0 && cg_case_demo_seed(s, (uint64_t)seed, cases, cg_time_now(), &made, &err) != 0) {
        cg_store_close(s);
        cg_demo_free(&d);
        return cg_cli_fail(&err);
    }
    cg_store_close(s);
    printf("%s (%s) seed %d, size %s: %zu streets, %zu communities, %zu grids; %lld households, "
           "~%lld residents;\n%zu roads over %lld nodes, %zu buildings, %zu places; written to %s "
           "in %.1f s\n",
           d.grids[0].name_zh, d.grids[0].name_en, seed, size_name, d.n_streets, d.n_communities,
           d.n_leaf_grids, (long long)d.households, (long long)d.residents, d.n_ways,
           (long long)d.road_nodes, d.n_buildings, d.n_pois, db, seconds_since(p.t0));
    if (made)
        printf("%d demo cases from the last 14 days, at every stage of the closed loop\n", made);
    print_demo_accounts(accounts);
    cg_demo_free(&d);
    return CG_EXIT_OK;
}
