"""The ``pb`` command.

``pb tally`` and ``pb audit`` run on the standard library alone: no configuration,
no database, no Flask, which is why this entry point imports the Flask commands lazily.
"""

from __future__ import annotations

import sys
from importlib import import_module

PURE_COMMANDS = {"tally": "pb.tally_command", "audit": "pb.audit_command"}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in PURE_COMMANDS:
        return import_module(PURE_COMMANDS[args[0]]).main(args[1:])
    from pb.commands import cli
    from pb.config import ConfigError

    try:
        cli.main(args=args, prog_name="pb", standalone_mode=True)
    except ConfigError as error:
        print(f"pb: configuration error: {error}", file=sys.stderr)
        return 2
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
