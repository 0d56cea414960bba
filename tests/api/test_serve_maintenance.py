"""`civgrid serve` runs the housekeeping of `civgrid maintenance` on its own: at start and then
hourly it purges expired sessions and resident contacts past the configured retention."""
import json
import os
import sqlite3
import time

from cgserver import Server, make_db
from cgtest import TempDir, check, main


def rows(db):
    con = sqlite3.connect(db)
    contacts = sorted(r[0] for r in con.execute("SELECT case_ref FROM resident_contact"))
    sessions = con.execute("SELECT count(*) FROM sessions WHERE token_hash LIKE 'x%'").fetchone()[0]
    con.close()
    return contacts, sessions


def test_serve_purges_on_its_own():
    with TempDir() as tmp:
        db = make_db(tmp)
        now = int(time.time())
        con = sqlite3.connect(db)
        con.execute("INSERT INTO sessions VALUES (?, 1, 2, '', ?, ?, '')",
                    ("x" * 64, now - 7200, now - 3600))
        for ref, closed in (("old", now - 40 * 86400), ("recent", now - 10 * 86400), ("open", 0)):
            con.execute("INSERT INTO resident_contact VALUES (?, 'phone', ?, ?)",
                        (ref, now - 400 * 86400, closed))
        con.commit()
        con.close()
        config = os.path.join(tmp, "serve.json")
        json.dump({"retention_days": 30}, open(config, "w"))
        with Server(db, "--config", config):
            # Poll the database (bounded) until the server's housekeeping has run.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and rows(db) != (["open", "recent"], 0):
                time.sleep(0.1)
            contacts, sessions = rows(db)
        check(contacts == ["open", "recent"], "contacts left: %s" % contacts)
        check(sessions == 0, "the expired session is purged")


def test_retention_days_validated():
    with TempDir() as tmp:
        db = make_db(tmp)
        config = os.path.join(tmp, "bad.json")
        json.dump({"retention_days": 0}, open(config, "w"))
        from cgtest import run
        code, _, err = run("serve", "--db", db, "--config", config, "--port", "0")
        check(code != 0 and "retention_days" in err, "exit %d: %s" % (code, err))


if __name__ == "__main__":
    main([test_serve_purges_on_its_own, test_retention_days_validated])
