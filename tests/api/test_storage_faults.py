"""Storage faults: the database on a full disk (a small tmpfs, filled) and a database file that can
only be read. Writes through the API fail with 503 `unavailable`, field `database` and a message
saying "storage full" / "database read-only"; reads keep working; nothing is corrupted
(`PRAGMA integrity_check`); no refused write leaves a trace and no acknowledged one is lost; and
once space returns (or the file is writable again) writes succeed without a restart.

Mounting a tmpfs needs root, and a read-only file only stops a process that is not root, so as
root the read-only server runs as `nobody` (setpriv). Without root or mount, the test skips."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys

from cgserver import ADMIN, Server, error_of, make_db
from cgtest import Skipped, TempDir, check, main

PASSWORD = "Fault-pass-2026!x"
NOBODY = 65534


def skip(why):
    raise Skipped(why)


def integrity(db, prefix=()):
    """PRAGMA integrity_check on db, read-only, as the user the server runs as (a root reader
    would leave a root-owned -shm file behind that the server could not write)."""
    code = ("import sqlite3, sys; con = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', "
            "uri=True); print(con.execute('PRAGMA integrity_check').fetchall())")
    r = subprocess.run(list(prefix) + [sys.executable, "-c", code, db], capture_output=True,
                       text=True, timeout=60)
    return r.stdout.strip() or r.stderr.strip()


def refused_as(st, raw, words, field="database"):
    """Checks a write was refused with 503 unavailable on field (the database, or the photo
    file), saying `words`."""
    check(st == 503, "expected 503, got %d %s" % (st, raw[:300]))
    doc = json.loads(raw)
    check(error_of(doc) == ("unavailable", field) and words in doc["error"]["message"],
          "unclear refusal: %s" % doc)


def new_user(s, name):
    return s.request("POST", "/api/v1/users", {"username": name, "password": PASSWORD,
                                               "roles": ["worker"]})


def set_team(s, code, members):
    return s.request("PUT", "/api/v1/grids/%s/team" % code,
                     {"leader": None, "deputy": None, "members": members})


def new_case(s, i):
    return s.request("POST", "/api/v1/cases", {"category": "0101",
                                               "description": "storage fault case %d" % i,
                                               "lon": 120.0, "lat": 30.0})


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20000 + b"\xff\xd9"


def add_photo(s, case_id):
    return s.request("POST", "/api/v1/cases/%d/photos" % case_id, JPEG,
                     headers={"Content-Type": "image/jpeg"})


def reads_work(s, code):
    for path in ("/api/v1/grids?limit=5", "/api/v1/grids/%s" % code, "/api/v1/auth/me",
                 "/api/v1/users", "/api/v1/locate?lon=0.5&lat=0.5", "/healthz"):
        st, _, body = s.get(path)
        check(st in (200, 404) and (st == 200 or path.startswith("/api/v1/locate")),
              "read %s: %d %s" % (path, st, body[:200]))


def usernames(s):
    st, doc, _ = s.json("/api/v1/users")
    check(st == 200, doc)
    return {u["username"] for u in doc["users"]}


def fill(path):
    """Writes a file until the file system is full; returns the bytes written."""
    n = 0
    with open(path, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
                n += 65536
        except OSError as e:
            check(e.errno == 28, "filling stopped with %s, not ENOSPC" % e)
    # a last short write to take the final partial block
    try:
        with open(path, "ab") as f:
            f.write(b"\0" * 4096)
    except OSError:
        pass
    return n


def test_disk_full():
    if os.geteuid() != 0:
        skip("mounting a small tmpfs needs root")
    with TempDir() as tmp:
        src = make_db(tmp)
        mnt = os.path.join(tmp, "small")
        os.mkdir(mnt)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt],
                           capture_output=True, text=True)
        if r.returncode != 0:
            skip("cannot mount a tmpfs: %s" % r.stderr.strip())
        try:
            db = os.path.join(mnt, "grids.db")
            shutil.copy(src, db)
            with Server(db, login=ADMIN) as s:
                st, doc, _ = s.json("/api/v1/grids?limit=1")
                code = doc["grids"][0]["code"]
                st, _, raw = new_user(s, "before_full")
                check(st == 201, raw)
                st, _, raw = new_case(s, 0)
                check(st == 201, raw)
                case_id = json.loads(raw)["case"]["id"]
                acked, refused = {"before_full"}, set()
                filler = os.path.join(mnt, "filler")
                fill(filler)
                # Some writes may still fit in pages the log already holds; keep writing until
                # the disk refuses, and check every answer on the way.
                full_seen = 0
                for i in range(60):
                    name = "full_%02d" % i
                    st, _, raw = new_user(s, name)
                    if st == 201:
                        acked.add(name)
                        continue
                    refused_as(st, raw, "storage full")
                    refused.add(name)
                    full_seen += 1
                    if full_seen >= 5:
                        break
                check(full_seen >= 5, "the full disk never refused a write (%d accepted)"
                      % len(acked))
                # other writes: a case (through the group commit), a photo, a team, a login
                st, _, raw = new_case(s, 1)
                refused_as(st, raw, "storage full")
                st, _, raw = add_photo(s, case_id)
                refused_as(st, raw, "storage full", field="photo")
                st, _, raw = set_team(s, code, [])
                refused_as(st, raw, "storage full")
                st, doc, _ = s.login(*ADMIN, client="console")
                refused_as(st, json.dumps(doc).encode(), "storage full")
                # reads keep working, nothing is corrupted
                reads_work(s, code)
                check(integrity(db) == "[('ok',)]", "integrity while full: %s" % integrity(db))
                names = usernames(s)
                check(acked <= names and not (refused & names),
                      "acknowledged %s, refused %s, present %s" % (acked, refused, names))
                # space returns: writes succeed again, same server
                os.unlink(filler)
                st, _, raw = new_user(s, "after_full")
                check(st == 201, "write after freeing space: %d %s" % (st, raw[:300]))
                st, _, raw = set_team(s, code, [])
                check(st == 200, "team after freeing space: %d %s" % (st, raw[:300]))
                st, _, _ = s.login(*ADMIN, client="console")
                check(st == 200, "login after freeing space: %d" % st)
                st, _, raw = new_case(s, 2)
                check(st == 201, "case after freeing space: %d %s" % (st, raw[:300]))
                st, _, raw = add_photo(s, case_id)
                check(st == 201, "photo after freeing space: %d %s" % (st, raw[:300]))
                st, doc, _ = s.json("/api/v1/cases/%d" % case_id)
                check(st == 200 and doc["case"]["photos"] == 1, "one photo, the refused one "
                      "left no trace: %s" % doc.get("photos"))
                names = usernames(s)
                check((acked | {"after_full"}) <= names and not (refused & names), names)
            check("storage full" in s.stderr, "the server logs the refusals: %s" % s.stderr[-500:])
            check(integrity(db) == "[('ok',)]", "integrity after stop: %s" % integrity(db))
        finally:
            subprocess.run(["umount", "-l", mnt])


def test_read_only_file():
    prefix = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            skip("as root a read-only file is writable; setpriv is needed to run as nobody")
        prefix = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"]
        from cgtest import BIN
        if subprocess.run(prefix + ["test", "-x", shutil.which(BIN) or BIN]).returncode != 0:
            skip("nobody cannot run %s (a directory on its path is closed to others)" % BIN)
    with TempDir() as tmp:
        src = make_db(tmp)
        here = os.path.join(tmp, "ro")
        os.mkdir(here)
        db = os.path.join(here, "grids.db")
        shutil.copy(src, db)
        if prefix:
            os.chmod(tmp, 0o711)
            os.chown(here, NOBODY, NOBODY)
            os.chown(db, NOBODY, NOBODY)
        # A session made while writable, so that the read-only server can be asked as admin.
        with Server(db, login=ADMIN, prefix=prefix) as s:
            token = s.headers["Authorization"].split()[1]
            code = s.json("/api/v1/grids?limit=1")[1]["grids"][0]["code"]
            check(new_user(s, "while_rw")[0] == 201, "write while writable")
        os.chmod(db, 0o444)
        with Server(db, token=token, prefix=prefix) as s:
            reads_work(s, code)
            st, _, raw = new_user(s, "while_ro")
            refused_as(st, raw, "database read-only")
            st, _, raw = set_team(s, code, [])
            refused_as(st, raw, "database read-only")
            st, _, raw = new_case(s, 1)
            refused_as(st, raw, "database read-only")
            st, doc, _ = s.login(*ADMIN, client="console")
            refused_as(st, json.dumps(doc).encode(), "database read-only")
            names = usernames(s)
            check("while_rw" in names and "while_ro" not in names, names)
            check(integrity(db, prefix) == "[('ok',)]", "integrity: %s" % integrity(db, prefix))
            # writable again: the same server writes
            os.chmod(db, 0o644)
            st, _, raw = new_user(s, "after_ro")
            check(st == 201, "write once writable again: %d %s" % (st, raw[:300]))
            check("after_ro" in usernames(s), "written")
            st, _, raw = new_case(s, 2)
            check(st == 201, "case once writable again: %d %s" % (st, raw[:300]))
        check("read-only" in s.stderr, "the server says it is read-only: %s" % s.stderr[-800:])
        check(integrity(db, prefix) == "[('ok',)]", "integrity after stop: %s" % integrity(db, prefix))


if __name__ == "__main__":
    main([test_disk_full, test_read_only_file])
