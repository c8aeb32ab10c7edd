"""Test-only authenticators that bring a stylesheet and scripts to the login page's <head>."""

from indieauth import AuthenticationFailed, Authenticator, hookimpl


class Styled(Authenticator):
    name = "styled"
    label = "Styled (tests only)"
    stylesheets = ("/plugins/styled/styled.css",)
    scripts = ("/plugins/styled/shared.js", "/plugins/styled/styled.js")

    def __init__(self, app):
        self.app = app

    def start(self, request, context):
        return f'<p id="{self.name}-start">{self.label}</p>'

    def finish(self, request):
        raise AuthenticationFailed("Never signs anyone in.")


class StyledToo(Styled):
    """Names the shared script again: the page still loads it once."""
    name = "styled_too"
    label = "Styled too (tests only)"
    stylesheets = ()
    scripts = ("/plugins/styled/shared.js",)


@hookimpl
def register_authenticators(app):
    return [Styled(app), StyledToo(app)]
