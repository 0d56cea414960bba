/*
 * The SQLite schema and its migrations. The schema only ever moves forward: each entry of
 * `migrations` takes a database from version N-1 to N, and opening a database applies the
 * pending ones in one transaction, recording each in `schema_version`. A database whose version
 * is newer than the last entry here was written by a newer civgrid and is refused, unchanged.
 * To change the schema, append a step; never edit a step that has shipped.
 *
 * Layout (version 1):
 *   grids         one row per version of a grid; the current version has valid_to = 0. A partial
 *                 unique index keeps at most one current version per code. Members are a JSON
 *                 array of account ids (small, always read with the grid).
 *   grids_rtree   R*Tree over the bounding boxes of grid versions, for the bbox filter. The
 *                 R*Tree keeps 32-bit floats rounded outwards, so queries also test the exact
 *                 bbox columns of the row.
 *   ways          roads as node-id and coordinate arrays (little-endian int64 and float64 blobs)
 *   buildings, pois, boundaries   places, each with a bbox (and an R*Tree where lists filter by
 *                 bbox)
 *   meta          key/value
 *   counters      grid_generation, bumped in the same transaction as every grid write, so
 *                 every connection and process sees it change exactly when the grids do;
 *                 places_generation likewise for places (its row is made by the first place
 *                 write, in any version, so it needs no migration); ways_generation likewise
 *                 for roads alone (the road graph's staleness check).
 *
 * Version 2 (access, issue 3):
 *   accounts      staff accounts: roles (a bit set, model/access.h), scope (a grid code, '' for
 *                 the whole installation), the argon2id hash of the password (never the password)
 *   login_throttle  consecutive login failures per key ("user:<name>", "addr:<address>")
 *   sessions      SHA-256 of each session token (never the token), its account and expiry
 *   audit_log     the append-only, hash-chained log (model/audit.h); seq is the rowid, 1, 2, ...
 *                 Byte-length checks keep every field within the fixed sizes of cg_audit_entry,
 *                 so what the verifier reads back is exactly what was hashed.
 *   audit_head    one row: the newest seq and hash, written in the same transaction as each
 *                 entry, so deleting the newest entries is noticed
 *   resident_contact  residents' contact details, apart from everything else, keyed by case;
 *                 purged retention_days after the case closes
 *
 * Version 3 (cases, issue 4):
 *   cases         one row per case (model/case.h's cg_case, flattened): the current state, tier,
 *                 assignee, stage times, deadlines and due_at (the deadline of the current stage,
 *                 0 when none). Ids are the rowid, 1, 2, ... (cases are never deleted). Indexes
 *                 serve the staff listing: (grid_code, state, reported_at) for a grid subtree +
 *                 state + period, (state, due_at) for the overdue queue, category, assignee,
 *                 reporter, reported_at for the newest-first default, the Open311 token.
 *   cases_rtree   R*Tree over each case's point (a degenerate box), for bbox filters and the
 *                 duplicate search; cases without a point have no entry.
 *   case_events   the history: (case_id, seq) with seq 1, 2, ... per case; transitions carry
 *                 action, from, to; note entries (merges, photos, reassignments) have is_note = 1.
 *                 Statistics count steps by (action, at).
 *   case_photos   which photo (SHA-256 of the file on disk) belongs to which case and entry
 *   idempotency   submission keys (Idempotency-Key, Open311 device_id + client time) and the case
 *                 each created; purged after CG_IDEM_KEEP_DAYS
 *   case_fts      FTS5 over description and address, contentless (rowid = case id), written in
 *                 the same transaction as the case. Chinese has no spaces between words, so the
 *                 indexed text has a space between CJK characters and a search term becomes a
 *                 quoted phrase of them: a substring search for Chinese, a word search otherwise.
 *   docs          rule documents (the category taxonomy, calendar hours and years) as JSON;
 *                 counters.rules_generation moves with every write, like grid_generation.
 *
 * Version 4 (the duplicate search of every new case, issue 4):
 *   case_near     (category, cell, reported_at, id) of every case with a point; the cell is
 *                 0.001 by 0.001 degree (~100 m). The duplicate search (open cases of the
 *                 category and its sub-categories within 50 m and 24 h) seeks each category
 *                 of the range, each cell under its box and the period, so it reads only its
 *                 candidates instead of every case ever reported within 50 m (the R*Tree has
 *                 no time or category; giving it those dimensions made its bbox-only searches
 *                 25-70x slower). Written with the case; the migration indexes the existing
 *                 cases in one sorted INSERT ... SELECT (~7 s per million cases on an idle
 *                 machine; a copy of the 5M-case bench database took 133 s at a load average
 *                 of 10; logged every 10 s).
 *
 * Version 5 (the case timer):
 *   cases_state_handle  a partial index on (state, handle_by) for handle_by > 0, so the timer's
 *                 pass (open cases past their handling deadline, every minute in `serve`)
 *                 reads the cases it may escalate instead of every open case (at 5M cases a
 *                 pass read 1.15M rows, ~10 s of CPU a minute). New cases have no handling
 *                 deadline yet, so intake does not write to it.
 *
 * Version 6 (挂账 stops the clock; photo files):
 *   cases.suspended_at  when the current suspension began (0 when the case is not suspended)
 *   cases.suspended_s   working seconds spent suspended since the last dispatch; the handling
 *                 deadline is moved on by them (model/case.h). Both are added with a constant
 *                 default (no table rewrite); the migration sets suspended_at of the cases
 *                 suspended at that moment to the time of their last suspend step, so their
 *                 clock stops from then. Cases resumed before version 6 keep their deadline
 *                 (suspended_s 0): the working calendar is not known to the store.
 *   case_photos_sha  an index on case_photos (sha256): is a photo file still referenced by
 *                 another case (a photo whose commit failed removes only a file it alone made).
 */
