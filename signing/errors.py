"""Errors raised by `signing`: one base class, subclasses naming what went wrong.

Validation outcomes are not errors: a bad signature is reported in a `DocumentReport`
(see `signing.verify`). Exceptions here mean an operation could not be carried out.
"""

from __future__ import annotations


class SigningError(Exception):
    """Base class for every error the signing package raises."""


class PkiError(SigningError):
    """The district PKI directory is missing, damaged, or refuses the operation."""


class ProfileError(PkiError):
    """A key or algorithm outside the profile of Circular 15/2025/TT-BKHCN."""


class SecretError(SigningError):
    """A passphrase or PIN is missing or does not open the key it protects."""


class CredentialError(SigningError):
    """A signer's certificate or key (PKCS#12 file, PKCS#11 token) cannot be used."""


class RenderError(SigningError):
    """The declaration or receipt cannot be rendered from the given content."""


class SignatureError(SigningError):
    """A signature could not be applied to the document."""


class TimestampError(SigningError):
    """The time-stamping authority could not produce a token."""
