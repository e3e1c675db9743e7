"""The ``podium`` command line: one entry point, subcommands."""
