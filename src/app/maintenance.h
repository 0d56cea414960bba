/*
 * Housekeeping that `civgrid maintenance` runs by hand and `civgrid serve` can run on a timer:
 * purging expired sessions, and purging residents' contact details `retention_days` after their
 * case closed (PRODUCT.md's privacy guardrails).
 */
#ifndef CG_APP_MAINTENANCE_H
#define CG_APP_MAINTENANCE_H

#include "store/store.h"

#define CG_RETENTION_DAYS_DEFAULT 180

typedef struct {
    int64_t sessions_purged;
    int64_t contacts_purged;
} cg_maintenance_result;

int cg_maintenance_run(cg_store *s, int64_t now, int retention_days, cg_maintenance_result *out,
                       cg_err *err);

#endif
