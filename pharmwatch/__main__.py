"""`python -m pharmwatch` runs the CLI."""

from pharmwatch.cli import main

main()
