"""Built-in plugin: the ``imggan serve`` command (the web page and HTTP API in :mod:`imggan.serve`).

Registered like any plugin's command; it imports neither FastAPI nor torch until it runs.
"""

from __future__ import annotations

from typing import Any

import imggan


@imggan.hookimpl
def register_commands(cli: Any) -> None:
    from imggan.serve.cli import serve_command

    if "serve" not in getattr(cli, "commands", {}):
        cli.add_command(serve_command)
