"""Plugins are built on the core's public surface and copy nothing: a run of six or more lines that two
plugins share (their code or their tests) belongs in the core or in the test kit (indieauth.testing),
once; and no plugin reaches past the core to what it wraps (requests, pluggy, peewee)."""

import ast
import collections
import glob
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN = 6


def content_lines(path):
    """(line number, text) of the lines that carry code: blank lines, comments, decorators (a
    `@hookimpl` above each hook is how every plugin declares one) and one-line imports (two test
    modules may well both import time, urllib.parse, bs4, pytest, requests and webtest) do not count."""
    with open(path, encoding="utf-8") as file:
        stripped = [(number, line.strip()) for number, line in enumerate(file, 1)]
    return [(number, text) for number, text in stripped if text and text[0] not in "#@"
            and not (text.startswith(("import ", "from ")) and not text.endswith(("(", "\\")))]


def shared_runs():
    """{run of RUN lines: [(plugin, path, first line)]} for runs found in more than one plugin."""
    places = collections.defaultdict(list)
    for path in sorted(glob.glob(os.path.join(ROOT, "plugins", "*", "**", "*.py"), recursive=True)):
        relative = os.path.relpath(path, ROOT)
        if "/build/" in relative or ".egg-info" in relative:
            continue
        plugin = relative.split(os.sep)[1]
        lines = content_lines(path)
        for start in range(len(lines) - RUN + 1):
            run = tuple(text for _, text in lines[start:start + RUN])
            places[run].append((plugin, relative, lines[start][0]))
    return {run: where for run, where in places.items() if len({plugin for plugin, _, _ in where}) > 1}


def test_no_run_of_six_lines_is_repeated_between_plugins():
    shared = shared_runs()
    report = [f"{path}:{line}" for where in shared.values() for _, path, line in where]
    assert not shared, f"lines repeated between plugins (move them into the core or the test kit): {report[:20]}"


def test_the_copy_check_finds_a_copy(tmp_path, monkeypatch):
    # The check itself can fail: two plugins holding the same six lines are reported.
    body = "".join(f"value_{n} = compute({n})\n" for n in range(RUN))
    for name in ("indieauth-one", "indieauth-two"):
        (tmp_path / "plugins" / name).mkdir(parents=True)
        (tmp_path / "plugins" / name / "code.py").write_text("@hookimpl\n" + body)
    monkeypatch.setattr(__import__(__name__), "ROOT", str(tmp_path))
    assert len(shared_runs()) == 1


def test_shared_imports_alone_are_no_copy(tmp_path, monkeypatch):
    imports = "".join(f"import module_{n}\n" for n in range(RUN)) + "from package import (name,\n    other)\n"
    for name, own in (("indieauth-one", "one = 1\n"), ("indieauth-two", "two = 2\n")):
        (tmp_path / "plugins" / name).mkdir(parents=True)
        (tmp_path / "plugins" / name / "code.py").write_text(imports + own)
    monkeypatch.setattr(__import__(__name__), "ROOT", str(tmp_path))
    assert shared_runs() == {}


WRAPPED = {"requests": "app.http, the guarded client", "pluggy": "indieauth.hookimpl",
           "peewee": "app.storage, the storage contract"}


def test_no_plugin_imports_what_the_core_wraps():
    found = []
    for path in glob.glob(os.path.join(ROOT, "plugins", "*", "indieauth_*", "**", "*.py"), recursive=True):
        with open(path, encoding="utf-8") as file:
            tree = ast.parse(file.read())
        for node in ast.walk(tree):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found += [f"{os.path.relpath(path, ROOT)} imports {name} (use {WRAPPED[name.split('.')[0]]})"
                      for name in names if name.split(".")[0] in WRAPPED]
    assert not found, found
