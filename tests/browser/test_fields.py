"""Fields look the same whatever their type: a plugin's form may leave `type` out (README's authenticator
example does), and the core's stylesheet must style it as it styles the password form's fields."""

import pytest

import pin
from conftest import serving

FIELD_STYLE = """el => { const s = getComputedStyle(el);
  return [s.borderTopWidth, s.borderTopStyle, s.borderTopColor, s.paddingLeft, s.paddingTop, s.borderRadius,
          s.fontSize, el.getBoundingClientRect().width]; }"""


@pytest.fixture
def login(make_app):
    """The /login page of a server with the password plugin and the test plugin pin, whose field has no type."""
    app = make_app(plugins=[pin])
    with serving(app) as url:
        yield url.rstrip("/") + "/login"


def test_a_field_without_a_type_is_styled_like_the_password_forms(page, login, screenshot):
    page.goto(login)
    untyped = page.locator("#pin-code")
    assert untyped.get_attribute("type") is None
    assert untyped.evaluate(FIELD_STYLE) == page.locator("#username").evaluate(FIELD_STYLE)
    screenshot("untyped-field", page.locator("main"))


@pytest.mark.parametrize("kind", ["number", "tel", "search", "date", "time", "datetime-local"])
def test_fields_of_the_usual_types_are_styled_like_text_fields(page, login, kind):
    page.goto(login)
    page.evaluate("kind => { const el = document.createElement('input'); el.type = kind; el.id = 'probe';"
                  " document.querySelector('#username').after(el); }", kind)
    probe, text = page.locator("#probe").evaluate(FIELD_STYLE), page.locator("#username").evaluate(FIELD_STYLE)
    assert probe[:7] == text[:7]
