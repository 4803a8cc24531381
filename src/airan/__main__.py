"""``python -m airan``: the same command line as the ``airan`` script."""

from airan.cli import app

if __name__ == "__main__":
    app(prog_name="airan")
