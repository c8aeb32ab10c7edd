"""Test-only plugin: known client information for test client_ids, through the client_metadata hook.

Discovery itself (fetching, SSRF guard) is tested against real local servers in test_discovery.py;
the protocol tests use this so they never touch the network."""

import indieauth
from indieauth import hookimpl

CLIENTS = {
    "https://app.example/": dict(name="Example App", url="https://app.example/", fetched=True, source="json"),
    "https://listed.example/": dict(name="Listed App", fetched=True, source="json",
                                    redirect_uris=("https://elsewhere.example/cb", "http://127.0.0.1:5000/cb")),
    "https://spoof.example/": dict(name="Google", fetched=True, source="json"),
}


@hookimpl
def client_metadata(app, client_id):
    known = CLIENTS.get(client_id)
    if known is None:
        return indieauth.ClientInfo(client_id, error="not fetched in tests")
    return indieauth.ClientInfo(client_id, **known)
