"""Accounts, the audit log and maintenance from the command line, as an operator would use them:
`civgrid user add|list|grant|disable|enable|passwd`, `civgrid audit verify|list` (also after the
database file was tampered with through Python's sqlite3 module) and `civgrid maintenance`."""
import os
import sqlite3
import time

from cgtest import TempDir, check, main, run

PASSWORD = "correct horse battery"


def add_admin(db):
    code, out, err = run("user", "add", "--admin", "root", "--db", db, stdin=PASSWORD + "\n")
    check(code == 0, "user add --admin: %d %s %s" % (code, out, err))
    check(PASSWORD not in out and PASSWORD not in err, "the password was echoed")
    return out


def test_add_list_grant_disable_passwd():
    with TempDir() as tmp:
        db = os.path.join(tmp, "a.db")
        add_admin(db)
        pwfile = os.path.join(tmp, "pw")
        with open(pwfile, "w") as f:
            f.write("another long secret\n")
        run("user", "add", "wang", "--roles", "worker", "--scope", "330199001001001",
            "--password-file", pwfile, "--db", db, check=0)
        _, out, _ = run("user", "list", "--db", db, check=0)
        lines = out.strip().splitlines()
        check(len(lines) == 2, out)
        check(any("root" in l and "admin" in l and " all " in l for l in lines), out)
        check(any("wang" in l and "worker" in l and "330199001001001" in l for l in lines), out)
        run("user", "grant", "wang", "--roles", "worker,leader", "--scope", "330199001001",
            "--db", db, check=0)
        _, out, _ = run("user", "list", "--db", db, check=0)
        check("worker,leader" in out and "330199001001 " in out, out)
        run("user", "disable", "wang", "--db", db, check=0)
        _, out, _ = run("user", "list", "--db", db, check=0)
        check([l for l in out.splitlines() if "wang" in l][0].count("disabled") == 1, out)
        run("user", "enable", "wang", "--db", db, check=0)
        # passwd stores a new hash: compare the stored hashes, never the password itself
        con = sqlite3.connect(db)
        before = con.execute("SELECT password_hash FROM accounts WHERE username='wang'").fetchone()
        con.close()
        run("user", "passwd", "wang", "--db", db, stdin="a brand new password\n", check=0)
        con = sqlite3.connect(db)
        after = con.execute("SELECT password_hash FROM accounts WHERE username='wang'").fetchone()
        stored = [r[0] for r in con.execute("SELECT summary FROM audit_log")]
        con.close()
        check(before != after and after[0].startswith("$argon2id$"), "password hash changed")
        for s in stored:
            check("brand new" not in s and "argon2" not in s and PASSWORD not in s, s)
        # every change is in the log, by the unix user running the command
        _, out, _ = run("audit", "list", "--db", db, "--limit", "0", check=0)
        for action in ("user.create", "user.update", "user.password"):
            check(action in out, "%s missing from:\n%s" % (action, out))
        check("cli:" in out, out)


def test_weak_and_bad_input():
    with TempDir() as tmp:
        db = os.path.join(tmp, "a.db")
        code, out, err = run("user", "add", "--admin", "root", "--db", db, stdin="short\n")
        check(code != 0 and "10 characters" in err, "weak password: %d %s" % (code, err))
        check("short" not in out + err.replace("10 characters", ""), "password echoed: " + err)
        code, _, err = run("user", "add", "--admin", "rootroot10", "--db", db,
                           stdin="ROOTROOT10\n")
        check(code != 0 and "username" in err, err)
        code, _, err = run("user", "add", "wang", "--roles", "king", "--db", db,
                           stdin=PASSWORD + "\n")
        check(code != 0 and "king" in err, err)
        add_admin(db)
        code, _, err = run("user", "add", "--admin", "root", "--db", db, stdin=PASSWORD + "\n")
        check(code != 0 and "taken" in err, err)


def test_audit_verify_and_tamper():
    with TempDir() as tmp:
        db = os.path.join(tmp, "a.db")
        add_admin(db)
        for name in ("liu", "zhao", "qian"):
            run("user", "add", name, "--roles", "worker", "--db", db, stdin=PASSWORD + "\n",
                check=0)
        code, out, _ = run("audit", "verify", "--db", db)
        check(code == 0 and "intact: 4 entries" in out, out)
        con = sqlite3.connect(db)
        con.execute("UPDATE audit_log SET actor = 'nobody' WHERE seq = 2")
        con.commit()
        con.close()
        code, out, _ = run("audit", "verify", "--db", db)
        check(code == 1 and "entry 2" in out, "edited row: %d %s" % (code, out))

    with TempDir() as tmp:
        db = os.path.join(tmp, "a.db")
        add_admin(db)
        for name in ("liu", "zhao"):
            run("user", "add", name, "--roles", "worker", "--db", db, stdin=PASSWORD + "\n",
                check=0)
        con = sqlite3.connect(db)
        con.execute("DELETE FROM audit_log WHERE seq = 3")
        con.commit()
        con.close()
        code, out, _ = run("audit", "verify", "--db", db)
        check(code == 1 and "entry 3" in out and "head" in out, "tail: %d %s" % (code, out))


def test_maintenance_purges():
    with TempDir() as tmp:
        db = os.path.join(tmp, "a.db")
        add_admin(db)
        now = int(time.time())
        # Rows that only the server and the cases issue create: planted directly for the purge.
        con = sqlite3.connect(db)
        con.execute("INSERT INTO sessions VALUES (?, 1, 2, '', ?, ?, '')",
                    ("a" * 64, now - 7200, now - 3600))
        con.execute("INSERT INTO sessions VALUES (?, 1, 2, '', ?, ?, '')",
                    ("b" * 64, now, now + 3600))
        for ref, closed in (("old", now - 200 * 86400), ("recent", now - 10 * 86400),
                            ("open", 0)):
            con.execute("INSERT INTO resident_contact VALUES (?, 'phone', ?, ?)",
                        (ref, now - 400 * 86400, closed))
        con.commit()
        con.close()
        code, out, _ = run("maintenance", "--db", db)
        check(code == 0 and "1 expired sessions" in out and "1 resident contacts" in out, out)
        con = sqlite3.connect(db)
        left = sorted(r[0] for r in con.execute("SELECT case_ref FROM resident_contact"))
        sessions = con.execute("SELECT count(*) FROM sessions").fetchone()[0]
        con.close()
        check(left == ["open", "recent"] and sessions == 1, "%s %d" % (left, sessions))
        code, out, _ = run("maintenance", "--db", db, "--retention-days", "5")
        check(code == 0 and "0 expired sessions" in out and "1 resident contacts" in out, out)
        _, out, _ = run("audit", "list", "--db", db, "--action", "contact.purge", check=0)
        check(len(out.strip().splitlines()) == 2, out)
        code, out, _ = run("audit", "verify", "--db", db)
        check(code == 0, out)


main([test_add_list_grant_disable_passwd, test_weak_and_bad_input, test_audit_verify_and_tamper,
      test_maintenance_purges])
