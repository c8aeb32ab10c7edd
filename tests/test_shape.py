"""The core's shape (issue 16): `indieauth.py` has no class longer than about 300 lines, so that no
chapter hides in one class; the handlers sit with their chapters and `IndieAuth` is a container."""

import ast
import os

import indieauth

MAX_CLASS_LINES = 300
# Storage, the peewee backend, is still over it: another part of issue 16 (the storage contract) owns it.
NOT_YET = set()


def class_lengths(source):
    """{class name: its lines} of the top-level classes."""
    return {node.name: node.end_lineno - node.lineno + 1
            for node in ast.parse(source).body if isinstance(node, ast.ClassDef)}


def test_no_class_in_the_core_is_over_300_lines():
    with open(os.path.abspath(indieauth.__file__), encoding="utf-8") as f:
        lengths = class_lengths(f.read())
    too_long = {name: n for name, n in lengths.items() if n > MAX_CLASS_LINES and name not in NOT_YET}
    assert not too_long, f"split these classes (lines): {too_long}"


def test_the_length_rule_sees_a_long_class():
    long_class = "class Big:\n" + "    x = 1\n" * MAX_CLASS_LINES
    assert class_lengths(long_class) == {"Big": MAX_CLASS_LINES + 1}
