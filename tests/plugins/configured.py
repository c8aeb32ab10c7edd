"""Test-only plugin with settings, a route, a command and a storage wrapper, one per hook."""

import bottle

from indieauth import Setting, hookimpl

SETTINGS = {"greeting": Setting("str", "hello", "What /plugins/configured/ says."),
            "wrap_storage": Setting("bool", False, "Supply a storage backend that counts connects.")}
SEEN = {}


@hookimpl
def configure(app):
    SEEN["settings"] = app.plugin_state["configured"] = app.plugin_config("configured", SETTINGS)


@hookimpl
def register_routes(app):
    return [("GET", "/plugins/configured/", lambda: SEEN["settings"]["greeting"]),
            ("GET", "/plugins/configured/me", lambda: app.render("auth_info.tpl", title="x"))]


@hookimpl
def register_commands(app, subparsers):
    parser = subparsers.add_parser("greet", help="say the greeting")
    parser.set_defaults(handler=lambda app, args: print(SEEN["settings"]["greeting"]) or 0)


class CountingStorage:
    """Delegates to the core storage and counts connections."""

    def __init__(self, inner):
        self.inner, self.connects = inner, 0

    def connect(self):
        self.connects += 1
        self.inner.connect()

    def __getattr__(self, name):
        return getattr(self.inner, name)


@hookimpl
def storage_backend(app):
    if not app.plugin_state.get("configured", {}).get("wrap_storage"):  # validated in configure
        return None
    import indieauth
    return CountingStorage(indieauth.CoreDefaults().storage_backend(app))
