"""The `eblagh` command line: one subcommand module per concern under `bot/commands/`.

Each module exposes `register(subparsers)`, adding its parser with `func=` set to a callable that
takes the parsed arguments and returns the exit status.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from bot import log_privacy
from bot.settings import MissingSecretKey, load_settings
from services.law.holidays import HolidayOverridesError

# Subcommand modules, in the order `eblagh --help` lists them.
COMMAND_MODULES = ("shell", "run", "worker", "web", "staff", "apikey", "imports", "receipts", "payments",
                   "broadcast", "db", "nlp", "holidays")


# Subcommand -> its module, where the names differ.
_MODULE_OF = {"import": "imports"}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with `command` (the subcommand about to run), only that subcommand.

    Each module imports what its subcommand needs, so importing only the one that runs keeps a process
    from loading what others use (`eblagh worker` no web server, `eblagh web` no messenger library).
    """
    modules: tuple[str, ...] = COMMAND_MODULES
    if command is not None and _MODULE_OF.get(command, command) in COMMAND_MODULES:
        modules = (_MODULE_OF.get(command, command),)
    parser = argparse.ArgumentParser(prog="eblagh", description="ابلاغ — electronic notification assistant")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in modules:
        # Every listed module exists: a missing one, or a missing library it imports, is an error to see.
        importlib.import_module(f"bot.commands.{name}").register(subparsers)
    return parser


def _log_format() -> str:
    try:
        return load_settings().log_format
    except Exception:  # a settings error is reported by the command itself
        return "text"


def _subcommand(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line (the first word that is not an option), if any."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_subcommand(words))
    args = parser.parse_args(words)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if _log_format() == "json":
        from bot.log_format import use_json

        use_json(logging.DEBUG if args.verbose else logging.INFO)
    log_privacy.install()  # no national ID, mobile, token, key or secret in any command's log, at any level
    try:
        status: int = args.func(args)
    except (MissingSecretKey, HolidayOverridesError) as error:
        print(f"eblagh: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
