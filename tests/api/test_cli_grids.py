"""The grid commands run as a user would: import (all or nothing), check with planted faults,
locate (single and CSV), renumber, history, bad input and a database from a newer civgrid."""
import json
import os
import sqlite3

from cgtest import DATA, TempDir, check, main, rect_area, run


def imported(tmp, name="grids_clean.geojson", *extra):
    db = os.path.join(tmp, "g.db")
    run("import", "grids", os.path.join(DATA, name), "--db", db, *extra, check=0)
    return db


def test_import_and_list():
    with TempDir() as tmp:
        db = imported(tmp)
        _, out, _ = run("grids", "list", "--db", db, check=0)
        check("330199001001004" in out and "望江社区第4网格" in out, out)
        check(len(out.strip().splitlines()) == 1 + 12, "12 grids and a header:\n" + out)
        _, out, _ = run("grids", "list", "--db", db, "--level", "community", check=0)
        check(len(out.strip().splitlines()) == 3, out)
        # re-importing the same file changes nothing
        _, out, _ = run("import", "grids", os.path.join(DATA, "grids_clean.geojson"), "--db", db,
                        check=0)
        check("12 unchanged" in out, out)
        _, out, _ = run("grids", "list", "--db", db, "--geojson", check=0)
        fc = json.loads(out)
        check(fc["type"] == "FeatureCollection" and len(fc["features"]) == 12, "geojson list")


def test_check_clean_and_planted():
    with TempDir() as tmp:
        db = imported(tmp)
        code, out, _ = run("grids", "check", "--db", db, "--quiet")
        check(code == 0 and "0 findings" in out, "clean hierarchy: %d %s" % (code, out))
    with TempDir() as tmp:
        db = imported(tmp, "grids_planted.geojson")
        gj = os.path.join(tmp, "findings.geojson")
        code, out, _ = run("grids", "check", "--db", db, "--quiet", "--geojson", gj)
        check(code == 1, "findings give exit 1, got %d" % code)
        fc = json.load(open(gj))
        kinds = sorted(f["properties"]["kind"] for f in fc["features"])
        check(kinds == ["gap", "overlap"], "kinds %s" % kinds)
        for f in fc["features"]:
            p = f["properties"]
            if p["kind"] == "gap":
                want = rect_area(120.018, 30.00, 120.02, 30.002)
                check(p["code"] == "330199001001", "gap belongs to the community: %s" % p)
                x, y = p["point"]
                check(120.018 <= x <= 120.02 and 30.0 <= y <= 30.002, "gap point %s" % p["point"])
            else:
                want = rect_area(120.03, 30.01, 120.031, 30.02)
                check({p["code"], p["other_code"]} == {"330199001002001", "330199001002002"},
                      "overlap pair %s" % p)
            check(abs(p["area_m2"] - want) / want < 0.005,
                  "%s area %.1f, expected %.1f" % (p["kind"], p["area_m2"], want))
        check("gap" in out and "overlap" in out, out)


def test_locate_and_csv():
    with TempDir() as tmp:
        db = imported(tmp)
        code, out, _ = run("locate", "30.015", "120.005", "--db", db)
        check(code == 0, out)
        lines = out.strip().splitlines()
        check([l.split()[1] for l in lines] ==
              ["330199", "330199001", "330199001001", "330199001001001"], out)
        code, _, err = run("locate", "31.5", "121.0", "--db", db)
        check(code == 1 and "no grid" in err, err)
        code, _, err = run("locate", "95", "120", "--db", db)
        check(code == 3 and "latitude" in err, err)
        csv_in = os.path.join(tmp, "in.csv")
        with open(csv_in, "w") as f:
            f.write('id,name,lat,lon\n1,"market, north",30.015,120.035\n2,far,10,10\n3,bad,x,1\n')
        code, out, err = run("locate", "--db", db, "--csv", csv_in)
        check(code == 0, err)
        rows = out.strip().splitlines()
        check(rows[0] == "id,name,lat,lon,grid_code,grid_name,grid_path,locate_error", rows[0])
        check(rows[1].startswith('1,"market, north",30.015,120.035,330199001002002,'), rows[1])
        check(rows[2].endswith("outside every grid"), rows[2])
        check("not a number" in rows[3], rows[3])
        check("1 located" in err, err)


def test_gcj02_import_and_locate():
    """A file in GCJ-02 lands in WGS84; a GCJ-02 point then locates into the same grid."""
    with TempDir() as tmp:
        db = imported(tmp, "grids_clean.geojson", "--crs", "gcj02")
        _, out, _ = run("grids", "show", "330199001001001", "--db", db, check=0)
        g = json.loads(out)
        ring = g["geometry"]["coordinates"][0][0]
        # WGS84 coordinates sit a few hundred metres south-west of the GCJ-02 input
        check(all(p[0] < 120.01 for p in ring[:1]) and ring[0][0] != 120.0, ring[:2])
        code, out, _ = run("locate", "30.015", "120.005", "--crs", "gcj02", "--db", db)
        check(code == 0 and "330199001001001" in out, out)


