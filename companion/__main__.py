"""`python -m companion` runs the command line (the systemd unit may use it)."""

from .cli import entry_point

entry_point()
