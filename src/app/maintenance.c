/*
 * Housekeeping (maintenance.h). Each purge is its own write: a failure of the second leaves the
 * first done, which is harmless since both are idempotent and rerun on the next pass.
 */
#include "app/maintenance.h"

#include <string.h>

int cg_maintenance_run(cg_store *s, int64_t now, int retention_days, cg_maintenance_result *out,
                       cg_err *err)
{
    memset(out, 0, sizeof *out);
    if (retention_days < 0)
        return cg_err_set(err, CG_EINVAL, "retention_days", "retention days must not be negative");
    if (cg_store_session_purge(s, now, &out->sessions_purged, err))
        return -1;
    return cg_store_contact_purge(s, now - (int64_t)retention_days * 86400, &out->contacts_purged,
                                  err);
}
