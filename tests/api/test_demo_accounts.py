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


if __name__ == "__main__":
    main([test_log_in_as_each_role])
