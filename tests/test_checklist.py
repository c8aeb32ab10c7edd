"""Every numbered item of shared/spec-checklist.md (S1–S96, SEC1–SEC58, and Ticketing's TK1–TK13) is named
by a test, or is listed here with the reason it has none yet.  Coverage of the checklist is read off the tests."""

import pathlib
import re

HERE = pathlib.Path(__file__).parent

# Items without a test of their own, and why.  Remove an entry when its behaviour lands.
NOT_TESTED = {
    "S7": "MAY: this server returns the user's canonical me; nothing to test beyond S5",
    "S80": "introspection has its own endpoint, so nothing shares the token endpoint's URL",
    "S81": "DPoP is not implemented (issue to come)",
    "SEC9": "MAY: reused code_challenge detection is not implemented",
    "SEC43": "DPoP is not implemented",
    "SEC44": "policy to decide: password change ends other sessions but keeps app tokens",
    "SEC55": "MAY: grants are not re-checked when client metadata changes",
    "TK13": "optional and non-standard ('please send me a ticket', action=ticket): not implemented",
}

# The checklist's (policy) items whose choice has been made, what was chosen and why.  Each is held by a
# test that names it.
DECISIONS = {
    "S59": "a code carrying access scopes redeemed at the authorization endpoint answers `me` (and "
           "`profile` when granted), never a token, and is spent (issue 18: clients that send scope but "
           "redeem at /auth, such as the indieauth PyPI client, expect `me`); PKCE, client_id and "
           "redirect_uri are checked as at /token",
    "TK4": "the ticket endpoint answers 202 Accepted and redeems on a fetcher pool of its own, off the request; under "
           "CGI, whose process ends with its answer, it redeems first (still 202)",
    "TK9": "a ticket's token comes without a refresh token and lasts [tokens] ticket_token_lifetime (30 days): "
           "the receiver cannot know the client_id a refresh would need, and the sender renews by sending a "
           "new ticket; a replayed ticket revokes the token it gave, as a replayed code does",
    "TK11": "a ticket's token has the subject's ticket endpoint as its client_id, so the owner sees and revokes "
            "it per recipient on the token page",
}


def named_in_tests():
    text = "".join(p.read_text() for p in HERE.glob("test_*.py") if p.name != "test_checklist.py")
    text += "".join(p.read_text() for p in (HERE.parent / "plugins").glob("*/tests/test_*.py"))
    return set(re.findall(r"\b((?:S|SEC|TK)\d+)\b", text))


def test_every_checklist_item_is_tested_or_explained():
    expected = {f"S{n}" for n in range(1, 97)} | {f"SEC{n}" for n in range(1, 59)} | {f"TK{n}" for n in range(1, 14)}
    missing = expected - named_in_tests() - set(NOT_TESTED)
    assert not missing, sorted(missing, key=lambda i: (len(i), i))


def test_explained_items_are_really_untested():
    """An item that gained a test must leave NOT_TESTED, so the list stays true."""
    assert not set(NOT_TESTED) & named_in_tests()


def test_every_decision_is_held_by_a_test():
    assert not set(DECISIONS) - named_in_tests()
    assert not set(DECISIONS) & set(NOT_TESTED)
