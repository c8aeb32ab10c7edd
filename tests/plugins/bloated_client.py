"""Test-only plugin: a client whose published information is as large as a hostile page can make it
(256 KB of HTML hold thousands of rel=redirect_uri links), for the size caps of pending requests."""

import indieauth
from indieauth import hookimpl

CLIENT = "https://bloated.example/"
REDIRECT = "https://bloated.example/cb"


@hookimpl
def client_metadata(app, client_id):
    if client_id != CLIENT:
        return None
    return indieauth.ClientInfo(client_id, name="N" * 50_000, logo="https://bloated.example/" + "l" * 5000,
                                url="https://bloated.example/" + "u" * 5000, fetched=True, source="h-app",
                                redirect_uris=(REDIRECT,) + tuple(f"https://bloated.example/{n}/" + "r" * 2000
                                                                  for n in range(500)),
                                warnings=tuple("W" * 3000 for _ in range(300)), error="E" * 10_000)
