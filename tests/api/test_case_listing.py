"""GET /api/v1/cases as the server answers it from its in-memory listing index (grid subtree,
no-grid queue, scope, states, report-time window, newest first, limit and offset) against the
same query run in SQL straight on the database file: after rounds of writes (new cases, steps)
made through this server and through a second `civgrid serve` process on the same file, every
filter must give the same ids in the same order and the same total, from both servers; the pages
of a filter put together must be its whole list. The cases of each page must be, field for field,
those the same filter gives through SQL (a world-wide bbox makes the server list in SQL): the
servers keep the rows of pages listed before in memory (case_rows_mb), and a write by either
process must show in the next page of both. At stop, server A must have answered rows from
memory (its log says how many)."""
import json
import random
import re
import sqlite3
import urllib.parse

from cgserver import ADMIN, Server, add_user, make_db
from cgtest import TempDir, check, main

PASSWORD = "Listing-pass-2026!"
CENTRES = {  # the fixture's eight grids (tests/data/api_grids.geojson)
    "330106001001001": (120.1075, 30.23), "330106001001002": (120.1225, 30.23),
    "330106001002001": (120.1075, 30.21), "330106001002002": (120.1225, 30.21),
    "330106002001001": (120.1375, 30.23), "330106002001002": (120.1525, 30.23),
    "330106002002001": (120.1375, 30.21), "330106002002002": (120.1525, 30.21),
}
NOWHERE = (121.5, 31.2)  # the no-grid queue
STATES = ["reported", "registered", "dispatched", "in_progress", "handled", "verified_closed",
          "evaluated", "rejected", "duplicate", "returned", "extension_requested", "suspended",
          "escalated", "reopened"]  # model/case.h: reported is 1
SUBTREES = ["330106", "330106001", "330106002", "330106001001", "330106002002",
            "330106001002002", "3301060010", "330106003", "330107"]


class Client:
    """One server, logged in as admin, an operator and a scoped operator."""

    def __init__(self, server, ids):
        self.s, self.h, self.ids = server, {}, ids
        for who, (user, password) in (("admin", ADMIN), ("operator", ("l_operator", PASSWORD)),
                                      ("scoped", ("l_scoped", PASSWORD))):
            check(server.login(user, password)[0] == 200, "login " + who)
            self.h[who] = dict(server.headers)

    def json(self, who, method, path, body=None):
        st, _, raw = self.s.request(method, path, body, headers=self.h[who])
        return st, json.loads(raw)

    def create(self, rng):
        where = NOWHERE if rng.random() < 0.1 else rng.choice(list(CENTRES.values()))
        body = {"category": rng.choice(["0101", "0202", "0601"]), "description": "listing test",
                "lon": where[0] + rng.uniform(-0.003, 0.003),
                "lat": where[1] + rng.uniform(-0.003, 0.003)}
        st, doc = self.json("admin", "POST", "/api/v1/cases", body)
        check(st == 201, "create: %d %s" % (st, doc))
        return doc["case"]["id"]

    def step(self, case_id, action, **extra):
        body = {"action": action}
        body.update(extra)
        st, doc = self.json("admin", "POST", "/api/v1/cases/%d/transitions" % case_id, body)
        check(st == 200, "%s %d: %d %s" % (action, case_id, st, doc))

    def listed(self, who, query, rows=None):
        st, doc = self.json(who, "GET", "/api/v1/cases?" + urllib.parse.urlencode(query))
        check(st == 200, "%s: %d %s" % (query, st, doc))
        if rows is not None:
            rows[:] = doc["cases"]
        return [c["id"] for c in doc["cases"]], doc["total"]


WORLD = "-180,-90,180,90"  # every test case has a point: the same cases, listed through SQL


def same_rows(client, who, q, rows, where):
    """The page's cases equal, field for field, the same page listed through SQL (remaining_s
    is counted from the moment of each answer, so it is left out)."""
    by_sql = []
    client.listed(who, dict(q, bbox=WORLD), by_sql)
    strip = [[{k: v for k, v in c.items() if k != "remaining_s"} for c in page]
             for page in (rows, by_sql)]
    check(strip[0] == strip[1], "%s as %s on %s: the page's rows differ from SQL's:\n%s\n%s"
          % (q, who, where, strip[0], strip[1]))


def writes(client, rng, cases, n):
    """n random writes through one server: new cases and steps along the loop."""
    for _ in range(n):
        r = rng.random()
        if r < 0.4 or not cases:
            cases[client.create(rng)] = "reported"
            continue
        case_id = rng.choice(list(cases))
        state = cases[case_id]
        if state == "reported":
            action = rng.choice(["register", "register", "reject"])
            client.step(case_id, action)
            cases[case_id] = "registered" if action == "register" else "rejected"
        elif state == "registered":
            client.step(case_id, "dispatch",
                        assignee={"kind": "account", "account_id": client.ids["operator"],
                                  "label": "l_operator"})
            cases[case_id] = "dispatched"
        elif state == "dispatched":
            client.step(case_id, "accept")
            cases[case_id] = "in_progress"


def prefix_end(code):
    return code[:-1] + chr(ord(code[-1]) + 1)


