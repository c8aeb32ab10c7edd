"""A fake Okta org: the test kit's FakeServer (real HTTP on 127.0.0.1) imitating the four endpoints of Okta's Users
and Factors APIs an Okta Verify push uses, with Okta's own shapes, status codes and error bodies:

    GET  /api/v1/users/{id or login}                      200 user | 404 E0000007
    GET  /api/v1/users/{uid}/factors                      200 [factor, …]
    POST /api/v1/users/{uid}/factors/{fid}/verify         201 {"factorResult": "WAITING", "_links": {"poll"…}}
    GET  /api/v1/users/{uid}/factors/{fid}/transactions/{tid}
                                                          200 {"factorResult": WAITING|SUCCESS|REJECTED|TIMEOUT}

Every call must carry `Authorization: SSWS <token>` (else 401 E0000011).  Each user is told how the
push will go (`answer`: approve, reject, timeout or wait) and after how many WAITING polls.
"""

import datetime
import secrets
import string
import threading
import urllib.parse

from indieauth import testing

TOKEN = "00fakeOktaApiToken-for-tests_0123456789"
ANSWERS = {"approve": "SUCCESS", "reject": "REJECTED", "timeout": "TIMEOUT"}


def okta_id(prefix):
    """An id shaped like Okta's: a 3-character prefix and 17 letters and digits."""
    return prefix + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(17))


def okta_time(delta=0):
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta)
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def error(code, summary):
    return {"errorCode": code, "errorSummary": summary, "errorLink": code, "errorId": okta_id("oae"),
            "errorCauses": []}


class FakeOkta:
    def __init__(self, token=TOKEN):
        self.token = token
        self.users = {}          # Okta user id → user record (with the test's instructions)
        self.transactions = {}   # transaction id → {"user", "factor", "polls"}
        self.requests = []       # (method, path, Authorization header, body) of every call
        self.broken = None       # (status, content type, body) answered to every call when set
        self.poll_link_base = None  # another origin for poll links, to test that they are refused
        self.delay = 0           # seconds every call waits before it is answered (a slow or hanging Okta)
        self.lock = threading.Lock()
        self.server = testing.FakeServer().route("/*", self.handle, method="*")
        self.url = self.server.url

    def stop(self):
        self.server.stop()

    # -- what the test sets up
    def add_user(self, login, answer="approve", after=1, push=True, status="ACTIVE", number=None):
        """An Okta user with a TOTP factor and (unless push=False) an Okta Verify push factor, active unless
        push="pending" (enrolment not finished)."""
        uid = okta_id("00u")
        factors = [{"id": okta_id("ost"), "factorType": "token:software:totp", "provider": "OKTA",
                    "vendorName": "OKTA", "status": "ACTIVE", "profile": {"credentialId": login}}]
        if push:
            factors.append({"id": okta_id("opf"), "factorType": "push", "provider": "OKTA", "vendorName": "OKTA",
                            "status": "PENDING_ACTIVATION" if push == "pending" else "ACTIVE",
                            "profile": {"credentialId": login, "deviceType": "SmartPhone_IPhone",
                                        "name": "iPhone", "platform": "IOS", "version": "17.2"}})
        with self.lock:
            self.users[uid] = {"id": uid, "login": login, "status": status, "factors": factors,
                               "answer": answer, "after": after, "number": number}
        return uid

    def calls(self, method=None):
        with self.lock:
            return [r for r in self.requests if method is None or r[0] == method]

    # -- the API
    def handle(self, request):
        """The kit's route function: every call, recorded and answered as Okta would."""
        authorization = request.headers.get("Authorization")
        with self.lock:
            self.requests.append((request.method, request.path, authorization, request.body))
            status, answer = self.route(request.method, request.path, authorization)
        if self.delay:
            self.server.hang(self.delay)
        if self.broken:
            status, content_type, raw = self.broken
            return status, {"Content-Type": content_type}, raw
        return status, {}, answer

    def route(self, method, path, authorization):
        if authorization != f"SSWS {self.token}":
            return 401, error("E0000011", "Invalid token provided")
        parts = [urllib.parse.unquote(p) for p in path.split("/")[1:]]
        if parts[:3] != ["api", "v1", "users"] or len(parts) < 4:
            return 404, error("E0000022", "The endpoint does not support the provided HTTP method")
        user = self.users.get(parts[3]) or next((u for u in self.users.values()
                                                 if u["login"].lower() == parts[3].lower()), None)
        if user is None:
            return 404, error("E0000007", f"Not found: Resource not found: {parts[3]} (User)")
        rest = parts[4:]
        if method == "GET" and not rest:
            return 200, self.user_json(user)
        if method == "GET" and rest == ["factors"]:
            return 200, user["factors"]
        factor = next((f for f in user["factors"] if len(rest) >= 2 and f["id"] == rest[1]), None)
        if rest[:1] != ["factors"] or factor is None:
            return 404, error("E0000007", "Not found: Resource not found: factor (UserFactor)")
        if method == "POST" and rest[2:] == ["verify"]:
            tid = "v2mst." + okta_id("")
            self.transactions[tid] = {"user": user, "factor": factor, "polls": 0}
            return 201, self.transaction_json(tid, "WAITING")
        if method == "GET" and rest[2:3] == ["transactions"] and len(rest) == 4 and rest[3] in self.transactions:
            transaction = self.transactions[rest[3]]
            transaction["polls"] += 1
            answer = user["answer"]
            if answer == "wait" or transaction["polls"] <= user["after"]:
                return 200, self.transaction_json(rest[3], "WAITING")
            return 200, self.transaction_json(rest[3], ANSWERS[answer])
        return 404, error("E0000007", "Not found: Resource not found: transaction (Transaction)")

    def user_json(self, user):
        return {"id": user["id"], "status": user["status"], "created": okta_time(-86400), "activated": None,
                "statusChanged": okta_time(-86400), "lastLogin": None, "lastUpdated": okta_time(-3600),
                "passwordChanged": okta_time(-86400), "type": {"id": "oty1fake"},
                "profile": {"firstName": "Ann", "lastName": "Example", "mobilePhone": None, "secondEmail": None,
                            "login": user["login"], "email": user["login"]},
                "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
                "_links": {"self": {"href": f"{self.url}/api/v1/users/{user['id']}"}}}

    def transaction_json(self, tid, result):
        transaction = self.transactions[tid]
        user, factor = transaction["user"], transaction["factor"]
        body = {"expiresAt": okta_time(300), "factorResult": result,
                "profile": {"credentialId": user["login"], "deviceType": "SmartPhone_IPhone", "name": "iPhone",
                            "platform": "IOS", "version": "17.2"}}
        if result == "WAITING":
            base = self.poll_link_base or self.url
            href = f"{base}/api/v1/users/{user['id']}/factors/{factor['id']}/transactions/{tid}"
            body["_links"] = {"poll": {"href": href, "hints": {"allow": ["GET"]}},
                              "cancel": {"href": href, "hints": {"allow": ["DELETE"]}}}
            if user["number"] is not None:
                body["_embedded"] = {"challenge": {"correctAnswer": user["number"]}}
        return body
