#!/usr/bin/env python3
"""Times the planning API on the demo district over a real server: GET /api/v1/coverage (the
console's Coverage page asks it on every change of posts or budget), GET /api/v1/isochrone and
POST /api/v1/posts/plan. Sequential requests from one client, each timed from send to last byte;
prints the first request (it builds what later ones reuse) and the median and p90 of the rest.

    bench/plan_api_bench.py [--bin build/civgrid] [--db DB] [--n 30]

Without --db it makes `civgrid demo` (small district) and `civgrid net build` in a temporary
directory. Standard library only (it reuses tests/api/cgserver.py)."""
import argparse
import os
import statistics
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "api"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "build", "civgrid"))
    ap.add_argument("--db")
    ap.add_argument("--n", type=int, default=30)
    a = ap.parse_args()
    os.environ["CIVGRID_BIN"] = os.path.abspath(a.bin)
    import cgtest  # noqa: E402 (reads CIVGRID_BIN)
    import cgserver

    cgtest.BIN = cgserver.BIN = os.environ["CIVGRID_BIN"]
    with cgtest.TempDir() as tmp:
        db = a.db
        if not db:
            cgtest.run("demo", "--out", tmp, "--cases", "0", check=0)
            db = os.path.join(tmp, "civgrid.db")
            cgtest.run("net", "build", "--db", db, check=0)
        user = ("bench-admin", "Bench-pass-2026!")
        try:
            cgserver.add_user(db, user[0], user[1], "admin")
        except Exception:
            pass  # already there
        with open(db + ".car.graph", "rb") as f:
            x0, y0, x1, y1 = struct.unpack("<4d", f.read(80)[48:80])

        def pt(fx, fy):
            return "%.6f,%.6f" % (y0 + (y1 - y0) * fy, x0 + (x1 - x0) * fx)

        posts = ";".join(pt(fx, fy) for fx, fy in ((0.2, 0.2), (0.5, 0.5), (0.8, 0.3),
                                                    (0.3, 0.8), (0.75, 0.75)))
        lat, lon = pt(0.5, 0.5).split(",")
        cases = [
            ("GET /api/v1/coverage (5 posts, circles)", "GET",
             "/api/v1/coverage?posts=%s&budget=120&circles=true" % posts, None),
            ("GET /api/v1/coverage (5 posts)", "GET",
             "/api/v1/coverage?posts=%s&budget=120" % posts, None),
            ("GET /api/v1/isochrone (120 s)", "GET",
             "/api/v1/isochrone?lat=%s&lon=%s&budget=120" % (lat, lon), None),
            ("POST /api/v1/posts/plan (p=5, 120 s)", "POST", "/api/v1/posts/plan",
             {"budget": 120, "p": 5}),
        ]
        print("database: %s" % db)
        print("%-42s %10s %10s %10s" % ("request", "first ms", "median ms", "p90 ms"))
        with cgserver.Server(db, login=user) as s:
            for name, method, path, body in cases:
                times = []
                n = a.n if method == "GET" else max(3, a.n // 5)
                for _ in range(n + 1):
                    t0 = time.perf_counter()
                    st, _, out = s.request(method, path, body)
                    times.append((time.perf_counter() - t0) * 1000)
                    if st != 200:
                        sys.exit("%s: %d %s" % (name, st, out[:300]))
                rest = sorted(times[1:])
                print("%-42s %10.1f %10.1f %10.1f" % (name, times[0], statistics.median(rest),
                                                      rest[int(0.9 * (len(rest) - 1))]))


if __name__ == "__main__":
    main()