#include "store/sqlite/db.h"

#include <time.h>

static const char schema_v1[] =
    "CREATE TABLE schema_version ("
    "  version INTEGER PRIMARY KEY,"
    "  applied_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO counters (name, value) VALUES ('grid_generation', 0);"
    "CREATE TABLE grids ("
    "  id INTEGER PRIMARY KEY,"
    "  code TEXT NOT NULL CHECK (code <> ''),"
    "  parent_code TEXT NOT NULL DEFAULT '',"
    "  level INTEGER NOT NULL,"
    "  name_zh TEXT NOT NULL DEFAULT '',"
    "  name_en TEXT NOT NULL DEFAULT '',"
    "  grade INTEGER NOT NULL DEFAULT 0,"
    "  households INTEGER NOT NULL DEFAULT -1,"
    "  area_m2 REAL NOT NULL DEFAULT 0,"
    "  geom BLOB,"
    "  min_x REAL, min_y REAL, max_x REAL, max_y REAL,"
    "  leader_id INTEGER NOT NULL DEFAULT 0,"
    "  deputy_id INTEGER NOT NULL DEFAULT 0,"
    "  members TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(members)),"
    "  valid_from INTEGER NOT NULL CHECK (valid_from > 0),"
    "  valid_to INTEGER NOT NULL DEFAULT 0 CHECK (valid_to = 0 OR valid_to >= valid_from)"
    ");"
    "CREATE UNIQUE INDEX grids_current ON grids (code) WHERE valid_to = 0;"
    "CREATE INDEX grids_code_time ON grids (code, valid_from);"
    "CREATE INDEX grids_parent ON grids (parent_code, code);"
    "CREATE INDEX grids_level ON grids (level, code) WHERE valid_to = 0;"
    "CREATE VIRTUAL TABLE grids_rtree USING rtree (id, min_x, max_x, min_y, max_y);"
    "CREATE TABLE ways ("
    "  id INTEGER PRIMARY KEY,"
    "  road_class INTEGER NOT NULL,"
    "  oneway INTEGER NOT NULL DEFAULT 0 CHECK (oneway IN (-1, 0, 1)),"
    "  maxspeed_kmh INTEGER NOT NULL DEFAULT 0,"
    "  access TEXT NOT NULL DEFAULT '',"
    "  name_zh TEXT NOT NULL DEFAULT '',"
    "  name_en TEXT NOT NULL DEFAULT '',"
    "  n INTEGER NOT NULL CHECK (n >= 2),"
    "  node_ids BLOB NOT NULL,"
    "  pts BLOB NOT NULL,"
    "  min_x REAL NOT NULL, min_y REAL NOT NULL, max_x REAL NOT NULL, max_y REAL NOT NULL,"
    "  CHECK (length(node_ids) = 8 * n AND length(pts) = 16 * n)"
    ");"
    "CREATE VIRTUAL TABLE ways_rtree USING rtree (id, min_x, max_x, min_y, max_y);"
    "CREATE TABLE buildings ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL DEFAULT '',"
    "  name_zh TEXT NOT NULL DEFAULT '',"
    "  name_en TEXT NOT NULL DEFAULT '',"
    "  households INTEGER NOT NULL DEFAULT -1,"
    "  levels INTEGER NOT NULL DEFAULT 0,"
    "  geom BLOB NOT NULL,"
    "  min_x REAL NOT NULL, min_y REAL NOT NULL, max_x REAL NOT NULL, max_y REAL NOT NULL"
    ");"
    "CREATE VIRTUAL TABLE buildings_rtree USING rtree (id, min_x, max_x, min_y, max_y);"
    "CREATE TABLE pois ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL DEFAULT '',"
    "  name_zh TEXT NOT NULL DEFAULT '',"
    "  name_en TEXT NOT NULL DEFAULT '',"
    "  x REAL NOT NULL CHECK (x BETWEEN -180 AND 180),"
    "  y REAL NOT NULL CHECK (y BETWEEN -90 AND 90)"
    ");"
    "CREATE VIRTUAL TABLE pois_rtree USING rtree (id, min_x, max_x, min_y, max_y);"
    "CREATE TABLE boundaries ("
    "  id INTEGER PRIMARY KEY,"
    "  admin_level INTEGER NOT NULL,"
    "  name_zh TEXT NOT NULL DEFAULT '',"
    "  name_en TEXT NOT NULL DEFAULT '',"
    "  ref TEXT NOT NULL DEFAULT '',"
    "  geom BLOB NOT NULL,"
    "  min_x REAL NOT NULL, min_y REAL NOT NULL, max_x REAL NOT NULL, max_y REAL NOT NULL"
    ");"
    "CREATE INDEX boundaries_level ON boundaries (admin_level);";

