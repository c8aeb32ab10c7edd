"""plugins.toml: types, defaults, unknown keys and tables, secrets from env and files."""

import os

import pytest

import indieauth
from indieauth import Config, ConfigError


def load(tmp_path, text):
    path = tmp_path / "plugins.toml"
    path.write_text(text)
    return Config.load(str(path))


def test_every_setting_has_a_default_a_type_and_help():
    for table, settings in indieauth.SETTINGS.items():
        for key, setting in settings.items():
            assert setting.type in {"str", "int", "bool", "list", "duration", "url", "secret", "table", "workers"}, (table, key)
            assert setting.help.strip(), (table, key)


def test_an_empty_file_gives_every_default(tmp_path):
    config = load(tmp_path, "")
    assert config["server"]["port"] == 8080
    assert config["server"]["session_lifetime"] == 14 * 86400
    assert config["security"]["failure_window"] == 15 * 60
    assert config.plugins == {}


def test_the_repository_sample_is_a_valid_config():
    sample = os.path.join(os.path.dirname(indieauth.__file__), "plugins.toml")
    config = Config.load(sample)
    assert config.enabled_plugins() == ["password"]


@pytest.mark.parametrize("text, words", [
    ("[server]\nprot = 1\n", ["plugins.toml", "[server]", "'prot'", "known keys", "port"]),
    ('[server]\nport = "x"\n', ["plugins.toml", "[server]", "port", "whole number", "'x'"]),
    ("[server]\nthreads = true\n", ["[server]", "threads", "whole number"]),
    ('[server]\nbase_url = "ftp://x/"\n', ["[server]", "base_url", "http"]),
    ('[server]\nsession_lifetime = "soon"\n', ["session_lifetime", "duration"]),
    ('[server]\ntrusted_proxies = "127.0.0.1"\n', ["trusted_proxies", "list"]),
    ('[server]\nsecret_key = { vault = "x" }\n', ["secret_key", "env", "file"]),
    ("[srever]\n", ["unknown table", "[srever]", "server"]),
    ('[tokens]\nalgorithm = "HS256"\n', ["[tokens]", "algorithm", "EdDSA, RS256, ES256", "'HS256'"]),
    ('[server]\nlog_level = "loud"\n', ["[server]", "log_level", "one of"]),
    ('[server]\ntrusted_proxies = ["proxy.local"]\n', ["trusted_proxies", "proxy.local"]),
    ("[plugins]\npassword = 1\n", ["[plugins]", "[plugins.password]"]),
    ("[plugins.password]\nenabled = \"yes\"\n", ["[plugins.password]", "enabled", "true or false"]),
    ("[server\n", ["not valid TOML"]),
])
def test_a_wrong_config_names_file_table_and_key(tmp_path, text, words):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text).enabled_plugins()
    for word in words:
        assert word in str(info.value)


USERS = {"users": indieauth.Setting("table", {}, "user name = account id")}


@pytest.mark.parametrize("value, message", [
    (["ann"], r"plugins.toml: \[plugins.demo\] users: expected a table of name = \"text\", got \['ann'\]"),
    ({"ann": 12}, r"plugins.toml: \[plugins.demo\] users: ann: expected a string, got \{'ann': 12\}"),
])
def test_a_table_setting_holds_names_and_texts_only(value, message):
    with pytest.raises(ConfigError, match=message):
        indieauth.validate_table("plugins.toml", "plugins.demo", {"users": value}, USERS)


def test_a_table_setting_is_given_as_written():
    assert indieauth.validate_table("plugins.toml", "plugins.demo", {"users": {"ann": "00u1"}}, USERS) == \
        {"users": {"ann": "00u1"}}


def test_a_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(ConfigError, match="indieauth init"):
        Config.load(str(tmp_path / "nope.toml"))


@pytest.mark.parametrize("value, seconds", [(30, 30), ("90s", 90), ("10m", 600), ("1h", 3600),
                                            ("14d", 14 * 86400), ("2w", 14 * 86400)])
def test_durations(value, seconds):
    assert indieauth.parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["", "h", "1.5h", "-1s", "10y", True, -5, None])
