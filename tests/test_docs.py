"""README.md and docs/ stay true to the code: hooks, settings, commands, the set-up commands, the WSGI
entries and the links between the pages.

Each test reads a page and the code it describes, so adding a hook, a setting or a command without
documenting it fails here (as datasette's tests/test_docs.py does for its plugin hooks): hooks and
events in docs/plugins.md, settings in docs/configuration.md, commands in docs/cli.md.
"""

import argparse
import ast
import dataclasses
import importlib.util
import inspect
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

import indieauth
import indieauth_password

try:  # Python 3.11+
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_SERVER = ("python3 -m venv .venv && .venv/bin/pip install -e . -e plugins/indieauth-password"
              " && .venv/bin/indieauth serve")
RUN_TESTS = "python3 -m venv .venv && .venv/bin/pip install -r requirements-test.txt && .venv/bin/python -m pytest"


def read(*path):
    with open(os.path.join(ROOT, *path), encoding="utf-8") as f:
        return f.read()


README = read("README.md")
CONFIGURATION = read("docs", "configuration.md")
CLI = read("docs", "cli.md")
PLUGINS = read("docs", "plugins.md")


def section(text, title, level):
    """The lines under the heading `title` of `level` up to the next heading of that level or above.

    Lines inside fenced code blocks are never headings (shell comments start with '#' too)."""
    lines = text.splitlines()
    heading = "#" * level + " " + title
    fenced = False
    start = None
    for number, line in enumerate(lines):
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        if start is None:
            if line.strip() == heading:
                start = number + 1
            continue
        match = re.match(r"(#+) ", line)
        if match and len(match.group(1)) <= level:
            return "\n".join(lines[start:number])
    if start is None:
        raise AssertionError(f"no heading {heading!r} in {text.splitlines()[0]!r}")
    return "\n".join(lines[start:])


def squeeze(text):
    return " ".join(text.split())


# -- hooks -----------------------------------------------------------------------------------

HOOKS = sorted(name for name, value in vars(indieauth.HookSpecs).items()
               if hasattr(value, "indieauth_spec"))


def hook_signature(name):
    """`name(arg, arg)` as declared in HookSpecs, without `self`."""
    params = list(inspect.signature(getattr(indieauth.HookSpecs, name)).parameters)
    assert params[0] == "self"
    return f"{name}({', '.join(params[1:])})"


def documented_hooks():
    hooks = section(PLUGINS, "Hooks", 2)
    return re.findall(r"^### `(.+)`$", hooks, flags=re.M)


def test_hookspecs_are_found():
    assert {"configure", "register_commands", "storage_backend"} <= set(HOOKS)


@pytest.mark.parametrize("name", HOOKS)
def test_readme_documents_hook_with_exact_signature(name):
    assert hook_signature(name) in documented_hooks()


def test_readme_documents_no_hook_that_does_not_exist():
    assert sorted(documented_hooks()) == sorted(hook_signature(name) for name in HOOKS)


@pytest.mark.parametrize("name", HOOKS)
def test_readme_hook_section_gives_its_kind_and_docstring(name):
    text = section(section(PLUGINS, "Hooks", 2), f"`{hook_signature(name)}`", 3)
    options = getattr(indieauth.HookSpecs, name).indieauth_spec
    assert ("firstresult" in text) == bool(options["firstresult"])
    assert ("historic" in text) == bool(options["historic"])
    assert squeeze(inspect.getdoc(getattr(indieauth.HookSpecs, name))) in squeeze(text)


# -- events ----------------------------------------------------------------------------------

EVENT_ROW = re.compile(r"^\| `(\w+)` \| `(\w+)` \| `([\w, ]*)` \|$")


def documented_events():
    """{class name: (name, "field, field")} from the event table under `track_event(app, event)`."""
    text = section(section(PLUGINS, "Hooks", 2), "`track_event(app, event)`", 3)
    return {match.group(1): match.group(2, 3) for match in map(EVENT_ROW.match, text.splitlines()) if match}