static const char schema_v2[] =
    "CREATE TABLE accounts ("
    "  id INTEGER PRIMARY KEY,"
    "  username TEXT NOT NULL UNIQUE CHECK (username <> ''),"
    "  display_name TEXT NOT NULL DEFAULT '',"
    "  roles INTEGER NOT NULL DEFAULT 0,"
    "  scope TEXT NOT NULL DEFAULT '',"
    "  department TEXT NOT NULL DEFAULT '',"
    "  duty_phone TEXT NOT NULL DEFAULT '',"
    "  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),"
    "  created_at INTEGER NOT NULL,"
    "  password_hash TEXT NOT NULL"
    ");"
    "CREATE INDEX accounts_scope ON accounts (scope);"
    "CREATE TABLE login_throttle ("
    "  key TEXT PRIMARY KEY,"
    "  failures INTEGER NOT NULL,"
    "  last_failure INTEGER NOT NULL,"
    "  locked_until INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE sessions ("
    "  token_hash TEXT PRIMARY KEY CHECK (length(token_hash) = 64),"
    "  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,"
    "  kind INTEGER NOT NULL CHECK (kind IN (1, 2)),"
    "  csrf TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  address TEXT NOT NULL DEFAULT ''"
    ") WITHOUT ROWID;"
    "CREATE INDEX sessions_account ON sessions (account_id);"
    "CREATE INDEX sessions_expiry ON sessions (expires_at);"
    "CREATE TABLE audit_log ("
    "  seq INTEGER PRIMARY KEY CHECK (seq > 0),"
    "  at INTEGER NOT NULL,"
    "  actor_id INTEGER NOT NULL,"
    "  actor TEXT NOT NULL CHECK (length(CAST(actor AS BLOB)) < 48),"
    "  address TEXT NOT NULL CHECK (length(CAST(address AS BLOB)) < 48),"
    "  action TEXT NOT NULL CHECK (length(CAST(action AS BLOB)) < 48),"
    "  target TEXT NOT NULL CHECK (length(CAST(target AS BLOB)) < 96),"
    "  summary TEXT NOT NULL CHECK (length(CAST(summary AS BLOB)) < 2048),"
    "  prev_hash TEXT NOT NULL CHECK (length(prev_hash) IN (0, 64)),"
    "  hash TEXT NOT NULL CHECK (length(hash) = 64)"
    ");"
    "CREATE INDEX audit_at ON audit_log (at);"
    "CREATE INDEX audit_action ON audit_log (action);"
    "CREATE INDEX audit_actor ON audit_log (actor);"
    "CREATE INDEX audit_target ON audit_log (target);"
    "CREATE TABLE audit_head ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  seq INTEGER NOT NULL,"
    "  hash TEXT NOT NULL"
    ");"
    "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');"
    "CREATE TABLE resident_contact ("
    "  case_ref TEXT PRIMARY KEY CHECK (case_ref <> ''),"
    "  contact TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  closed_at INTEGER NOT NULL DEFAULT 0"
    ") WITHOUT ROWID;"
    "CREATE INDEX resident_contact_closed ON resident_contact (closed_at) WHERE closed_at > 0;";

