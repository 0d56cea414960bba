"""The demo prints one account per role; a person can log in as each over real HTTP, sees the
roles and scope the demo gave it, and the passwords are stored only as argon2id hashes."""
import os
import sqlite3

from cgserver import Server
from cgtest import TempDir, check, main, run

ROLES = ["admin", "operator", "inspector", "handler", "leader", "worker"]


def demo_accounts(out):
    """{username: (role, scope, password)} from the table `civgrid demo` prints."""
    lines = out.split("demo accounts")[1].strip().splitlines()[2:]
    accounts = {}
    for line in lines:
        parts = line.split()
        if len(parts) == 4:
            accounts[parts[0]] = (parts[1], parts[2], parts[3])
    return accounts


def test_log_in_as_each_role():
    with TempDir() as tmp:
        _, out, _ = run("demo", "--out", tmp, "--seed", "4", check=0)
        accounts = demo_accounts(out)
        check(sorted(accounts) == sorted(ROLES), "one account per role: %s" % sorted(accounts))
        db = os.path.join(tmp, "civgrid.db")
        with Server(db) as s:
            # each person from their own address: the login rate limit is per address
            for k, (username, (role, scope, password)) in enumerate(sorted(accounts.items())):
                source = "127.0.0.%d" % (10 + k)
                st, doc, _ = s.login(username, password, source=source)
                check(st == 200, "%s logs in: %d %s" % (username, st, doc))
                st, me, _ = s.json("/api/v1/auth/me")
                check(st == 200, "me as %s: %d" % (username, st))
                text = repr(me)
                check(role in text, "%s has role %s: %s" % (username, role, text))
                if scope != "(all)":
                    check(scope in text, "%s has scope %s: %s" % (username, scope, text))
                st, _, _ = s.login(username, password + "x", source=source)
                check(st in (401, 403), "a wrong password is refused for %s: %d" % (username, st))
        con = sqlite3.connect(db)
        blob = "".join(str(row) for row in con.execute("SELECT * FROM accounts")).encode()
        con.close()
        for _, (_, _, password) in accounts.items():
            check(password.encode() not in blob, "a demo password is stored in clear")
        check(b"$argon2id$" in blob, "passwords are argon2id hashes")


def test_demo_cases():
    """The demo leaves a fortnight of work: cases at many stages, each with a history the state
    machine accepts, the operator sees them all, the worker only those of its grid."""
    with TempDir() as tmp:
        _, out, _ = run("demo", "--out", tmp, "--seed", "2", "--cases", "80", check=0)
        check("80 demo cases" in out, "the demo says how many cases it made: %s" % out[:400])
        accounts = demo_accounts(out)
        db = os.path.join(tmp, "civgrid.db")
        with Server(db) as s:
            st, doc, _ = s.login("operator", accounts["operator"][2], source="127.0.0.31")
            check(st == 200, "operator logs in: %d" % st)
            st, doc, _ = s.json("/api/v1/cases?limit=500")
            check(st == 200 and doc["total"] == 80, "the operator sees 80 cases: %s" % st)
            states = {c["state"] for c in doc["cases"]}
            check(len(states) >= 5, "cases at five stages or more: %s" % sorted(states))
            check("verified_closed" in states and "reported" in states,
                  "new and closed cases both: %s" % sorted(states))
            closed = [c for c in doc["cases"] if c["state"] == "verified_closed"][0]
            st, one, _ = s.json("/api/v1/cases/%d" % closed["id"])
            actions = [e["action"] for e in one["history"] if not e["note_only"]]
            check(actions[:2] == ["report", "register"] and actions[-1] == "close",
                  "a closed case went through the loop: %s" % actions)
            st, doc, _ = s.login("worker", accounts["worker"][2], source="127.0.0.32")
            check(st == 200, "worker logs in: %d" % st)
            scope = accounts["worker"][1]
            st, doc, _ = s.json("/api/v1/cases?limit=500")
            check(st == 200, "worker lists cases: %d" % st)
            check(all((c["grid"] or "").startswith(scope) for c in doc["cases"]),
                  "the worker sees only cases of grid %s" % scope)
            check(doc["total"] < 80, "the worker does not see the whole district")


if __name__ == "__main__":
    main([test_log_in_as_each_role, test_demo_cases])
