"""Doorstep's server: the back-office REST API, the sync gateway, auth and `doorstep serve`."""
