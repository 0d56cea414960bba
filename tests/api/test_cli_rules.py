"""The rules of the case loop from the command line, as an administrator edits them:
`civgrid categories export|import` and `civgrid calendar import|hours`. Exports round-trip,
imports are validated (a bad file names the field, exits 3 and changes nothing), and every
stored change is in the audit log."""
import json
import os

from cgtest import DATA, TempDir, check, main, run


def write(path, doc):
    with open(path, "w", encoding="utf-8") as f:
        f.write(doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False))
    return path


def test_categories_round_trip():
    with TempDir() as tmp:
        db = os.path.join(tmp, "r.db")
        _, out, _ = run("categories", "export", "--default", check=0)
        default = json.loads(out)
        check(default["version"] == 1 and len(default["categories"]) > 30, out[:200])
        codes = [c["code"] for c in default["categories"]]
        check("0601" in codes and "0201" in codes, codes)

        # Edit one limit and import: the export of the database shows the edit.
        edited = json.loads(out)
        sub = next(c for c in edited["categories"] if c["code"] == "0101")
        sub["limit"] = 3
        path = write(os.path.join(tmp, "tax.json"), edited)
        code, out, err = run("categories", "import", path, "--db", db)
        check(code == 0 and "imported %d categories" % len(codes) in out, (code, out, err))
        _, out, _ = run("categories", "export", "--db", db, check=0)
        stored = json.loads(out)
        check(next(c for c in stored["categories"] if c["code"] == "0101")["limit"] == 3, out[:300])
        check(stored == edited, "the export is not what was imported")

        # A bad entry: named, exit 3, nothing changed.
        sub["limit"] = 0
        code, out, err = run("categories", "import", write(path, edited), "--db", db)
        check(code == 3, (code, out, err))
        index = [c["code"] for c in edited["categories"]].index("0101")
        check("categories[%d].limit" % index in err, err)
        _, out, _ = run("categories", "export", "--db", db, check=0)
        check(json.loads(out) == stored, "a refused import changed the taxonomy")

        # Categories about people are refused.
        people = {"version": 1, "categories": [
            {"code": "01", "name_zh": "重点人员", "name_en": "Key persons"}]}
        code, _, err = run("categories", "import", write(path, people), "--db", db)
        check(code == 3, err)

        code, _, err = run("categories", "import", write(path, "{not json"), "--db", db)
        check(code == 3, err)
        code, _, err = run("categories", "import", os.path.join(tmp, "missing.json"), "--db", db)
        check(code == 3, err)
        code, _, err = run("categories", "frobnicate")
        check(code == 2, err)

        _, out, _ = run("audit", "list", "--db", db, "--action", "doc.put", check=0)
        check(out.count("doc:categories") == 1, out)


def test_calendar_imports():
    with TempDir() as tmp:
        db = os.path.join(tmp, "r.db")
        code, out, err = run("calendar", "import", os.path.join(DATA, "calendar_2026.json"),
                             "--db", db)
        check(code == 0 and "2026" in out, (code, out, err))
        path = write(os.path.join(tmp, "2027.json"),
                     {"year": 2027, "holidays": ["2027-01-01"], "workdays": []})
        code, out, err = run("calendar", "import", path, "--db", db)
        check(code == 0 and "2027" in out, (code, out, err))
        bad = write(os.path.join(tmp, "bad.json"),
                    {"year": 2027, "holidays": ["2027-01-01"], "workdays": ["2027-01-01"]})
        code, out, err = run("calendar", "import", bad, "--db", db)
        check(code == 3 and "workdays[0]" in err, (code, out, err))

        hours = write(os.path.join(tmp, "hours.json"),
                      {"mon": "09:00-12:00,14:00-18:00", "sat": "", "makeup": "09:00-17:00"})
        code, out, err = run("calendar", "hours", hours, "--db", db)
        check(code == 0, (code, out, err))
        bad = write(os.path.join(tmp, "badhours.json"), {"tue": "18:00-09:00"})
        code, out, err = run("calendar", "hours", bad, "--db", db)
        check(code == 3 and "tue" in err, (code, out, err))
        bad = write(os.path.join(tmp, "badkey.json"), {"tuesday": "09:00-12:00"})
        code, out, err = run("calendar", "hours", bad, "--db", db)
        check(code == 3 and "tuesday" in err, (code, out, err))

        _, out, _ = run("audit", "list", "--db", db, "--action", "doc.put", check=0)
        for target in ("doc:calendar.2026", "doc:calendar.2027", "doc:calendar.hours"):
            check(out.count(target) == 1, out)


main([test_categories_round_trip, test_calendar_imports])
