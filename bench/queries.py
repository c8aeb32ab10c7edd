"""SQL per request on the hot paths, and SQLite's query plan for each statement.

    python bench/queries.py CONFIG TOKEN RESOURCE_SECRET USERNAME PASSWORD

Builds the app from CONFIG in this process, drives each hot path once through WSGI (WebTest) and
prints JSON: for every step the statements it ran, how many write, and those whose plan scans a
table instead of using an index (an N+1 shows as a count that grows with the data; a missing
index as a SCAN).
"""

import json
import logging
import re
import sys
import urllib.parse

import webtest

import indieauth

CLIENT_ID = "http://127.0.0.1:9/"
REDIRECT_URI = "http://127.0.0.1:9/callback"


class Recorder(logging.Handler):
    """peewee logs every statement at DEBUG as (sql, params), in the thread that runs it; whether it runs
    inside a transaction is noted with it."""

    def __init__(self, database):
        super().__init__()
        self.statements, self.in_transaction, self.database = [], [], database

    def emit(self, record):
        if isinstance(record.msg, tuple) and len(record.msg) == 2:
            self.statements.append(record.msg)
            self.in_transaction.append(self.database.in_transaction())


def is_write(sql):
    return sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))


def commits(statements, in_transaction):
    """Commits the writes cost: one per write outside a transaction, one per run of statements inside
    one that writes (two transactions with nothing between them would count as one)."""
    count, run_writes = 0, False
    for (sql, _), inside in zip(statements, in_transaction + [False]):
        if inside:
            run_writes = run_writes or is_write(sql)
            continue
        count += run_writes + is_write(sql)
        run_writes = False
    return count + run_writes


def plan_scans(database, statements):
    """Statements whose SQLite plan reads a whole table (SCAN …) rather than searching an index."""
    scans = []
    for sql, params in statements:
        if not sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
            continue
        rows = database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        details = [row[-1] for row in rows]
        if any(re.match(r"SCAN (?!CONSTANT ROW)", d) for d in details):
            scans.append({"sql": sql[:300], "plan": details})
    return scans


def main(config_path, token, resource_secret, username, password):
    config = indieauth.Config.load(config_path)
    app = indieauth.IndieAuth(config)
    recorder = Recorder(app.storage.database)
    peewee_log = logging.getLogger("peewee")
    peewee_log.addHandler(recorder)
    peewee_log.setLevel(logging.DEBUG)
    peewee_log.propagate = False
    web = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    steps = {}

    def step(name, call):
        recorder.statements.clear()
        recorder.in_transaction.clear()
        result = call()
        statements, inside = list(recorder.statements), list(recorder.in_transaction)
        sqlite = isinstance(app.storage.database, indieauth.peewee.SqliteDatabase)
        with app.storage.database.connection_context():
            scans = plan_scans(app.storage.database, statements) if sqlite else []
        steps[name] = {"queries": len(statements),
                       "writes": sum(1 for sql, _ in statements if is_write(sql)),
                       "commits": commits(statements, inside),
                       "statements": [sql[:160] for sql, _ in statements], "scans": scans}
        return result

    bearer = {"Authorization": f"Bearer {token}"}
    step("token verification", lambda: web.get("/token", headers=bearer, status=200))
    step("introspection", lambda: web.post("/introspect", {"token": token},
                                           headers={"Authorization": f"Bearer {resource_secret}"}, status=200))
    step("userinfo", lambda: web.get("/userinfo", headers=bearer, status=200))
    step("metadata", lambda: web.get("/.well-known/oauth-authorization-server", status=200))
    form = web.get("/login").forms["password-login"]
    form["username"], form["password"] = username, password
    form.submit(status=303)
    verifier, challenge = indieauth.testing.pkce_pair()
    query = urllib.parse.urlencode({"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI,
                                    "state": "s", "code_challenge": challenge, "code_challenge_method": "S256",
                                    "scope": "profile create"})
    consent = urllib.parse.urlsplit(step("flow: GET /auth", lambda: web.get("/auth?" + query, status=303))
                                    .headers["Location"]).path
    page = step("flow: consent page", lambda: web.get(consent, status=200))
    answer = step("flow: consent POST", lambda: page.forms["consent"].submit("action", value="approve", status=303))
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["Location"]).query))["code"]
    step("flow: POST /token", lambda: web.post("/token", {"grant_type": "authorization_code", "code": code,
                                                         "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI,
                                                         "code_verifier": verifier}, status=200))
    print(json.dumps(steps))


if __name__ == "__main__":
    main(*sys.argv[1:6])