def test_bad_durations_are_refused(value):
    with pytest.raises(ValueError):
        indieauth.parse_duration(value)


def test_base_url_gets_a_trailing_slash(tmp_path):
    assert load(tmp_path, '[server]\nbase_url = "https://auth.example"\n')["server"]["base_url"] == "https://auth.example/"


def test_secret_inline(tmp_path):
    assert load(tmp_path, '[server]\nsecret_key = "abc"\n').secret("server", "secret_key") == "abc"


def test_secret_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("IA_TEST_SECRET", "from-env")
    config = load(tmp_path, '[server]\nsecret_key = { env = "IA_TEST_SECRET" }\n')
    assert config.secret("server", "secret_key") == "from-env"


def test_secret_from_unset_environment_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("IA_TEST_SECRET", raising=False)
    config = load(tmp_path, '[server]\nsecret_key = { env = "IA_TEST_SECRET" }\n')
    with pytest.raises(ConfigError, match="IA_TEST_SECRET"):
        config.secret("server", "secret_key")


def test_secret_from_file_relative_to_the_config(tmp_path):
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "s").write_text("from-file\n")
    config = load(tmp_path, '[server]\nsecret_key = { file = "keys/s" }\n')
    assert config.secret("server", "secret_key") == "from-file"


def test_secret_from_missing_file_names_key_and_path(tmp_path):
    config = load(tmp_path, '[server]\nsecret_key = { file = "gone" }\n')
    with pytest.raises(ConfigError) as info:
        config.secret("server", "secret_key")
    assert "[server] secret_key" in str(info.value) and "gone" in str(info.value)


def test_a_plugin_secret_is_read_from_env_without_surrounding_whitespace(make_app, monkeypatch):
    monkeypatch.setenv("IA_TEST_PLUGIN_SECRET", " from-env\n")
    app = make_app()
    assert app.plugin_secret("demo", "token", {"env": "IA_TEST_PLUGIN_SECRET"}, needed="a token") == "from-env"


def test_an_optional_plugin_secret_that_is_not_set_is_empty(make_app):
    assert make_app().plugin_secret("demo", "password", None) == ""


@pytest.mark.parametrize("value, message", [
    (None, r": \[plugins.demo\] token: required \(a token\), inline or as \{ env = \"NAME\" \} or \{ file = \"path\" \}"),
    (" ", r": \[plugins.demo\] token: is empty"),
    ({"file": "gone.key"}, r": \[plugins.demo\] token: cannot read .*gone.key"),
])
def test_a_required_plugin_secret_that_cannot_be_read_names_the_table_and_key(make_app, value, message):
    app = make_app()
    with pytest.raises(ConfigError, match=message):
        app.plugin_secret("demo", "token", value, needed="a token")


def test_a_short_secret_key_fails_start_up(make_app):
    with pytest.raises(ConfigError, match="at least 32"):
        make_app({"server": {"secret_key": "short"}})


def test_disabled_plugin_is_not_enabled(tmp_path):
    config = load(tmp_path, "[plugins.password]\nenabled = false\n")
    assert config.enabled_plugins() == []


def test_ensure_secret_files_makes_owner_only_files_once(tmp_path):
    config = load(tmp_path, "")
    made = indieauth.ensure_secret_files(config)
    assert sorted(os.path.basename(p) for p in made) == ["secret.key", "signing-key.pem"]
    for path in made:
        assert os.stat(path).st_mode & 0o777 == 0o600
    assert len(config.secret("server", "secret_key")) == 64
    assert "PRIVATE KEY" in config.secret("tokens", "signing_key")
    assert indieauth.ensure_secret_files(config) == []


def test_a_plugin_config_error_is_reported_before_an_unmigrated_database(tmp_path):
    config = Config(str(tmp_path / "plugins.toml"), {"server": {"secret_key": "s" * 40},
                                                    "plugins": {"password": {"min_lenght": 3}}})
    with pytest.raises(ConfigError, match="min_lenght"):
        indieauth.IndieAuth(config)  # the database is empty: the typo is still what is reported


