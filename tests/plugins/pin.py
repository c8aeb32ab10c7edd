"""Test-only second factor: a PIN stored as the user's `pin` credential, set with `indieauth pin set` as in
README.md's authenticator example."""

import sys

from indieauth import AuthenticationFailed, Authenticator, form_value, hookimpl, user_or_owner


class Pin(Authenticator):
    name = "pin"
    label = "PIN (tests only)"

    def __init__(self, app):
        self.app = app

    def supports(self, user):
        return self.app.storage.get_credential(user, "pin") is not None

    def start(self, request, context):
        who = context["user"].username if context["user"] else "nobody"
        return (f'<form id="pin" method="post" action="{context["action"]}"><p>PIN for {who}</p>'
                f'<input type="hidden" name="csrf_token" value="{context["csrf_token"]}">'
                f'<input type="hidden" name="next" value="{context["next"]}">'
                f'<label for="pin-code">PIN</label><input id="pin-code" name="pin" autocomplete="one-time-code">'
                f'{context["error"] or ""}<button>Go</button></form>')

    def finish(self, request):
        user = self.app.partial_user()
        if user is None:
            raise AuthenticationFailed("Sign in with your first factor first.")
        wait = self.app.throttle.retry_after(user.username, self.app.client_address())
        if wait:
            raise AuthenticationFailed("Too many tries.", 429, wait, user.username)
        if form_value("pin") != self.app.storage.get_credential(user, "pin")["pin"]:
            self.app.throttle.failed(user.username, self.app.client_address())
            raise AuthenticationFailed("Wrong PIN.", username=user.username)
        return user


@hookimpl
def register_authenticators(app):
    return [Pin(app)]


@hookimpl
def register_commands(app, subparsers):
    parser = subparsers.add_parser("pin", help="set a user's PIN").add_subparsers(dest="pin_command", required=True)
    setter = parser.add_parser("set", help="read a new PIN from stdin")
    setter.add_argument("--user", help="user name (default: the owner)")

    def set_pin(app, args):
        user = user_or_owner(app, args.user)  # "no user named …", exit code 1
        app.storage.set_credential(user, "pin", {"pin": sys.stdin.readline().strip()})
        return 0
    setter.set_defaults(handler=set_pin)
