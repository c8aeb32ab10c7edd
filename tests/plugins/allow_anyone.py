"""Test-only authenticator: signs in whoever names an existing user. Never install this anywhere."""

from indieauth import AuthenticationFailed, Authenticator, form_value, hookimpl


class AllowAnyone(Authenticator):
    name = "allow_anyone"
    label = "Anyone (tests only)"

    def __init__(self, app):
        self.app = app

    def start(self, request, context):
        return (f'<form method="post" action="{context["action"]}">'
                f'<input type="hidden" name="csrf_token" value="{context["csrf_token"]}">'
                f'<input type="hidden" name="next" value="{context["next"]}">'
                '<label for="who">Who</label><input id="who" name="who" autocomplete="username">'
                f'{context["error"] or ""}<button>Go</button></form>')

    def finish(self, request):
        user = self.app.storage.get_user(username=form_value("who"))
        if user is None:
            raise AuthenticationFailed("No such user.", username=form_value("who"))
        return user


@hookimpl
def register_authenticators(app):
    return [AllowAnyone(app)]
