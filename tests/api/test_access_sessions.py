"""Sessions against the real server: the console's cookie and its CSRF token, bearer tokens,
logout, expiry, revocation on disable and password change, brute force slowed per account and per
address, rate limits, and no password or token in any log or in the database file.

Loopback has all of 127/8, so tests act as several clients by connecting from 127.0.0.x. Time is
never waited out: where a test needs the clock past an expiry or a lock, it moves the stored time
into the past in the database, as the passing of time would."""
import json
import os
import sqlite3
import time

from cgserver import ADMIN, Server, add_user, error_of, make_db
from cgtest import TempDir, check, main

WORKER = ("walker", "Walker-pass-2026")
SCOPE = "330106001001"


def setup(tmp, **config):
    db = make_db(tmp)
    wid = add_user(db, WORKER[0], WORKER[1], "worker", SCOPE)
    check(wid, "worker created")
    cfg = os.path.join(tmp, "serve.json")
    json.dump(config, open(cfg, "w"))
    return db, cfg, wid


def cookie_of(hdr):
    """(token, attributes) of the cg_session Set-Cookie header."""
    raw = hdr["Set-Cookie"]
    first, *attrs = [a.strip() for a in raw.split(";")]
    name, _, value = first.partition("=")
    check(name == "cg_session", raw)
    return value, attrs


def test_cookie_and_csrf():
    with TempDir() as tmp:
        db, cfg, wid = setup(tmp, session_hours=2)
        with Server(db, "--config", cfg) as s:
            before = int(time.time())
            st, body, hdr = s.login(*ADMIN, client="console")
            check(st == 200 and body["account"]["username"] == "admin" and body["csrf_token"], body)
            check("token" not in body, "a console login gets no bearer token in the body")
            token, attrs = cookie_of(hdr)
            check(len(token) >= 40 and "HttpOnly" in attrs and "SameSite=Strict" in attrs and
                  "Path=/" in attrs and "Secure" not in attrs, attrs)
            check("Max-Age=7200" in attrs and before + 7200 <= body["expires_at"] <= time.time()
                  + 7200, (attrs, body["expires_at"]))
            cookie = {"Cookie": "cg_session=" + token}
            st, _, me = s.request("GET", "/api/v1/auth/me", headers=cookie)
            check(st == 200 and json.loads(me)["session"]["kind"] == "cookie", me)
            path = "/api/v1/users/%d" % wid
            st, _, b = s.request("PATCH", path, {"display_name": "W"}, headers=cookie)
            check(st == 403 and error_of(b)[0] == "csrf", b)
            st, _, b = s.request("PATCH", path, {"display_name": "W"},
                                 headers=dict(cookie, **{"X-CSRF-Token": "x" * 43}))
            check(st == 403 and error_of(b)[0] == "csrf", b)
            st, _, b = s.request("PATCH", path, {"display_name": "Walker W"},
                                 headers=dict(cookie, **{"X-CSRF-Token": body["csrf_token"]}))
            check(st == 200 and json.loads(b)["display_name"] == "Walker W", b)
            # a bearer write needs no CSRF token: no browser sends the header on its own
            st, _, _ = s.login(*ADMIN)
            st, _, b = s.request("PATCH", path, {"display_name": "Walker B"})
            check(st == 200 and json.loads(b)["display_name"] == "Walker B", b)


def test_secure_cookie_only_behind_trusted_proxy():
    with TempDir() as tmp:
        db, cfg, _ = setup(tmp, trusted_proxies="127.0.0.1")
        with Server(db, "--config", cfg) as s:
            body = {"username": ADMIN[0], "password": ADMIN[1], "client": "console"}
            st, hdr, _ = s.request("POST", "/api/v1/auth/login", body,
                                   headers={"X-Forwarded-Proto": "https"})
            check(st == 200 and "Secure" in cookie_of(hdr)[1], hdr["Set-Cookie"])
            # the same header from a client that is not the proxy is ignored
            st, hdr, _ = s.request("POST", "/api/v1/auth/login", body,
                                   headers={"X-Forwarded-Proto": "https"}, source="127.0.0.9")
            check(st == 200 and "Secure" not in cookie_of(hdr)[1], hdr["Set-Cookie"])


