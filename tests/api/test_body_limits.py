"""JSON request bodies are checked before they are used: nesting deeper than 16 levels is
refused in one scan (413, field body), as are duplicate keys, unknown fields and non-objects
(400 naming the field), on every JSON route through the one parser."""
import json

from cgserver import ADMIN, Server, make_db
from cgtest import TempDir, check, main


def test_bodies_refused_clearly():
    with TempDir() as tmp:
        db = make_db(tmp)
        with Server(db, login=ADMIN) as s:
            cases = [
                (b"[" * 100000 + b"]" * 100000, 413, "body", "levels deep"),
                (b'{"username":"a","username":"b","password":"x"}', 400, "body", "duplicate"),
                (b'{"username":"a","password":"x","shoe_size":44}', 400, "shoe_size", "unknown"),
                (b'"just a string"', 400, "body", "expected"),
                (b'[1, 2]', 400, "body", "object"),
                (b'{"username": ', 400, "body", "not JSON"),
            ]
            for path in ("/api/v1/auth/login", "/api/v1/posts/plan"):
                for body, status, field, words in cases:
                    if path.endswith("plan") and field == "shoe_size":
                        body = b'{"budget":120,"shoe_size":44}'
                    st, _, raw = s.request("POST", path, body,
                                           headers={"Content-Type": "application/json"},
                                           source="127.0.0.%d" % (20 + len(body) % 200))
                    err = json.loads(raw)["error"]
                    check(st == status and err.get("field") == field and
                          words in err["message"],
                          "%s %r...: %d %s" % (path, body[:30], st, err))
            # the server is still well
            check(s.get("/healthz")[0] == 200, "alive")


if __name__ == "__main__":
    main([test_bodies_refused_clearly])
