"""Operations (issue 21): failures at start-up and while issuing lose nothing; the WSGI entry answers a
clean 503 while its database or signing key is missing and recovers by itself; backups and upgrades."""

import os

import pytest

import fixed_clients
import indieauth
from conftest import sign_in
from test_protocol import CLIENT, get_code, redeem
from test_storage import DATABASE_URLS, backend_name, migrated_database


@pytest.fixture(params=DATABASE_URLS, ids=backend_name)
def app(request, make_app, tmp_path):
    """The app on each database: the rollback is the database's."""
    with migrated_database(request.param, str(tmp_path)):
        yield make_app({"server": {"database": request.param}}, plugins=[fixed_clients])


@pytest.fixture
def key_file(app):
    return app.config.resolve_path(app.config["tokens"]["signing_key"]["file"])


def test_a_code_survives_a_failure_to_sign_its_token_and_works_once_the_key_is_back(web, owner, key_file):
    sign_in(web)
    code, verifier, _ = get_code(web)
    os.rename(key_file, key_file + ".away")  # issuing fails after the code is claimed
    failed = redeem(web, code, verifier, status=503)
    assert failed.json["error"] == "temporarily_unavailable"
    os.rename(key_file + ".away", key_file)
    body = redeem(web, code, verifier).json
    assert body["access_token"] and body["refresh_token"]
    redeem(web, code, verifier, status=400)  # and it is still single use


def test_a_refresh_token_survives_a_failure_to_sign_and_works_once_the_key_is_back(web, owner, key_file):
    sign_in(web)
    code, verifier, _ = get_code(web)
    refresh = redeem(web, code, verifier).json["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": CLIENT}
    os.rename(key_file, key_file + ".away")
    web.post("/token", form, status=503)
    os.rename(key_file + ".away", key_file)
    assert web.post("/token", form).json["access_token"]
    assert web.post("/token", form, status=400).json["error"] == "invalid_grant"  # rotated, once