static const char schema_v3[] =
    "CREATE TABLE cases ("
    "  id INTEGER PRIMARY KEY,"
    "  version INTEGER NOT NULL CHECK (version > 0),"
    "  token TEXT NOT NULL UNIQUE CHECK (length(token) = 32),"
    "  source INTEGER NOT NULL,"
    "  category TEXT NOT NULL CHECK (category <> ''),"
    "  description TEXT NOT NULL,"
    "  has_point INTEGER NOT NULL CHECK (has_point IN (0, 1)),"
    "  lon REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),"
    "  lat REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),"
    "  address TEXT NOT NULL DEFAULT '',"
    "  grid_code TEXT NOT NULL DEFAULT '',"
    "  priority INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 2),"
    "  state INTEGER NOT NULL,"
    "  tier INTEGER NOT NULL DEFAULT 0 CHECK (tier BETWEEN 0 AND 2),"
    "  assignee_kind INTEGER NOT NULL DEFAULT 0,"
    "  assignee_account INTEGER NOT NULL DEFAULT 0,"
    "  assignee_label TEXT NOT NULL DEFAULT '',"
    "  reporter_id INTEGER NOT NULL DEFAULT 0,"
    "  extension INTEGER NOT NULL DEFAULT 0,"
    "  extension_requested INTEGER NOT NULL DEFAULT 0,"
    "  reported_at INTEGER NOT NULL,"
    "  registered_at INTEGER NOT NULL DEFAULT 0,"
    "  dispatched_at INTEGER NOT NULL DEFAULT 0,"
    "  handled_at INTEGER NOT NULL DEFAULT 0,"
    "  closed_at INTEGER NOT NULL DEFAULT 0,"
    "  updated_at INTEGER NOT NULL,"
    "  register_by INTEGER NOT NULL DEFAULT 0,"
    "  dispatch_by INTEGER NOT NULL DEFAULT 0,"
    "  handle_by INTEGER NOT NULL DEFAULT 0,"
    "  due_at INTEGER NOT NULL DEFAULT 0,"
    "  duplicate_of INTEGER NOT NULL DEFAULT 0,"
    "  evaluation INTEGER NOT NULL DEFAULT 0 CHECK (evaluation BETWEEN 0 AND 5),"
    "  has_contact INTEGER NOT NULL DEFAULT 0,"
    "  n_photos INTEGER NOT NULL DEFAULT 0,"
    "  device_id TEXT NOT NULL DEFAULT ''"
    ");"
    "CREATE INDEX cases_grid_state ON cases (grid_code, state, reported_at);"
    "CREATE INDEX cases_state_due ON cases (state, due_at);"
    "CREATE INDEX cases_state_time ON cases (state, reported_at, grid_code);"
    "CREATE INDEX cases_due ON cases (due_at) WHERE due_at > 0;"
    "CREATE INDEX cases_category ON cases (category, reported_at);"
    "CREATE INDEX cases_assignee ON cases (assignee_account) WHERE assignee_account > 0;"
    "CREATE INDEX cases_assignee_label ON cases (assignee_label) WHERE assignee_label <> '';"
    "CREATE INDEX cases_reporter ON cases (reporter_id) WHERE reporter_id > 0;"
    "CREATE INDEX cases_reported ON cases (reported_at);"
    "CREATE INDEX cases_updated ON cases (updated_at);"
    "CREATE VIRTUAL TABLE cases_rtree USING rtree (id, min_x, max_x, min_y, max_y);"
    "CREATE TABLE case_events ("
    "  case_id INTEGER NOT NULL REFERENCES cases (id),"
    "  seq INTEGER NOT NULL CHECK (seq > 0),"
    "  is_note INTEGER NOT NULL CHECK (is_note IN (0, 1)),"
    "  action INTEGER NOT NULL,"
    "  from_state INTEGER NOT NULL,"
    "  to_state INTEGER NOT NULL,"
    "  tier INTEGER NOT NULL,"
    "  actor_id INTEGER NOT NULL,"
    "  actor_name TEXT NOT NULL,"
    "  roles INTEGER NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  note TEXT NOT NULL DEFAULT '',"
    "  detail TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail)),"
    "  PRIMARY KEY (case_id, seq)"
    ") WITHOUT ROWID;"
    "CREATE INDEX case_events_step ON case_events (action, at) WHERE is_note = 0;"
    "CREATE TABLE case_photos ("
    "  case_id INTEGER NOT NULL REFERENCES cases (id),"
    "  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),"
    "  mime TEXT NOT NULL,"
    "  bytes INTEGER NOT NULL,"
    "  event_seq INTEGER NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  PRIMARY KEY (case_id, sha256)"
    ") WITHOUT ROWID;"
    "CREATE TABLE idempotency ("
    "  key TEXT PRIMARY KEY,"
    "  case_id INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX idempotency_created ON idempotency (created_at);"
    "CREATE VIRTUAL TABLE case_fts USING fts5 (body, content = '');"
    "CREATE TABLE docs ("
    "  name TEXT PRIMARY KEY CHECK (name <> ''),"
    "  json TEXT NOT NULL CHECK (json_valid(json)),"
    "  updated_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "INSERT INTO counters (name, value) VALUES ('rules_generation', 0);";

