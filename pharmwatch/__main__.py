"""`python -m pharmwatch` runs the CLI."""

from pharmwatch.cli import main

if __name__ == "__main__":  # a spawned crawl process imports this module again: it must not run the CLI
    main()