def test_readme_event_list_matches_the_event_classes():
    events = [cls for cls in indieauth.ServerEvent.__subclasses__() if cls.__module__ == "indieauth"]
    assert len(events) >= 7
    assert documented_events() == {
        cls.__name__: (cls.name, ", ".join(field.name for field in dataclasses.fields(cls))) for cls in events}


def test_every_event_class_has_its_own_name():
    names = [cls.name for cls in indieauth.ServerEvent.__subclasses__() if cls.__module__ == "indieauth"]
    assert all(names) and len(set(names)) == len(names)


# -- the core reads in order ------------------------------------------------------------------

def test_every_error_class_is_defined_before_its_first_use():
    """indieauth.py reads like a book: no code names an exception class that a later chapter defines."""
    tree = ast.parse(read("indieauth.py"))
    errors = {node.name: node.lineno for node in tree.body if isinstance(node, ast.ClassDef)
              and isinstance(getattr(indieauth, node.name), type) and issubclass(getattr(indieauth, node.name), Exception)}
    assert {"OAuthError", "InvalidScope", "ConfigError", "AuthenticationFailed"} <= set(errors)
    early = sorted((node.lineno, node.id) for node in ast.walk(tree)
                   if isinstance(node, ast.Name) and node.id in errors and node.lineno < errors[node.id])
    assert early == []


# -- configuration ---------------------------------------------------------------------------

ROW = re.compile(r"^\| `(\w+)` \| (\w+) \| `(.+?)` \| (.+) \|$")


def documented_settings(table):
    """{key: (type, default as TOML, help)} from the table under the heading `[table]` of docs/configuration.md."""
    text = section(CONFIGURATION, f"`[{table}]`", 2)
    rows = {}
    for line in text.splitlines():
        match = ROW.match(line)
        if match:
            key, kind, default, help_text = match.groups()
            rows[key] = (kind, default, help_text)
    return rows


TABLES = [(table, settings) for table, settings in indieauth.SETTINGS.items()]
TABLES.append(("plugins.password", indieauth_password.SETTINGS))


@pytest.mark.parametrize("table,settings", TABLES, ids=[t for t, _ in TABLES])
def test_readme_configuration_reference_lists_every_key(table, settings):
    assert sorted(documented_settings(table)) == sorted(settings)


@pytest.mark.parametrize("table,settings", TABLES, ids=[t for t, _ in TABLES])
def test_readme_configuration_reference_gives_type_default_and_help(table, settings):
    rows = documented_settings(table)
    for key, setting in settings.items():
        kind, default, help_text = rows[key]
        assert kind == setting.type, key
        assert help_text == setting.help, key
        written = tomllib.loads(f"value = {default}")["value"]
        assert indieauth._coerce(setting.type, written) == setting.default, key


@pytest.mark.parametrize("table", sorted(indieauth.SETTINGS))
def test_sample_plugins_toml_lists_every_key(table):
    sample = tomllib.loads(read("plugins.toml"))
    assert sorted(sample.get(table, {})) == sorted(indieauth.SETTINGS[table])


def test_sample_plugins_toml_is_valid_and_enables_password():
    sample = tomllib.loads(read("plugins.toml"))
    config = indieauth.Config(os.path.join(ROOT, "plugins.toml"), sample)
    assert config.enabled_plugins() == ["password"]
    table = config.plugins["password"]
    assert sorted(table) == sorted(indieauth_password.SETTINGS)
    indieauth.validate_table("plugins.toml", "plugins.password", table, indieauth_password.SETTINGS)


def test_readme_documents_secret_forms_and_config_lookup():
    text = CONFIGURATION
    for needle in ('{ env = "', '{ file = "', "--config FILE", "INDIEAUTH_CONFIG", "`plugins.toml` in the current folder",
                   "`enabled`"):
        assert needle in text, needle


# -- the two set-up commands -----------------------------------------------------------------


def test_quick_start_has_exactly_the_two_set_up_commands():
    blocks = re.findall(r"^```sh\n(.*?)\n```$", section(README, "Quick start", 2), flags=re.M | re.S)
    assert blocks == [RUN_SERVER, RUN_TESTS]


