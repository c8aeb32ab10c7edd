"""Entry point for Phusion Passenger (shared hosting): Passenger imports this file and serves `application`.

The configuration is $INDIEAUTH_CONFIG when the host sets it (SetEnv in .htaccess, or the panel's
environment variables), else the plugins.toml beside this file.  Importing builds nothing:
`indieauth.application` reads the configuration on the first request.
"""

import os

if not os.environ.get("INDIEAUTH_CONFIG"):
    os.environ["INDIEAUTH_CONFIG"] = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plugins.toml")

from indieauth import application  # noqa: E402  (after INDIEAUTH_CONFIG is settled)

__all__ = ["application"]
