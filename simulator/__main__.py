"""``python -m simulator``: the same command line as ``cascade``."""

from simulator.cli import main

if __name__ == "__main__":
    main()