def test_quick_start_comes_first():
    headings = [line for line in README.splitlines() if line.startswith("## ")]
    assert headings[0] == "## Quick start"


def test_ci_runs_the_readme_test_command():
    assert RUN_TESTS in read(".ci", "run").splitlines()


# -- command line ----------------------------------------------------------------------------


def commands(parser, path=()):
    """(path, parser) for every subcommand, nested ones included (`user add`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield path + (name,), sub
                yield from commands(sub, path + (name,))


def synopsis(path):
    """The synopsis line of docs/cli.md for a command: `indieauth user add USERNAME --me URL …`."""
    text = section(CLI, "Synopsis", 2)
    prefix = "indieauth " + " ".join(path)
    lines = [line for line in text.splitlines() if line == prefix or line.startswith(prefix + " ")]
    assert lines, f"docs/cli.md's synopsis has no line starting {prefix!r}"
    return lines[0]


def assert_documented(path, parser):
    line = synopsis(path)
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        if action.option_strings:
            for option in action.option_strings:
                assert re.search(rf"(^|[\s\[]){re.escape(option)}(?=[\s\]]|$)", line), (option, line)
        else:
            assert (action.metavar or action.dest.upper()) in line, (action.dest, line)
        for choice in action.choices or ():
            assert str(choice) in line, (choice, line)


CORE_COMMANDS = list(commands(indieauth.build_parser(disabled=False)))  # plugins' are documented with them, below


def test_core_commands_are_found():
    names = {" ".join(path) for path, _ in CORE_COMMANDS}
    assert {"init", "serve", "migrate", "plugins", "user add", "user list"} <= names


@pytest.mark.parametrize("path,parser", CORE_COMMANDS, ids=[" ".join(p) for p, _ in CORE_COMMANDS])
def test_readme_documents_command_and_its_options(path, parser):
    assert_documented(path, parser)


def test_readme_documents_global_options():
    line = next(line for line in section(CLI, "Synopsis", 2).splitlines()
                if line.startswith("indieauth ["))
    options = [option for action in indieauth.build_parser()._actions
               if not isinstance(action, argparse._HelpAction) for option in action.option_strings]
    assert "--config" in options
    for option in options:
        assert option in line, option


def test_readme_documents_commands_of_first_party_plugins(tmp_path):
    app = indieauth.make_test_app({"plugins": {"password": {}, "hosting": {}}}, folder=str(tmp_path))
    core = {path for path, _ in CORE_COMMANDS}
    added = [(path, parser) for path, parser in commands(indieauth.build_parser(app, disabled=False))
             if path not in core]
    assert [path for path, _ in added] == [("user", "invite"), ("passwd",)]
    for path, parser in added:
        assert_documented(path, parser)


# -- WSGI entries: Passenger and CGI -------------------------------------------------------------


def import_passenger_wsgi():
    """passenger_wsgi.py imported from its path, as Passenger does."""
    spec = importlib.util.spec_from_file_location("passenger_wsgi_under_test",
                                                  os.path.join(ROOT, "passenger_wsgi.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_passenger_wsgi_exposes_application_without_building_it(monkeypatch, tmp_path):
    missing = str(tmp_path / "not-there.toml")
    monkeypatch.setenv("INDIEAUTH_CONFIG", missing)
    built_before = indieauth._application
    module = import_passenger_wsgi()
    assert callable(module.application)
    assert module.application is indieauth.application
    assert indieauth._application is built_before  # a missing config would have raised if read
    assert os.environ["INDIEAUTH_CONFIG"] == missing  # a configuration set by the host is kept


def test_passenger_wsgi_defaults_to_plugins_toml_beside_it(monkeypatch):
    monkeypatch.setenv("INDIEAUTH_CONFIG", "")  # so monkeypatch restores the original state afterwards
    monkeypatch.delenv("INDIEAUTH_CONFIG")
    import_passenger_wsgi()
    assert os.environ["INDIEAUTH_CONFIG"] == os.path.join(ROOT, "plugins.toml")


@pytest.fixture
def site(tmp_path):
    """A configuration with the password plugin and a migrated database, made through the CLI."""
    config = tmp_path / "plugins.toml"
    config.write_text('[server]\nbase_url = "http://localhost/"\nsecret_key = "%s"\n\n'
                      "[plugins.password]\n" % ("s" * 40), encoding="utf-8")
    subprocess.run([sys.executable, os.path.join(ROOT, "indieauth.py"), "--config", str(config), "migrate"],
                   check=True, capture_output=True, timeout=60)
    indieauth.ensure_secret_files(indieauth.Config.load(str(config)))  # the signing key, as `init` makes it
    return config


def run_isolated(args, site, **env):
    """Run in a fresh interpreter, so the lazily built application and its logging stay out of this one."""
    environ = {k: v for k, v in os.environ.items() if k != "GATEWAY_INTERFACE"}
    environ.update(INDIEAUTH_CONFIG=str(site), **env)
    return subprocess.run([sys.executable, *args], env=environ, cwd=str(site.parent),
                          capture_output=True, text=True, timeout=60)


PASSENGER_REQUEST = """
import importlib.util, sys, wsgiref.util
spec = importlib.util.spec_from_file_location("passenger_wsgi", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
environ = {}
wsgiref.util.setup_testing_defaults(environ)
environ["PATH_INFO"] = "/login"
status = []
body = b"".join(module.application(environ, lambda s, headers, exc_info=None: status.append(s)))
print(status[0])
print(body.decode())
"""


def test_passenger_wsgi_serves_the_configured_server(site):
    result = run_isolated(["-c", PASSENGER_REQUEST, os.path.join(ROOT, "passenger_wsgi.py")], site)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("200 OK")
    assert 'autocomplete="current-password"' in result.stdout


PASSENGER_CONNECTIONS = PASSENGER_REQUEST.split("status = []")[0] + """
import indieauth
connections = []
for _ in range(2):
    status = []
    b"".join(module.application(dict(environ), lambda s, headers, exc_info=None: status.append(s)))
    assert status == ["200 OK"], status
    database = indieauth._application.storage.database
    connections.append(None if database.is_closed() else database.connection())
print("kept" if connections[0] is not None and connections[0] is connections[1] else "given back")
"""


@pytest.mark.parametrize("gateway, expected", [(None, "kept"), ("CGI/1.1", "given back")])
def test_the_wsgi_entry_keeps_its_database_connection_between_requests_except_under_cgi(site, gateway, expected):
    """Passenger runs one app per long-lived process, as `indieauth serve` does: the thread keeps its
    connection (CONNECTION_RECHECK).  A CGI process answers one request, so it gives it back."""
    env = {"GATEWAY_INTERFACE": gateway} if gateway else {}
    result = run_isolated(["-c", PASSENGER_CONNECTIONS, os.path.join(ROOT, "passenger_wsgi.py")], site, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected


def test_indieauth_py_is_a_cgi_script(site):
    cgi = {"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET", "PATH_INFO": "/login",
           "SCRIPT_NAME": "/indieauth.cgi", "SERVER_NAME": "auth.example", "SERVER_PORT": "80",
           "SERVER_PROTOCOL": "HTTP/1.1"}
    result = run_isolated([os.path.join(ROOT, "indieauth.py")], site, **cgi)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Status: 200 OK")
    assert 'autocomplete="current-password"' in result.stdout


def test_the_indieauth_command_is_a_cgi_program(site):
    """README's CGI wrapper runs .venv/bin/indieauth, i.e. indieauth.main() with no arguments."""
    cgi = {"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET", "PATH_INFO": "/login",
           "SCRIPT_NAME": "/indieauth.cgi", "SERVER_NAME": "auth.example", "SERVER_PORT": "80",
           "SERVER_PROTOCOL": "HTTP/1.1"}
    result = run_isolated(["-c", "import sys, indieauth; sys.exit(indieauth.main())"], site, **cgi)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Status: 200 OK")
    assert 'autocomplete="current-password"' in result.stdout


def test_setup_cfg_installs_every_view_and_static_file():
    """A non-editable install finds views/ and static/ under share/indieauth only if listed."""
    import configparser
    parser = configparser.ConfigParser()
    parser.read(os.path.join(ROOT, "setup.cfg"))
    listed = {name.strip() for value in parser["options.data_files"].values() for name in value.split(",")}
    shipped = {f"{folder}/{name}" for folder in ("views", "static") for name in os.listdir(os.path.join(ROOT, folder))}
    assert shipped <= listed, shipped - listed


@pytest.mark.parametrize("leftover", ["build/lib/indieauth.py", "dist/indieauth-0.1.0.tar.gz",
                                      "indieauth.egg-info/PKG-INFO", "plugins/indieauth-okta/build/lib/x.py",
                                      "plugins/indieauth-okta/dist/x.whl",
                                      "plugins/indieauth-okta/indieauth_okta.egg-info/PKG-INFO"])
def test_build_leftovers_are_ignored_wherever_an_install_leaves_them(leftover, tmp_path):
    """`pip install plugins/NAME` leaves build/ in the plugin's folder; git must not offer it for a commit.
    Asked of a scratch repository holding only our .gitignore, so it runs in any copy of the project."""
    shutil.copy(os.path.join(ROOT, ".gitignore"), tmp_path / ".gitignore")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    ignored = subprocess.run(["git", "check-ignore", "--no-index", "-q", leftover], cwd=tmp_path)
    assert ignored.returncode == 0, f"{leftover} is not ignored"


def test_openapi_document_is_served_and_describes_every_api_route():
    """The OpenAPI document at /openapi.json names exactly the API routes the app has."""
    import re as _re

    import webtest

    import indieauth
    app = indieauth.make_test_app()
    doc = webtest.TestApp(app).get("/openapi.json").json
    assert doc["openapi"].startswith("3.")
    api = {(route.rule, route.method.lower()) for route in app.bottle.routes
           if route.rule in ("/auth", *indieauth.API_PATHS, "/.well-known/oauth-authorization-server",
                             "/.well-known/jwks.json")}
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert api == documented
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op["operationId"] and op["responses"], (path, method)
            for ref in _re.findall(r'"\$ref": "#/components/schemas/(\w+)"', json.dumps(op)):
                assert ref in doc["components"]["schemas"]


def test_openapi_introspection_credentials_are_the_ones_the_metadata_lists():  # S76
    """Each way the metadata says a resource server may authenticate at /introspect is a security scheme
    of that operation in /openapi.json, and no other (issue 18)."""
    import webtest

    import indieauth
    web = webtest.TestApp(indieauth.make_test_app())
    doc = web.get("/openapi.json").json
    listed = web.get("/.well-known/oauth-authorization-server").json["introspection_endpoint_auth_methods_supported"]
    schemes = {doc["components"]["securitySchemes"][name]["scheme"]
               for option in doc["paths"]["/introspect"]["post"]["security"] for name in option}
    assert schemes == {{"Bearer": "bearer", "client_secret_basic": "basic"}[method] for method in listed}


def readme_block(after_heading, filename):
    """The code block that follows `filename`: under the heading `after_heading` in docs/plugins.md."""
    text = PLUGINS
    section = text[text.index(after_heading):]
    start = section.index(f"`{filename}`:\n\n```python\n") + len(f"`{filename}`:\n\n```python\n")
    return section[start:section.index("```", start)]


def test_readme_authenticator_example_works_as_written(tmp_path, monkeypatch):
    """The walkthrough's plugin and its test, run exactly as printed in docs/plugins.md."""
    import importlib.metadata
    import sys
    import types

    import indieauth
    module = types.ModuleType("indieauth_pin")
    exec(compile(readme_block("## Writing an authenticator plugin", "indieauth_pin.py"), "indieauth_pin.py", "exec"),
         module.__dict__)
    monkeypatch.setitem(sys.modules, "indieauth_pin", module)
    entry_point = importlib.metadata.EntryPoint("pin", "indieauth_pin", "indieauth")
    installed = indieauth.installed_plugins()
    monkeypatch.setattr(indieauth, "installed_plugins", lambda: {**installed, "pin": entry_point})
    namespace = {}
    exec(compile(readme_block("## Writing an authenticator plugin", "tests/test_pin.py"), "test_pin.py", "exec"),
         namespace)
    namespace["test_password_then_pin_through_an_authorization_request"](tmp_path)


def test_requirements_test_installs_every_first_party_plugin():
    lines = open(os.path.join(ROOT, "requirements-test.txt")).read().split()
    for name in os.listdir(os.path.join(ROOT, "plugins")):
        assert any(line.startswith(f"plugins/{name}") for line in lines), name


@pytest.mark.parametrize("page", ["README.md", "docs/plugins.md"])
def test_readme_and_plugins_page_point_to_every_first_party_plugin(page):
    text = read(page)
    for name in os.listdir(os.path.join(ROOT, "plugins")):
        assert f"plugins/{name}/README.md" in text, name
        assert os.path.exists(os.path.join(ROOT, "plugins", name, "README.md")), name


def test_readme_pictures_exist():
    import re as _re
    readme = open(os.path.join(ROOT, "README.md")).read()
    pictures = _re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert pictures
    for picture in pictures:
        assert os.path.exists(os.path.join(ROOT, picture)), picture


# -- the pages and their links -------------------------------------------------------------------

DOCS = sorted(name for name in os.listdir(os.path.join(ROOT, "docs")) if name.endswith(".md"))
PAGES = (["README.md", "ARCHITECTURE.md"] + [f"docs/{name}" for name in DOCS]
         + sorted(f"plugins/{name}/README.md" for name in os.listdir(os.path.join(ROOT, "plugins"))))
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)\)")


