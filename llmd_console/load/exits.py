"""The exit codes of ``llmd-console load`` (listed in its --help)."""

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_ERROR_BUDGET = 3
EXIT_SLO = 4
EXIT_UNREACHABLE = 5
EXIT_INTERRUPTED = 130