/* Version 4: the duplicate search's index (see the top of this file). Its rows come from the
 * cases table (sq_case_near_fill, the same cell numbers as cases.c). */
static const char schema_v4[] = "CREATE TABLE case_near ("
                                "  category TEXT NOT NULL,"
                                "  cell INTEGER NOT NULL,"
                                "  reported_at INTEGER NOT NULL,"
                                "  id INTEGER NOT NULL,"
                                "  PRIMARY KEY (category, cell, reported_at, id)"
                                ") WITHOUT ROWID;";

/* Version 5: the timer's index (see the top of this file). */
static const char schema_v5[] =
    "CREATE INDEX cases_state_handle ON cases (state, handle_by) WHERE handle_by > 0;";

/* Version 6: the clock stopped while suspended, and the photo index (see the top of this
 * file). The fill sets suspended_at of the cases suspended now. */
static const char schema_v6[] =
    "ALTER TABLE cases ADD COLUMN suspended_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE cases ADD COLUMN suspended_s INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX case_photos_sha ON case_photos (sha256);";

static int suspended_fill(cg_store *s, cg_err *err)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(
        s->db,
        "UPDATE cases SET suspended_at = coalesce((SELECT max(e.at) FROM case_events e WHERE "
        "e.case_id = cases.id AND e.is_note = 0 AND e.action = ?2 AND e.to_state = ?1), "
        "updated_at) WHERE state = ?1",
        -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int(st, 1, (int)CG_CASE_SUSPENDED);
        sqlite3_bind_int(st, 2, (int)CG_ACT_SUSPEND);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? 0 : sq_fail(s, rc, "marking when suspended cases were suspended", err);
}