def outside_code(text):
    """The lines of `text` that are not inside fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def slugs(text):
    """GitHub's anchors for the headings of a Markdown text: lower case, punctuation dropped, spaces to
    hyphens, and -1, -2… for a repeated heading."""
    seen, anchors = {}, set()
    for line in outside_code(text):
        match = re.match(r"#{1,6} (.+)$", line)
        if not match:
            continue
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", match.group(1).strip())
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


def relative_links(page):
    """Every link target of `page` that is not an absolute URL or path, outside fenced code."""
    targets = [target for line in outside_code(read(page)) for target in LINK.findall(line)]
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t) and not t.startswith("/")]


def test_slugs_are_githubs():
    assert slugs("# A\n## `[plugins.NAME]`\n### `track_event(app, event)`\n## Several server processes (scale-out)\n"
                 "## A\n```\n# not a heading\n```\n") == {
        "a", "pluginsname", "track_eventapp-event", "several-server-processes-scale-out", "a-1"}


@pytest.mark.parametrize("page", PAGES)
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(page):
    folder = os.path.dirname(os.path.join(ROOT, page))
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        file = os.path.normpath(os.path.join(folder, path)) if path else os.path.join(ROOT, page)
        assert os.path.exists(file), f"{page}: {target}: no such file"
        if anchor:
            assert file.endswith(".md"), f"{page}: {target}: an anchor in a file that is not Markdown"
            with open(file, encoding="utf-8") as f:
                assert anchor in slugs(f.read()), f"{page}: {target}: no such heading"


def test_the_link_check_finds_links():
    assert "docs/deployment.md#shared-hosting-with-passenger" in relative_links("README.md")
    assert "#server" in relative_links("docs/configuration.md")
    assert "screenshots/docs-tester.png" in relative_links("docs/api.md")


@pytest.mark.parametrize("page", [f"docs/{name}" for name in DOCS if name != "README.md"])
def test_every_docs_page_starts_with_a_contents_list_of_its_sections(page):
    text = read(page)
    before = text.split("\n## ", 1)[0]
    contents = {target[1:] for target in LINK.findall(before) if target.startswith("#")}
    sections = [line[3:] for line in outside_code(text) if line.startswith("## ")]
    assert sections
    for title in sections:
        assert slugs("## " + title) <= contents, f"{page}: the contents list lacks {title!r}"


def test_docs_index_lists_every_page():
    index = read("docs", "README.md")
    for name in DOCS:
        if name != "README.md":
            assert f"]({name})" in index, name


# -- snippets that go into plugins.toml ------------------------------------------------------------


def toml_blocks(text):
    return re.findall(r"^```toml\n(.*?)^```$", text, flags=re.M | re.S)


SNIPPET_PAGES = ["README.md", "docs/plugins.md"] + [page for page in PAGES if page.startswith("plugins/")]


@pytest.mark.parametrize("page", SNIPPET_PAGES)
def test_plugin_snippets_never_declare_a_table_the_sample_configuration_has(page):
    """A reader adds these to plugins.toml; a table written twice is not TOML (the sample has [auth] and
    [plugins.password] already), so a change to such a table is shown as its keys alone."""
    sample = read("plugins.toml")
    tables = {".".join(path) for path in table_paths(tomllib.loads(sample))}
    for block in toml_blocks(read(page)):
        declared = set(re.findall(r"^\[([\w.-]+)\]", block, flags=re.M))
        assert not declared & tables, (page, block)
        tomllib.loads(sample + "\n" + block)  # and it still reads as TOML after the sample


def table_paths(data, path=()):
    for key, value in data.items():
        if isinstance(value, dict):
            yield path + (key,)
            yield from table_paths(value, path + (key,))


def test_the_totp_steps_make_a_configuration_that_starts(tmp_path):
    """docs/plugins.md's example, followed as written on the sample plugins.toml, enables TOTP after the
    password; the README says the same in short."""
    table, methods = toml_blocks(section(PLUGINS, "Example: a code after the password", 3))
    sample = read("plugins.toml")
    assert sample.count("methods = []") == 1
    path = tmp_path / "plugins.toml"
    path.write_text(sample.replace("methods = []", methods.strip()) + "\n" + table, encoding="utf-8")
    config = indieauth.Config.load(str(path))
    indieauth.ensure_secret_files(config)
    app = indieauth.IndieAuth(config, check_schema=False)
    try:
        assert config.enabled_plugins() == ["password", "totp"]
        assert config["auth"]["methods"] == ["password+totp"]
        assert {"password", "totp"} <= set(app.authenticators)
    finally:
        app.close()
    short = section(README, "Add a sign-in method", 2)
    for needle in ("pip install -e plugins/indieauth-totp", "`[plugins.totp]`", "`methods = []`",
                   '`methods = ["password+totp"]`'):
        assert needle in short, needle


# -- the quick start's first run, as printed --------------------------------------------------------


def normalized_run(text):
    """Lines of a first run with what differs between runs (times, process id, link, version) made equal."""
    text = re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", "TIME ", text, flags=re.M)
    text = re.sub(r"/login/once/\S+", "/login/once/LINK", text)
    text = re.sub(r"process \d+ ready", "process PID ready", text)
    text = re.sub(r"^indieauth \S+ serving", "indieauth VERSION serving", text, flags=re.M)
    return text.strip().splitlines()


def test_quick_start_shows_what_the_first_run_prints(tmp_path):
    """The README's sample output is the first command's: `.venv/bin/indieauth serve` beside the sample
    plugins.toml (on a free port, told to stop once it is ready)."""
    [shown] = re.findall(r"^```text\n(.*?)\n```$", section(README, "Quick start", 2), flags=re.M | re.S)
    shutil.copy(os.path.join(ROOT, "plugins.toml"), tmp_path / "plugins.toml")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    os.symlink(os.path.join(os.path.dirname(sys.executable), "indieauth"), tmp_path / ".venv" / "bin" / "indieauth")
    from indieauth import testing
    port = testing.free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("INDIEAUTH_CONFIG", "GATEWAY_INTERFACE")}
    out = tmp_path / "out.txt"
    with open(out, "w") as f:
        process = subprocess.Popen([".venv/bin/indieauth", "serve", "--port", str(port)], cwd=tmp_path, env=env,
                                   stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while " ready" not in out.read_text() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    printed = out.read_text().split(" ready\n")[0] + " ready"
    listening = shown.replace(" on http://127.0.0.1:8080/\n", f" on http://127.0.0.1:{port}/\n")  # the free port
    assert normalized_run(printed) == normalized_run(listening)
