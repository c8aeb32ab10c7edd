"""Multi-user hosting for indieauth: a small server for a group, not only its owner.

An administrator hands out single-use invites (the Users page, or `indieauth user invite`); whoever
opens one picks a user name and a profile URL: a hosted page /u/NAME here, or their own site (which
names this server, or which they prove with an authenticator that `proves_sites`).  The Users page
also disables, enables, deletes and resets accounts.  Invites are kept by the core's storage
(`create_invite`, `get_invite`, `redeem_invite`); roles and registered apps are the core's too.
Built only on indieauth's public hooks and app API, exactly as a third-party plugin would be.
"""

import os
import re
import urllib.parse

import bottle

from indieauth import (PROFILE_FIELDS, PROOF_COOKIE, USERNAME_RE, AuthenticationFailed, FetchError, LoginSucceeded,
                       UsageError, canonical_url, fail, form_value, hookimpl, normalize_username, parse_duration,
                       posted_profile, profile_discovery, profile_problem, profile_url_problem)

__version__ = "0.1.0"
NAME = "hosting"
VIEWS = os.path.join(os.path.dirname(__file__), "views")
INVITE_LIFETIME = 7 * 86400  # an invite made on the Users page works this long
INVITE_GONE = "This invite is not valid any more: each invite works once and expires. Ask for a new one."


@hookimpl
def configure(app):
    app.plugin_config(NAME, {})  # no settings: the table only turns hosting on
    app.add_template_path(VIEWS)
    app.plugin_state[NAME] = Hosting(app)


@hookimpl
def register_routes(app):
    """The paths are the ones people already hold: /u/NAME is their identity, invites are handed out."""
    hosting = app.plugin_state[NAME]
    return [("GET", "/u/<username>", hosting.profile_page),
            ("GET", "/u/<username>/edit", hosting.profile_edit),
            ("POST", "/u/<username>/edit", hosting.profile_save),
            ("GET", "/invite/<token>", hosting.invite_page),
            ("POST", "/invite/<token>", hosting.invite_post),
            ("POST", "/invite/<token>/prove", hosting.invite_prove),
            ("GET", "/admin/users", hosting.admin_users),
            ("POST", "/admin/users", hosting.admin_users_post)]


@hookimpl
def menu_links(app, user):
    return [("Users", "/admin/users")] if is_admin(user) else []


# The commands register_commands adds, declared so that `indieauth --help` lists them while the plugin is not enabled.
COMMANDS = {"user invite": "print a single-use sign-up link"}


@hookimpl
def register_commands(app, subparsers, groups):
    p = groups["user"].add_parser("invite", help=COMMANDS["user invite"])
    p.add_argument("--role", default="user", choices=["user", "admin"],
                   help="the role of whoever signs up with it (default: user)")
    p.add_argument("--expires", default="7d", help="how long the link works (default: 7d)")
    p.add_argument("--app-role", action="append", default=[], metavar="CLIENT_ID=ROLE",
                   help="a role in a pre-registered app, given on sign-up (repeatable)")
    p.set_defaults(handler=cmd_user_invite)


def cmd_user_invite(app, args):
    try:
        lifetime = parse_duration(args.expires)
    except ValueError as exc:
        raise UsageError(f"--expires {args.expires!r}: {exc}") from None
    app_roles = {}
    for pair in args.app_role:
        client_id, sep, role = pair.rpartition("=")
        if not sep or not client_id or not role:
            raise UsageError(f"--app-role {pair!r}: write CLIENT_ID=ROLE")
        app_roles[client_id] = role
    print(app.url("invite/" + app.storage.create_invite(args.role, lifetime, app_roles=app_roles)))
    return 0


def is_admin(user):
    return user.role in ("owner", "admin")