def test_bearer_logout_and_kinds():
    with TempDir() as tmp:
        db, cfg, _ = setup(tmp, token_days=3)
        with Server(db, "--config", cfg) as s:
            st, body, hdr = s.login(*WORKER)
            check(st == 200 and body["token_type"] == "Bearer" and "Set-Cookie" not in hdr, body)
            check(abs(body["expires_at"] - time.time() - 3 * 86400) < 60, body["expires_at"])
            token = body["token"]
            st, _, me = s.request("GET", "/api/v1/auth/me")
            me = json.loads(me)
            check(st == 200 and me["account"]["username"] == WORKER[0] and me["scope"] == SCOPE
                  and me["session"]["kind"] == "bearer", me)
            # a bearer token is not a cookie, nor the other way round
            st, _, _ = s.request("GET", "/api/v1/auth/me", headers={
                "Authorization": "", "Cookie": "cg_session=" + token})
            check(st == 401, st)
            st, _, _ = s.request("POST", "/api/v1/auth/logout")
            check(st == 200, st)
            st, _, b = s.request("GET", "/api/v1/auth/me")
            check(st == 401 and error_of(b)[0] == "unauthenticated", b)
            st, _, _ = s.request("GET", "/api/v1/grids")
            check(st == 401, "a logged-out token reads nothing")


def test_expiry():
    with TempDir() as tmp:
        db, cfg, _ = setup(tmp, session_hours=1)
        with Server(db, "--config", cfg) as s:
            check(s.login(*WORKER)[0] == 200, "login")
            check(s.request("GET", "/api/v1/auth/me")[0] == 200, "fresh session")
            con = sqlite3.connect(db)
            rows = con.execute("SELECT created_at, expires_at, kind FROM sessions").fetchall()
            check(len(rows) == 1 and rows[0][1] - rows[0][0] == 30 * 86400, rows)
            # the clock passes the session's end
            con.execute("UPDATE sessions SET expires_at = ?", (int(time.time()) - 1,))
            con.commit()
            st, _, b = s.request("GET", "/api/v1/auth/me")
            check(st == 401 and "expired" in json.loads(b)["error"]["message"], b)
            check(con.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0,
                  "an expired session is deleted when met")
            con.close()


def test_disable_and_password_change_revoke():
    with TempDir() as tmp:
        db, cfg, wid = setup(tmp)
        with Server(db, "--config", cfg) as s:
            check(s.login(*ADMIN)[0] == 200, "admin login")
            admin = s.headers
            check(s.login(*WORKER)[0] == 200, "worker login")
            worker = s.headers
            st, _, _ = s.request("POST", "/api/v1/users/%d/password" % wid,
                                 {"password": "Another-pass-77"}, headers=admin)
            check(st == 200, st)
            check(s.request("GET", "/api/v1/auth/me", headers=worker)[0] == 401,
                  "a password change revokes")
            check(s.login(*WORKER)[0] == 401, "the old password is gone")
            check(s.login(WORKER[0], "Another-pass-77")[0] == 200, "the new one works")
            worker = s.headers
            st, _, b = s.request("PATCH", "/api/v1/users/%d" % wid, {"disabled": True},
                                 headers=admin)
            check(st == 200 and json.loads(b)["disabled"] is True, b)
            check(s.request("GET", "/api/v1/auth/me", headers=worker)[0] == 401,
                  "disabling revokes")
            st, body, _ = s.login(WORKER[0], "Another-pass-77")
            st2, body2, _ = s.login("nosuchuser", "Another-pass-77")
            check(st == st2 == 401 and body == body2, (body, body2))


def test_brute_force_slowed():
    with TempDir() as tmp:
        # a generous rate limit, so what is measured here is the lock-out
        db, cfg, _ = setup(tmp, login_rate=100000, login_burst=1000)
        with Server(db, "--config", cfg) as s:
            def attempts(user, source):
                out = []
                for _ in range(12):
                    st, body, hdr = s.login(user, "wrong-password-1", source=source)
                    out.append((st, body, hdr))
                    if st == 429:
                        break
                return out

            known = attempts(WORKER[0], "127.0.0.2")
            unknown = attempts("ghost", "127.0.0.3")
            for run in (known, unknown):
                statuses = [r[0] for r in run]
                check(statuses[:5] == [401] * 5 and statuses[-1] == 429, statuses)
                check(int(run[-1][2]["Retry-After"]) >= 1, dict(run[-1][2]))
            # (locks are whole seconds from the failure's second, so which attempt first meets
            # a lock can differ by one or two between the runs; the answers may not)
            check(known[-1][1] == unknown[-1][1],
                  "a locked account and a locked unknown name answer alike: %s / %s"
                  % (known[-1][1], unknown[-1][1]))
            check(all(r[1] == known[0][1] for r in known[:5] + unknown[:5]),
                  "one answer for a wrong password and an unknown user")
            # the right password does not get through the lock, from this address or another.
            # The lock the failures set lasts a second or two, less than a loaded machine may
            # take for the argon2id logins above, so it is lengthened here: what is checked is
            # that a locked account refuses its right password (the lock's length is the unit
            # test's, test_access.c).
            con = sqlite3.connect(db)
            n = con.execute("UPDATE login_throttle SET locked_until = strftime('%s','now') + 300"
                            " WHERE key = ? AND locked_until > 0", ("user:" + WORKER[0],)).rowcount
            con.commit()
            con.close()
            check(n == 1, "the failures locked the account")
            st, _, hdr = s.login(*WORKER, source="127.0.0.2")
            check(st == 429 and int(hdr["Retry-After"]) >= 1, st)
            st, _, _ = s.login(*WORKER, source="127.0.0.5")
            check(st == 429, "the account lock holds from every address")
            # the lock passes (its time moved into the past): the right password works again
            con = sqlite3.connect(db)
            con.execute("UPDATE login_throttle SET locked_until = 0")
            con.commit()
            con.close()
            check(s.login(*WORKER, source="127.0.0.5")[0] == 200, "after the lock")