def test_bad_input_writes_nothing():
    with TempDir() as tmp:
        db = os.path.join(tmp, "g.db")
        bad = os.path.join(tmp, "bad.geojson")
        fc = json.load(open(os.path.join(DATA, "grids_clean.geojson")))
        fc["features"][5]["properties"]["code"] = "330199001002999001"  # 18 digits
        fc["features"][6]["geometry"]["coordinates"][0].pop()  # unclosed ring
        fc["features"][7]["properties"]["parent"] = "330199001009"  # wrong parent
        fc["features"][8]["geometry"]["coordinates"][0][1][1] = 95.0  # latitude out of range
        json.dump(fc, open(bad, "w"))
        code, out, err = run("import", "grids", bad, "--db", db)
        check(code == 3, "exit %d" % code)
        check("rejected 4 of 12 features; nothing was written" in err, err)
        for needle in ("feature 5", "feature 6", "feature 7", "feature 8", "330199001009"):
            check(needle in err, "report names %s:\n%s" % (needle, err))
        _, out, _ = run("grids", "list", "--db", db, check=0)
        check(len(out.strip().splitlines()) == 1, "nothing written:\n" + out)
        broken = os.path.join(tmp, "broken.geojson")
        open(broken, "w").write('{"type": "FeatureCollection", "features": [ {')
        code, _, err = run("import", "grids", broken, "--db", db)
        check(code == 3 and "broken.geojson" in err, err)
        code, _, err = run("import", "grids", os.path.join(DATA, "shp_nodbf.shp"), "--db", db)
        check(code == 3 and ".dbf" in err, err)


def test_shapefile_import():
    """A projected Shapefile (UTM 50N .prj) lands in WGS84; a GBK one is decoded, and its shape
    with no geometry is reported by feature number."""
    with TempDir() as tmp:
        db = os.path.join(tmp, "s.db")
        _, out, _ = run("import", "grids", os.path.join(DATA, "shp_utm50.shp"), "--db", db,
                        check=0)
        check("imported 1 grids (1 community)" in out, out)
        _, out, _ = run("grids", "show", "330106001001", "--db", db, check=0)
        g = json.loads(out)
        x, y = g["geometry"]["coordinates"][0][0][0]
        check(110 < x < 125 and 20 < y < 40, "reprojected to lon/lat: %s" % [x, y])
        check(g["name_zh"] == "测试网格", g["name_zh"])
        code, _, err = run("import", "grids", os.path.join(DATA, "shp_gbk.shp"), "--db", db)
        check(code == 3 and "feature 3 (code 330106004): geometry: geometry is missing" in err,
              err)
        _, out, _ = run("grids", "list", "--db", db, check=0)
        check(len(out.strip().splitlines()) == 2, "GBK import wrote nothing:\n" + out)


def test_renumber_and_history():
    with TempDir() as tmp:
        db = imported(tmp)
        # scramble two siblings' codes by importing them swapped under new codes is not possible
        # without breaking the file, so instead renumber and check the order is kept, then
        # renumber a parent whose children were numbered south->north.
        fc = json.load(open(os.path.join(DATA, "grids_clean.geojson")))
        for f in fc["features"]:
            c = f["properties"]["code"]
            if c.startswith("330199001001") and len(c) == 15:
                f["properties"]["code"] = c[:-3] + "%03d" % (5 - int(c[-3:]))
        path = os.path.join(tmp, "reversed.geojson")
        json.dump(fc, open(path, "w"))
        db2 = os.path.join(tmp, "r.db")
        run("import", "grids", path, "--db", db2, check=0)
        _, out, _ = run("locate", "30.015", "120.005", "--db", db2, check=0)
        check("330199001001004" in out, "reversed numbering in the north-west: " + out)
        _, out, _ = run("grids", "renumber", "330199001001", "--db", db2, check=0)
        check("4 codes changed" in out, out)
        _, out, _ = run("locate", "30.015", "120.005", "--db", db2, check=0)
        check("330199001001001" in out, "north-west is 001 after renumbering: " + out)
        _, out, _ = run("grids", "history", "330199001001001", "--db", db2, check=0)
        check(len(out.strip().splitlines()) == 2, "old and new versions:\n" + out)
        code, out, _ = run("grids", "check", "--db", db2, "--quiet")
        check(code == 0, out)
        _, out, _ = run("grids", "renumber", "330199001001", "--db", db2, check=0)
        check("0 codes changed" in out, "idempotent: " + out)


def test_newer_schema_refused():
    with TempDir() as tmp:
        db = imported(tmp)
        con = sqlite3.connect(db)
        version = con.execute("SELECT max(version) FROM schema_version").fetchone()[0]
        con.execute("INSERT INTO schema_version(version, applied_at) VALUES (?, 0)", (version + 50,))
        con.commit()
        con.close()
        code, _, err = run("grids", "list", "--db", db)
        check(code == 4 and "newer" in err, "exit %d: %s" % (code, err))


def test_help_and_usage():
    for cmd in (["import", "grids"], ["grids", "check"], ["grids", "renumber"], ["locate"],
                ["grids", "list"]):
        code, out, _ = run(*cmd, "--help")
        check(code == 0 and "usage: civgrid" in out, "%s --help" % cmd)
    code, _, err = run("grids", "check", "--bogus")
    check(code == 2 and "--bogus" in err, err)
    code, _, err = run("frobnicate")
    check(code == 2, err)


if __name__ == "__main__":
    main([test_import_and_list, test_check_clean_and_planted, test_locate_and_csv,
          test_gcj02_import_and_locate, test_bad_input_writes_nothing, test_shapefile_import, test_renumber_and_history,
          test_newer_schema_refused, test_help_and_usage])