class Hosting:
    """The pages of hosting: hosted profiles and their editor, sign-up through an invite, the Users page."""

    def __init__(self, app):
        self.app = app

    def hosted_me(self, username):
        return self.app.url("u/" + normalize_username(username))

    # -- hosted profiles
    def profile_page(self, username):
        """/u/NAME: an h-card with the discovery links, so a person without a site can sign in anywhere."""
        app = self.app
        user = app.storage.get_user(username=username) if USERNAME_RE.fullmatch(username.lower()) else None
        if user is None or user.me != self.hosted_me(username) or user.disabled_at is not None:
            fail(404, "There is no profile at this address.")
        for rel, href in app.profile_links():  # S17, S18, also answered on HEAD
            bottle.response.add_header("Link", f'<{href}>; rel="{rel}"')
        return app.render("profile.tpl", title=user.name or user.username, person=user, links=app.profile_links())

    def own_profile(self, username):
        user = self.app.require_user()
        if normalize_username(username) != user.username:
            fail(403, "You can only edit your own profile.")
        return user

    def profile_edit(self, username, error=None, status=200, values=None):
        user = self.own_profile(username)
        bottle.response.status = status
        return self.app.render("profile_edit.tpl", title="Your profile", person=user, error=error,
                               values=values or {f: getattr(user, f) for f in PROFILE_FIELDS})

    def profile_save(self, username):
        user = self.own_profile(username)
        self.app.check_csrf()
        values = posted_profile()  # read and checked as the core's account page does
        problem = profile_problem(values)
        if problem:
            return self.profile_edit(username, problem, 400, values)
        self.app.storage.update_user(user, **values)
        self.app.redirect(f"/u/{user.username}/edit?saved=1")

    # -- sign-up through an invite
    def open_invite(self, token):
        """The invite of `token`, throttled like every random secret; a 400 page when it is gone."""
        invite = self.app.opened_by(lambda: self.app.storage.get_invite(token))
        if invite is None:
            fail(400, INVITE_GONE)
        return invite

    def provers(self):
        return [a for a in self.app.authenticators.values() if a.proves_sites]

    def invite_page(self, token, error=None, status=200, values=None, offer_proof=False):
        """Sign-up through an invite: a user name and a profile URL (hosted here, or one's own site)."""
        app = self.app
        invite = self.open_invite(token)
        if values is None:  # back from proving one's site: the form as it was
            query = bottle.request.query
            values = {"username": query.getunicode("username", "")[:64],
                      "site": query.getunicode("site", "")[:512]}
            values["profile"] = "site" if values["site"] else "hosted"
        proven = app.proven_site()
        bottle.response.status = status
        return app.render("invite.tpl", title="Join", token=token, error=error, values=values,
                          hosted_base=app.url("u/"), role=invite.role, links=app.profile_links(),
                          provers=self.provers() if offer_proof else [],
                          proven=proven[0] if proven and proven[0] == canonical_url(values.get("site") or "")
                          else None)

    def invite_post(self, token):
        app = self.app
        app.check_csrf()
        self.open_invite(token)
        values = {"username": form_value("username").strip(), "profile": form_value("profile"),
                  "site": form_value("site").strip()}
        username = normalize_username(values["username"])
        if not USERNAME_RE.fullmatch(username):
            return self.invite_page(token, "A user name is 1 to 64 letters, digits, '.', '_' or '-'.", 400, values)
        if values["profile"] == "site":
            me = canonical_url(values["site"])
            problem = profile_url_problem(me, app.dev_profiles)
            if problem:
                return self.invite_page(token, problem, 400, values)
            try:
                found = profile_discovery(app.http, me)
            except FetchError as error:
                return self.invite_page(token, f"Your site could not be read: {error}.", 400, values)
            expected = dict(app.profile_links())
            proven = app.proven_site()
            if found.get("indieauth-metadata") != expected["indieauth-metadata"] and \
                    found.get("authorization_endpoint") != expected["authorization_endpoint"] and \
                    (proven is None or proven[0] != me):
                return self.invite_page(token, "Your site does not name this server yet: add the lines below to its "
                                               "<head>, then send the form again" +
                                        (", or prove that the site is yours another way." if self.provers() else "."),
                                        400, values, offer_proof=True)
        else:
            me = self.hosted_me(username)
        try:
            user = app.storage.redeem_invite(token, username, me)
        except UsageError as error:
            return self.invite_page(token, str(error), 400, values)
        if user is None:
            fail(400, INVITE_GONE)
        bottle.response.delete_cookie(PROOF_COOKIE, path="/")
        app.event(LoginSucceeded(user, "invite", app.client_address()), "signed_up", user=user, me=me)
        first = next((a.settings_url for a in app.authenticators.values() if a.settings_url), "/")
        app.login_succeeded(user, "invite", first)  # then set a first credential, e.g. a password

    def invite_prove(self, token):
        """POST /invite/<token>/prove: prove one's own site with an authenticator that can (RelMeAuth),
        then come back to this invite with the form as it was."""
        app = self.app
        app.check_csrf()
        self.open_invite(token)
        values = {"username": form_value("username").strip()[:64], "profile": "site",
                  "site": form_value("site").strip()[:512]}
        me = canonical_url(values["site"])
        problem = profile_url_problem(me, app.dev_profiles)
        if problem:
            return self.invite_page(token, problem, 400, values)
        prover = app.authenticators.get(form_value("method"))
        if prover is None or not prover.proves_sites:
            return self.invite_page(token, "Choose one of the ways offered to prove that the site is yours.", 400,
                                    values)
        back = f"/invite/{token}?" + urllib.parse.urlencode({"username": values["username"], "site": me})
        try:
            return prover.prove_site(me, back)
        except AuthenticationFailed as failure:
            if failure.retry_after:
                bottle.response.set_header("Retry-After", str(failure.retry_after))
            return self.invite_page(token, failure.message, failure.status, values, offer_proof=True)

    # -- the Users page
    def require_admin(self):
        user = self.app.require_user()
        if not is_admin(user):
            fail(403, "Only the owner and administrators can manage users.")
        return user

    def admin_users(self, link=None, reset=None, error=None, status=200):
        self.require_admin()
        storage = self.app.storage
        bottle.response.status = status
        return self.app.render("admin_users.tpl", title="Users", users=storage.list_users(), link=link, reset=reset,
                               error=error, clients=[(c, storage.client_roles(c)) for c in storage.list_clients()])

    def admin_users_post(self):
        """Disable, enable, delete or reset a user, or make an invite (each a CSRF-checked POST)."""
        app, storage = self.app, self.app.storage
        admin = self.require_admin()
        app.check_csrf()
        action = form_value("action")
        if action == "invite":
            role = form_value("role") if form_value("role") in ("user", "admin") else "user"
            app_roles = {c.client_id: form_value(f"app_role.{c.id}").strip() for c in storage.list_clients()}
            try:
                raw = storage.create_invite(role, INVITE_LIFETIME, created_by=admin,
                                            app_roles={k: v for k, v in app_roles.items() if v})
            except UsageError as error:
                return self.admin_users(error=str(error)[:1].upper() + str(error)[1:], status=400)
            return self.admin_users(link=app.url("invite/" + raw))
        target = storage.get_user(username=form_value("username"))
        if target is None:
            fail(400, "There is no such user.")
        if target.role == "owner" or target.id == admin.id:
            fail(403, "The owner, and your own account, cannot be changed here.")
        if action == "disable":
            storage.disable_user(target)
        elif action == "enable":
            storage.update_user(target, disabled_at=None)
        elif action == "delete":
            storage.delete_user(target)
        elif action == "reset":
            for name in list(app.authenticators) + ["password"]:
                storage.delete_credential(target, name)
            storage.revoke_user_sessions(target)
            link = app.url("login/once/" + storage.create_login_link(target, 24 * 3600))
            return self.admin_users(link=link, reset=target.username)
        else:
            fail(400, "Choose an action.")
        storage.log_event(f"user_{action}d" if action != "disable" else "user_disabled", user=admin,
                          target=target.username)
        app.redirect("/admin/users")