def test_per_address_lock():
    with TempDir() as tmp:
        db, cfg, _ = setup(tmp, login_rate=100000, login_burst=1000)
        with Server(db, "--config", cfg) as s:
            # one attempt each on many names: no account lock, but the address locks
            statuses = [s.login("spray%d" % i, "Password-guess-1", source="127.0.0.6")[0]
                        for i in range(8)]
            check(statuses[:5] == [401] * 5 and 429 in statuses, statuses)
            check(s.login(*WORKER, source="127.0.0.6")[0] == 429, "the address is locked")
            check(s.login(*WORKER, source="127.0.0.7")[0] == 200, "other addresses are not")


def test_rate_limits():
    with TempDir() as tmp:
        db, cfg, _ = setup(tmp, login_rate=1, login_burst=3, public_rate=1, public_burst=4)
        with Server(db, "--config", cfg) as s:
            got = [s.login("rate%d" % i, "Password-guess-1", source="127.0.0.8")[0]
                   for i in range(4)]
            check(got == [401, 401, 401, 429], got)
            st, hdr, body = s.request("POST", "/api/v1/auth/login", {
                "username": "x1x", "password": "y" * 12}, source="127.0.0.8")
            check(st == 429 and error_of(body)[0] == "rate_limited" and
                  int(hdr["Retry-After"]) >= 30, (st, body, dict(hdr)))
            check(s.login(*WORKER, source="127.0.0.10")[0] == 200, "buckets are per address")
            # anonymous calls of public endpoints: a bucket of 4 per address
            got = [s.request("GET", "/healthz", headers={"Authorization": ""},
                             source="127.0.0.11")[0] for _ in range(5)]
            check(got == [200] * 4 + [429], got)
            check(s.request("GET", "/healthz", source="127.0.0.11")[0] == 200,
                  "logged-in callers are not limited as anonymous ones")


def test_no_secrets_in_logs():
    with TempDir() as tmp:
        db, cfg, wid = setup(tmp)
        log = os.path.join(tmp, "access.log")
        secrets = [ADMIN[1], WORKER[1], "Second-pass-2026", "Created-pass-2026"]
        s = Server(db, "--config", cfg, access_log=log)
        with s:
            st, body, hdr = s.login(*ADMIN, client="console")
            secrets += [cookie_of(hdr)[0]]
            csrf = body["csrf_token"]
            st, body, _ = s.login(*ADMIN)
            token = body["token"]
            secrets += [token]
            s.login(WORKER[0], "Not-the-password-1")
            s.login("Second-pass-2026", "whatever-pass-1")  # a password typed as the username
            st, _, _ = s.request("POST", "/api/v1/users/%d/password" % wid,
                                 {"password": "Second-pass-2026"})
            check(st == 200, st)
            st, _, _ = s.request("POST", "/api/v1/users", {"username": "newbie", "password":
                                 "Created-pass-2026", "roles": ["worker"], "scope": SCOPE})
            check(st == 201, st)
            st, _, b = s.request("GET", "/api/v1/grids?token=" + token)
            check(st == 400 and error_of(b) == ("invalid", "token"), b)
            st, _, _ = s.request("GET", "/api/v1/grids?access_token=" + token)
            check(st == 400, st)
            check(s.request("GET", "/api/v1/audit")[0] == 200, "audit read")
        logs = open(log, encoding="utf-8", errors="replace").read() + s.stderr
        check("POST /api/v1/auth/login 200" in logs and "token=***" in logs, logs[-2000:])
        data = b""
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                data += open(db + suffix, "rb").read()
        for secret in secrets:
            check(secret not in logs, "a secret in the logs")
            check(secret.encode() not in data, "a secret in the database file")
        check(csrf not in logs, "the CSRF token in the logs")


if __name__ == "__main__":
    main([test_cookie_and_csrf, test_secure_cookie_only_behind_trusted_proxy,
          test_bearer_logout_and_kinds, test_expiry, test_disable_and_password_change_revoke,
          test_brute_force_slowed, test_per_address_lock, test_rate_limits,
          test_no_secrets_in_logs])
