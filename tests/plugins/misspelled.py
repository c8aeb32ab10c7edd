"""Test-only plugin with a misspelled hook name: start-up must fail."""

from indieauth import hookimpl


@hookimpl
def register_authenticator(app):  # the hook is register_authenticators
    return []
