"""Headless subcommands. Each module: `register(subparsers)` sets `handler` on its parser."""