static const struct {
    int version;
    const char *sql;
    int (*fill)(cg_store *s, cg_err *err); /* after the SQL, in the same transaction */
} migrations[] = {
    {1, schema_v1, NULL}, {2, schema_v2, NULL},
    {3, schema_v3, NULL}, {4, schema_v4, sq_case_near_fill},
    {5, schema_v5, NULL}, {6, schema_v6, suspended_fill},
};

#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int sq_schema_version_supported(void)
{
    return migrations[N_MIGRATIONS - 1].version;
}

int sq_schema_refuse_newer(cg_store *s, int version, cg_err *err)
{
    if (version <= sq_schema_version_supported())
        return 0;
    return cg_err_set(err, CG_ESCHEMA, "database",
                      "database schema version %d is newer than this civgrid supports (%d): "
                      "upgrade civgrid (database '%s')",
                      version, sq_schema_version_supported(), s->path);
}

/* Runs a one-off query returning one integer (used only at open, so not cached). */
static int query_int(cg_store *s, const char *sql, int64_t *out, cg_err *err)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? 0 : sq_fail(s, rc, "reading the schema version", err);
}

int sq_schema_read_version(cg_store *s, int *version, cg_err *err)
{
    int64_t has_table, other_tables, v;
    /* The first read of the file: a file that is not SQLite fails here with SQLITE_NOTADB. */
    if (query_int(s,
                  "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                  "name = 'schema_version'",
                  &has_table, err))
        return -1;
    if (!has_table) {
        if (query_int(s, "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
                      &other_tables, err))
            return -1;
        if (other_tables)
            return cg_err_set(err, CG_ESCHEMA, "database",
                              "'%s' is a SQLite database but not a civgrid one (it has no "
                              "schema_version table)",
                              s->path);
        *version = 0;
        return 0;
    }
    if (query_int(s, "SELECT coalesce(max(version), 0) FROM schema_version", &v, err))
        return -1;
    *version = (int)v;
    return 0;
}

static int record_version(cg_store *s, int version, cg_err *err)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(
        s->db, "INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int(st, 1, version);
        sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? 0 : sq_fail(s, rc, "recording the schema version", err);
}

static int apply_pending(cg_store *s, int from, cg_err *err)
{
    for (int i = 0; i < N_MIGRATIONS; i++) {
        if (migrations[i].version <= from)
            continue;
        int rc = sqlite3_exec(s->db, migrations[i].sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            sq_fail(s, rc, "migrating", err);
            cg_err_prefix(err, "schema migration to version %d", migrations[i].version);
            return -1;
        }
        if (migrations[i].fill && migrations[i].fill(s, err)) {
            cg_err_prefix(err, "schema migration to version %d", migrations[i].version);
            return -1;
        }
        if (record_version(s, migrations[i].version, err))
            return -1;
    }
    return 0;
}

int sq_schema_migrate(cg_store *s, cg_err *err)
{
    int version;
    if (sq_schema_read_version(s, &version, err))
        return -1;
    if (version == sq_schema_version_supported()) {
        s->schema_version = version;
        return 0;
    }
    /* Take the write lock, then look again: another process may have migrated meanwhile. */
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sq_fail(s, rc, "upgrading the schema", err);
        return -1;
    }
    if (sq_schema_read_version(s, &version, err))
        goto fail;
    if (sq_schema_refuse_newer(s, version, err) || apply_pending(s, version, err))
        goto fail;
    rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sq_fail(s, rc, "upgrading the schema", err);
        goto fail;
    }
    s->schema_version = sq_schema_version_supported();
    return 0;
fail:
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}
