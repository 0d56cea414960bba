/*
 * Demo cases: a fortnight of work in the demo district, so the console opens on a live
 * workbench. Cases go through the real case service (submit, then the steps of the state
 * machine at plausible times), so their history, deadlines and statistics are exactly what
 * real work leaves behind.
 */
#ifndef CG_APP_CASE_DEMO_H
#define CG_APP_CASE_DEMO_H

#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

/*
 * Reports n cases spread over the leaf grids and the last 14 days before `now` and moves each
 * along the closed loop to a stage drawn from a fixed mix (new, registered, dispatched, in
 * progress, handled, closed, evaluated; a few rejected, returned and escalated). Deterministic
 * for a seed and `now`. Writes *made (the number stored).
 */
int cg_case_demo_seed(cg_store *s, uint64_t seed, int n, int64_t now, int *made, cg_err *err);

#endif
