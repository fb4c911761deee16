"""Allow ``python -m llmd_console``."""

from llmd_console.cli import main

raise SystemExit(main())