@pytest.mark.parametrize("value, expected", [("2", 2), ('"auto"', "auto"), ("1", 1)])
def test_server_workers_is_a_whole_number_from_1_or_auto(tmp_path, value, expected):
    assert load(tmp_path, f"[server]\nworkers = {value}\n")["server"]["workers"] == expected


@pytest.mark.parametrize("value", ["0", "-2", '"all"', "true", "1.5"])
def test_server_workers_refuses_anything_else(tmp_path, value):
    with pytest.raises(indieauth.ConfigError, match=r'\[server\] workers: expected a whole number from 1, or "auto"'):
        load(tmp_path, f"[server]\nworkers = {value}\n")


@pytest.fixture
def own_logging():
    """setup_logging's changes to the `indieauth` logger, undone afterwards (pytest's caplog needs them)."""
    log = indieauth.log
    saved = log.handlers[:], log.level, log.propagate
    log.handlers[:] = []
    yield log
    log.handlers[:], log.level, log.propagate = saved


@pytest.mark.parametrize("level, logged", [("info", True), ("warning", False), ("error", False)])
def test_the_access_line_follows_log_level(own_logging, capsys, level, logged):
    """The access line is written without logging's machinery when setup_logging's handler is the only
    one; `log_level = "warning"` must still silence it."""
    indieauth.setup_logging(level)
    indieauth.access_log("GET", "/.well-known/oauth-authorization-server", "200", 1.5)
    indieauth.log.warning("a warning")
    err = capsys.readouterr().err
    assert ("INFO" in err and "GET /.well-known/oauth-authorization-server 200 1.5ms" in err) is logged
    assert ("WARNING" in err and "a warning" in err) is (level != "error")


# -- quoted numbers and how the file is named ------------------------------------------------------------


@pytest.mark.parametrize("key, text, expected", [
    ("port", '"8080"', 8080), ("threads", '"2"', 2), ("workers", '"3"', 3), ("session_lifetime", '"3600"', 3600)])
def test_a_quoted_whole_number_is_accepted(tmp_path, key, text, expected):
    assert load(tmp_path, f"[server]\n{key} = {text}\n")["server"][key] == expected


@pytest.mark.parametrize("text", ['"80 80"', '"８０"', '"-1"', '"0x50"', '""'])
def test_a_quoted_text_that_is_not_digits_is_still_refused(tmp_path, text):
    with pytest.raises(ConfigError, match=r"\[server\] port: expected a whole number"):
        load(tmp_path, f"[server]\nport = {text}\n")


CONFIG_PLACES = {  # (lines of [server], the rest of the file, where the message says the mistake is)
    "setting-type": ('port = "x"', "", "[server] port"),
    "short-secret-key": ('secret_key = "short"', "", "[server] secret_key"),
    "base-url-not-https": ('base_url = "http://example.com/"', "", "[server] base_url"),
    "plugin-not-installed": ("", "[plugins.nosuch]", "[plugins.nosuch]"),
    "plugin-setting": ("", '[plugins.password]\nmin_length = "many"', "[plugins.password] min_length"),
    "plugin-takes-no-settings": ("", "[plugins.hosting]\nsize = 1", "[plugins.hosting]"),
    "auth-methods": ("", '[auth]\nmethods = ["nosuch"]', "[auth] methods"),
    "plugin-secret": ("", '[plugins.webhook]\nurls = ["https://hooks.example/"]\nsecret = { env = "INDIEAUTH_UNSET" }',
                      "[plugins.webhook] secret"),
}


@pytest.mark.parametrize("mistake", CONFIG_PLACES)
def test_every_configuration_error_names_the_file_as_given(tmp_path, monkeypatch, mistake):
    """One form for every message about the file: the path as the person gave it, then table and key."""
    server, rest, place = CONFIG_PLACES[mistake]
    secret_key = "" if "secret_key" in server else f'secret_key = "{"k" * 40}"'
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "my.toml").write_text(f"[server]\n{secret_key}\n{server}\n{rest}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INDIEAUTH_UNSET", raising=False)
    with pytest.raises(ConfigError) as caught:
        indieauth.IndieAuth(Config.load(os.path.join("conf", "my.toml")), check_schema=False)
    assert str(caught.value).startswith(os.path.join("conf", "my.toml") + ": " + place), str(caught.value)
