/*
 * Demo cases (app/case_demo.h): each case is reported through cg_cases_submit and moved on with
 * cg_cases_transition, with the service's clock set to the moment each step happens, so
 * deadlines, overdue flags, history and statistics come out as the service computes them.
 */
#include "app/case_demo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/atlas.h"
#include "app/cases.h"

static uint64_t next_rand(uint64_t *state)
{
    /* splitmix64: deterministic for a seed, good enough for a demo. */
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double unit_rand(uint64_t *state) { return (double)(next_rand(state) >> 11) / 9007199254740992.0; }

/* Where and what residents and workers typically write, after the category's own name. */
static const char *const details[] = {
    "小区东门外，已有两天",       "公交站旁，影响行人通行",    "菜市场北侧路口",
    "学校门口，上下学时段较多人", "人行道上，夜间看不清",      "沿街商铺门前",
    "地下通道入口附近",           "公园南门，周末人多",        "居民楼下，多名居民反映",
    "十字路口西北角",             "河道边步行道",              "老旧小区内部道路",
};

/* The stage a demo case ends at, and how many of 100 cases end there. */
typedef enum {
    END_REPORTED,
    END_REGISTERED,
    END_DISPATCHED,
    END_IN_PROGRESS,
    END_HANDLED,
    END_CLOSED,
    END_EVALUATED,
    END_REJECTED,
    END_RETURNED,
    END_ESCALATED,
    END_COUNT
} demo_end;

static const int end_mix[END_COUNT] = {10, 8, 12, 14, 6, 30, 10, 3, 3, 4};

static demo_end draw_end(uint64_t *rng)
{
    int pick = (int)(next_rand(rng) % 100), acc = 0;
    for (int e = 0; e < END_COUNT; e++) {
        acc += end_mix[e];
        if (pick < acc)
            return (demo_end)e;
    }
    return END_CLOSED;
}

/* One step at time `at` (skipped, without error, when it would lie in the future). */
static int step(cg_case_ctx *ctx, int64_t id, cg_case_action action, int64_t at, int64_t now,
                const char *note, int *done, cg_err *err)
{
    if (at >= now) {
        *done = 1;
        return 0;
    }
    ctx->now = at;
    cg_case_step_input in = {.action = action, .note = note};
    if (action == CG_ACT_EVALUATE)
        in.evaluation = 4 + (int)(at % 2);
    cg_case out;
    return cg_cases_transition(ctx, id, &in, &out, err);
}

int cg_case_demo_seed(cg_store *s, uint64_t seed, int n, int64_t now, int *made, cg_err *err)
{
    *made = 0;
    cg_atlas *atlas = NULL;
    cg_case_rules *rules = NULL;
    if (cg_atlas_load(s, 0, &atlas, err) || cg_case_rules_load(s, &rules, err)) {
        cg_atlas_free(atlas);
        return -1;
    }
    size_t n_grids = cg_atlas_count(atlas), n_leaves = 0, n_cats = 0;
    size_t *leaves = calloc(n_grids ? n_grids : 1, sizeof *leaves);
    const cg_category **cats = calloc(rules->taxonomy.n ? rules->taxonomy.n : 1, sizeof *cats);
    cg_case *c = calloc(1, sizeof *c);
    int rc = -1;
    if (!leaves || !cats || !c) {
        cg_err_set(err, CG_ENOMEM, "", "out of memory seeding demo cases");
        goto done;
    }
    for (size_t i = 0; i < n_grids; i++)
        if (cg_atlas_grid(atlas, i)->level == CG_LEVEL_GRID)
            leaves[n_leaves++] = i;
    for (size_t i = 0; i < rules->taxonomy.n; i++)
        if (cg_taxonomy_fileable(&rules->taxonomy, rules->taxonomy.items[i].code))
            cats[n_cats++] = &rules->taxonomy.items[i];
    if (!n_leaves || !n_cats) {
        cg_err_set(err, CG_EINVAL, "grids", "demo cases need grids and categories");
        goto done;
    }

    cg_case_ctx ctx = {.store = s, .atlas = atlas, .rules = rules, .roles = CG_ROLE_ALL};
    snprintf(ctx.actor.name, sizeof ctx.actor.name, "demo");
    uint64_t rng = seed * 0x2545F4914F6CDD1Dull + 17;
    const int64_t day = 86400;
    for (int k = 0; k < n; k++) {
        const cg_grid *g = cg_atlas_grid(atlas, leaves[next_rand(&rng) % n_leaves]);
        cg_bbox bb = cg_mpoly_bbox(&g->geom);
        cg_point p = {0, 0};
        size_t path[8];
        for (int tries = 0; tries < 50; tries++) {
            p.x = bb.min_x + (bb.max_x - bb.min_x) * unit_rand(&rng);
            p.y = bb.min_y + (bb.max_y - bb.min_y) * unit_rand(&rng);
            size_t depth = cg_atlas_locate(atlas, p, path, 8);
            if (depth && cg_atlas_grid(atlas, path[depth - 1]) == g)
                break;
        }
        const cg_category *cat = cats[next_rand(&rng) % n_cats];
        char description[512], address[300];
        snprintf(description, sizeof description, "%s：%s", cat->name_zh,
                 details[next_rand(&rng) % (sizeof details / sizeof details[0])]);
        snprintf(address, sizeof address, "%s附近", g->name_zh);
        /* Cases still early in the loop are mostly recent ones, as on a real workbench. */
        demo_end end = draw_end(&rng);
        double span = end <= END_REGISTERED ? 1.5 : end <= END_IN_PROGRESS ? 5 : 14;
        int64_t at = now - (int64_t)(unit_rand(&rng) * span * day);
        /* Reports come in the daytime, 07:00..21:00 Beijing time. */
        int64_t local = (at + 8 * 3600) % day;
        if (local < 7 * 3600 || local > 21 * 3600)
            at -= local - (7 * 3600 + (int64_t)(unit_rand(&rng) * 14 * 3600));
        if (at >= now)
            at = now - 600;
        static const cg_case_source sources[] = {CG_SOURCE_WORKER,   CG_SOURCE_WORKER,
                                                 CG_SOURCE_RESIDENT, CG_SOURCE_HOTLINE,
                                                 CG_SOURCE_PATROL,   CG_SOURCE_INSPECTION};
        cg_case_input in = {.source = sources[next_rand(&rng) % 6],
                            .category = cat->code,
                            .description = description,
                            .lon = p.x,
                            .lat = p.y,
                            .has_point = 1,
                            .address = address,
                            .priority = next_rand(&rng) % 10 == 0 ? 1 : 0};
        ctx.now = at;
        int replayed = 0;
        if (cg_cases_submit(&ctx, &in, c, &replayed, err))
            goto done;
        (*made)++;
        int64_t id = c->id;
        if (end == END_ESCALATED && !cat->escalates)
            end = END_IN_PROGRESS;
        int stop = 0;
        /* Minutes to hours between steps, as a command centre works. */
        int64_t t = at + 600 + (int64_t)(unit_rand(&rng) * 3600);
        if (end == END_REPORTED)
            continue;
        if (end == END_REJECTED) {
            if (step(&ctx, id, CG_ACT_REJECT, t, now, "不属于受理范围", &stop, err))
                goto done;
            continue;
        }
        if (step(&ctx, id, CG_ACT_REGISTER, t, now, "", &stop, err))
            goto done;
        if (stop || end == END_REGISTERED)
            continue;
        t += 900 + (int64_t)(unit_rand(&rng) * 2700);
        if (step(&ctx, id, CG_ACT_DISPATCH, t, now, "请尽快处置", &stop, err))
            goto done;
        if (stop || end == END_DISPATCHED)
            continue;
        if (end == END_RETURNED) {
            t += 1800;
            if (step(&ctx, id, CG_ACT_RETURN, t, now, "非本部门职责，请重新派遣", &stop, err))
                goto done;
            continue;
        }
        t += 1800 + (int64_t)(unit_rand(&rng) * 5400);
        if (step(&ctx, id, CG_ACT_ACCEPT, t, now, "", &stop, err))
            goto done;
        if (stop || end == END_IN_PROGRESS)
            continue;
        if (end == END_ESCALATED) {
            t += day;
            if (step(&ctx, id, CG_ACT_ESCALATE, t, now, "协调不成，提请社区处理", &stop, err))
                goto done;
            continue;
        }
        t += 3 * 3600 + (int64_t)(unit_rand(&rng) * 2 * day);
        if (step(&ctx, id, CG_ACT_HANDLE, t, now, "已处置完毕，附现场照片", &stop, err))
            goto done;
        if (stop || end == END_HANDLED)
            continue;
        t += 1800 + (int64_t)(unit_rand(&rng) * 4 * 3600);
        if (step(&ctx, id, CG_ACT_CLOSE, t, now, "核查属实，同意结案", &stop, err))
            goto done;
        if (stop || end == END_CLOSED)
            continue;
        t += 3600;
        if (step(&ctx, id, CG_ACT_EVALUATE, t, now, "", &stop, err))
            goto done;
    }
    rc = 0;
done:
    free(c);
    free(cats);
    free(leaves);
    cg_case_rules_free(rules);
    cg_atlas_free(atlas);
    return rc;
}
