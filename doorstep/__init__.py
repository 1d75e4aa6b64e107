"""Doorstep: at-home one-stop service — the `doorstep` command and the distribution's version."""

__version__ = "0.1.0"
