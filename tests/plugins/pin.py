"""Test-only second factor: a PIN stored as the user's `pin` credential."""

from indieauth import AuthenticationFailed, Authenticator, form_value, hookimpl


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
