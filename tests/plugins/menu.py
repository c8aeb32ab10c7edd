"""Test-only plugin: a navigation link for everyone signed in, one for the owner, and an `indieauth user`
subcommand, the way a third party adds them (menu_links, register_commands' `groups`)."""

from indieauth import hookimpl


@hookimpl
def menu_links(app, user):
    links = [("Notes", "/plugins/menu/notes")]
    if user.role == "owner":
        links.append(("Billing", "/plugins/menu/billing"))
    return links


@hookimpl
def register_commands(app, subparsers, groups):
    parser = groups["user"].add_parser("greet", help="greet a user")
    parser.add_argument("username")
    parser.set_defaults(handler=lambda app, args: print(f"hello {args.username}") or 0)