def reference(db, query, scope):
    """The listing computed in SQL, as store/sqlite/cases.c does it."""
    where, args = ["1"], []
    grid = query.get("grid")
    if grid:
        where.append("grid_code IN (SELECT code FROM grids WHERE code >= ? AND code < ?)")
        args += [grid, prefix_end(grid)]
    elif query.get("no_grid") == "true":
        where.append("grid_code = ''")
    if scope:
        where.append("grid_code IN (SELECT code FROM grids WHERE code >= ? AND code < ?)")
        args += [scope, prefix_end(scope)]
    if "state" in query:
        states = [STATES.index(s) + 1 for s in query["state"].split(",")]
        where.append("state IN (%s)" % ",".join(str(s) for s in states))
    if "since" in query:
        where.append("reported_at >= ?")
        args.append(int(query["since"]))
    if "until" in query:
        where.append("reported_at < ?")
        args.append(int(query["until"]))
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        sql = " AND ".join(where)
        total = con.execute("SELECT count(*) FROM cases WHERE " + sql, args).fetchone()[0]
        ids = [r[0] for r in con.execute(
            "SELECT id FROM cases WHERE " + sql + " ORDER BY reported_at DESC, id DESC "
            "LIMIT ? OFFSET ?", args + [int(query.get("limit", 50)), int(query.get("offset", 0))])]
        times = sorted({r[0] for r in con.execute("SELECT reported_at FROM cases")})
    finally:
        con.close()
    return ids, total, times


def random_query(rng, times):
    q = {}
    r = rng.random()
    if r < 0.5:
        q["grid"] = rng.choice(SUBTREES + list(CENTRES))
    elif r < 0.6:
        q["no_grid"] = "true"
    if rng.random() < 0.6:
        q["state"] = ",".join(rng.sample(STATES[:9], rng.choice([1, 1, 2, 3])))
    if times and rng.random() < 0.5:
        q["since"] = rng.choice(times) + rng.choice([0, 0, 1])
    if times and rng.random() < 0.5:
        q["until"] = max(int(q.get("since", 0)) + 1, rng.choice(times) + rng.choice([0, 1]))
    q["limit"] = rng.choice([1, 3, 10, 50, 100])
    q["offset"] = rng.choice([0, 0, 0, 2, 5, 17, 40])
    return q


def compare(db, clients, rng, rounds):
    nonempty = 0
    for _ in range(rounds):
        _, _, times = reference(db, {}, "")
        q = random_query(rng, times)
        for who, scope in (("admin", ""), ("scoped", "330106002")):
            want_ids, want_total, _ = reference(db, q, scope)
            nonempty += want_total > 0
            for name, client in clients:
                rows = []
                ids, total = client.listed(who, q, rows)
                check((ids, total) == (want_ids, want_total),
                      "%s as %s on %s: got %s (total %d), SQL says %s (total %d)"
                      % (q, who, name, ids, total, want_ids, want_total))
                same_rows(client, who, q, rows, name)
    check(nonempty > rounds / 2, "the filters found too little to compare (%d)" % nonempty)


def test_index_matches_sql_across_processes():
    rng = random.Random(4)
    with TempDir() as tmp:
        db = make_db(tmp)
        ids = {"operator": add_user(db, "l_operator", PASSWORD, "operator", "330106")}
        add_user(db, "l_scoped", PASSWORD, "operator", "330106002")
        cases = {}
        with Server(db) as a, Server(db) as b:
            ca, cb = Client(a, ids), Client(b, ids)
            clients = (("server A", ca), ("server B", cb))
            for round_no in range(6):
                # writes through A, then through the other process, then both
                writes(ca if round_no % 2 == 0 else cb, rng, cases, 25)
                compare(db, clients, rng, 20)
            # pages put together are the whole list, on both servers
            for q in ({"grid": "330106"}, {"state": "reported,registered"}, {}):
                want, total, _ = reference(db, dict(q, limit=1000), "")
                check(total > 20, "%s: only %d cases" % (q, total))
                for name, client in clients:
                    got, offset = [], 0
                    while offset < total + 7:
                        page, t = client.listed("admin", dict(q, limit=7, offset=offset))
                        check(t == total, "%s total on %s: %d, not %d" % (q, name, t, total))
                        got += page
                        offset += 7
                    check(got == want, "%s pages on %s: %s, not %s" % (q, name, got, want))
            writes(cb, rng, cases, 10)
            compare(db, clients, rng, 10)
            # The same pages again after writes by the other process: kept rows must follow.
            qs = [{"grid": "330106", "limit": 100}, {"state": "registered,dispatched"}]
            for q in qs:
                ca.listed("admin", q)
            writes(cb, rng, cases, 30)
            for q in qs:
                rows = []
                ca.listed("admin", q, rows)
                same_rows(ca, "admin", q, rows, "server A after B wrote")
        m = re.search(r"case lists: (\d+) rows answered from memory, (\d+) read", a.stderr or "")
        check(m and int(m.group(1)) > 0,
              "server A's log does not show rows answered from memory: %r" % (a.stderr or "")[-600:])


if __name__ == "__main__":
    main([test_index_matches_sql_across_processes])
