"""The district PKI: root CA, issuing CA, time-stamping certificate, device certificates, CRLs.

Guarantees:
- Everything on disk lives in one directory (`PkiLayout`); CA and TSA keys are stored only
  encrypted with the operator's passphrase (PKCS#8, best available encryption).
- Every key and signature follows Circular 15/2025/TT-BKHCN: ECDSA on P-256 or P-384 (or RSA
  ≥ 2048 for keys we are handed), SHA-256 or stronger. `check_public_key` refuses the rest.
- Device certificates carry digitalSignature + nonRepudiation, a CRL distribution point (hard-fail
  revocation checking does nothing without one) and the officer's name in Vietnamese (NFC).
- The district's seal certificate (an organisation certificate naming the district authority,
  same profile as a device's) is created with the PKI, or on first use for a directory made
  before it existed; its key is stored encrypted like the CA keys.
- A CRL's validity (`thisUpdate`..`nextUpdate`) covers the longest offline period, so a device
  holding it can validate offline; the CRLs are also published as a JSON reference document.
- Nothing already stored is overwritten: `init_pki` refuses a directory that holds a PKI, and
  state files are replaced atomically.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import os
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import msgspec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signing.errors import PkiError, ProfileError, SecretError

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

SCHEMA_VERSION = 1
REFERENCE_DOC_ID = "reference:district-pki"
DEFAULT_OFFLINE_DAYS = 30
ROOT_CRL_DAYS = 365
DEVICE_VALIDITY_DAYS = 730
SEAL_VALIDITY_DAYS = 3 * 365
# Certificates start slightly in the past so a device whose clock lags still accepts them.
BACKDATE = dt.timedelta(minutes=10)

REVOCATION_REASONS: dict[str, x509.ReasonFlags] = {
    "unspecified": x509.ReasonFlags.unspecified,
    "keyCompromise": x509.ReasonFlags.key_compromise,
    "affiliationChanged": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessationOfOperation": x509.ReasonFlags.cessation_of_operation,
}

_ALLOWED_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)
# X.509 limits O and CN to 64 characters; "… — Issuing CA" must still fit.
_MAX_NAME_BYTES = 48
_STRONG_HASHES = {"sha256", "sha384", "sha512", "sha3-256", "sha3-384", "sha3-512"}


# ---------------------------------------------------------------------------------------------
# Stored state


class IssuedCertificate(msgspec.Struct, frozen=True):
    serial: str  # upper-case hex
    kind: Literal["device", "tsa", "seal"]
    subject: str
    not_after: str
    officer_id: str = ""
    device_id: str = ""


class Revocation(msgspec.Struct, frozen=True):
    serial: str
    reason: str
    revoked_at: str


class PkiState(msgspec.Struct):
    name: str
    crl_url: str
    offline_days: int
    crl_number: int = 0
    issued: list[IssuedCertificate] = msgspec.field(default_factory=list)
    revoked: list[Revocation] = msgspec.field(default_factory=list)
    schema: int = SCHEMA_VERSION


class PkiLayout:
    """Where each file of a district PKI lives inside its directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.state = directory / "state.json"
        self.root_cert = directory / "root.pem"
        self.root_key = directory / "root.key"
        self.issuing_cert = directory / "issuing.pem"
        self.issuing_key = directory / "issuing.key"
        self.tsa_cert = directory / "tsa.pem"
        self.tsa_key = directory / "tsa.key"
        self.seal_cert = directory / "seal.pem"
        self.seal_key = directory / "seal.key"
        self.root_crl = directory / "root.crl"
        self.issuing_crl = directory / "issuing.crl"
        self.reference = directory / "crl-reference.json"
        self.devices = directory / "devices"
        self.trust = directory / "trust"  # extra roots (*.pem) and CRLs (*.crl), e.g. citizens' CAs


@dataclass(frozen=True)
class TrustAnchors:
    """What a validator needs: trusted roots, intermediates and CRLs, all DER."""

    roots: tuple[bytes, ...]
    intermediates: tuple[bytes, ...]
    crls: tuple[bytes, ...]

    @classmethod
    def from_reference(cls, document: dict[str, Any]) -> TrustAnchors:
        """Build from the published reference document (what a device holds)."""
        try:
            if document.get("kind") != "district-pki":
                raise PkiError("not a district PKI reference document (kind != district-pki)")
            return cls(
                roots=(_b64(document["root_certificate"]),),
                intermediates=(_b64(document["issuing_certificate"]),),
                crls=tuple(_b64(item) for item in document["crls"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PkiError(f"damaged PKI reference document: {exc}") from exc


@dataclass(frozen=True)
class DeviceCertificate:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey | None  # None when issued from a CSR

    @property
    def serial_hex(self) -> str:
        return format_serial(self.certificate.serial_number)


# ---------------------------------------------------------------------------------------------
# Profile checks (Circular 15/2025)


def check_public_key(key: object) -> None:
    """Raise ProfileError unless `key` is ECDSA ≥ 256 bits or RSA ≥ 2048 bits."""
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, _ALLOWED_CURVES):
            raise ProfileError(f"elliptic curve {key.curve.name} is not allowed (P-256 or larger)")
        return
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise ProfileError(f"RSA key of {key.key_size} bits is too short (at least 2048)")
        return
    raise ProfileError(f"key type {type(key).__name__} is not allowed (ECDSA or RSA-PSS only)")


def certificate_profile_problems(cert: x509.Certificate) -> list[str]:
    """What in `cert` falls outside the profile; an empty list when it conforms."""
    problems: list[str] = []
    try:
        check_public_key(cert.public_key())
    except ProfileError as exc:
        problems.append(str(exc))
    algorithm = cert.signature_hash_algorithm
    if algorithm is None or algorithm.name not in _STRONG_HASHES:
        name = "none" if algorithm is None else algorithm.name
        problems.append(f"certificate signed with hash {name} (SHA-256 or stronger required)")
    return problems


# ---------------------------------------------------------------------------------------------
# Small helpers


def format_serial(serial: int) -> str:
    return format(serial, "X")


def parse_serial(text: str) -> int:
    """Parse a serial number written in hex, with or without `0x` or colons."""
    cleaned = text.strip().replace(":", "").removeprefix("0x").removeprefix("0X")
    if not cleaned or not re.fullmatch(r"[0-9A-Fa-f]+", cleaned):
        raise PkiError(f"{text!r} is not a certificate serial number in hexadecimal")
    return int(cleaned, 16)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _nfc(text: str, what: str) -> str:
    value = unicodedata.normalize("NFC", text).strip()
    if not value:
        raise PkiError(f"{what} must not be empty")
    return value


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _encrypted_pem(key: PrivateKey, passphrase: bytes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )


def _load_key(path: Path, passphrase: bytes) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=passphrase)
    except FileNotFoundError as exc:
        raise PkiError(f"missing key file {path}") from exc
    except (ValueError, TypeError) as exc:
        raise SecretError(f"the passphrase does not open {path.name}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise PkiError(f"{path.name} holds an unsupported key type")
    return key


def _load_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError as exc:
        raise PkiError(f"missing certificate {path}") from exc
    except ValueError as exc:
        raise PkiError(f"damaged certificate {path}: {exc}") from exc


def _hash_for(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def _crl_dp(url: str) -> x509.CRLDistributionPoints:
    point = x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)
    return x509.CRLDistributionPoints([point])


def _builder(
    subject: x509.Name,
    issuer: x509.Certificate | None,
    public_key: Any,
    issuer_key: PrivateKey,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.CertificateBuilder:
    issuer_name = subject if issuer is None else issuer.subject
    issuer_public = issuer_key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public), critical=False
        )
    )


def _key_usage(*, sign: bool = False, nonrep: bool = False, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=nonrep,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def seal_authority(district: str) -> str:
    """The authority a district's seal names: its People's Committee."""
    return f"Ủy ban nhân dân {district}"


def seal_subject(district: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, district),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Con dấu điện tử"),
            x509.NameAttribute(NameOID.COMMON_NAME, seal_authority(district)),
        ]
    )


def _org_name(district: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, district),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


# ---------------------------------------------------------------------------------------------
# The PKI


class DistrictPki:
    """A district PKI directory opened for reading; CA operations need the passphrase."""

    def __init__(self, layout: PkiLayout, state: PkiState) -> None:
        self.layout = layout
        self.state = state
        self._lock_depth = 0
        self.root_cert = _load_cert(layout.root_cert)
        self.issuing_cert = _load_cert(layout.issuing_cert)
        self.tsa_cert = _load_cert(layout.tsa_cert)

    @classmethod
    def open(cls, directory: Path) -> DistrictPki:
        layout = PkiLayout(Path(directory))
        try:
            raw = layout.state.read_bytes()
        except FileNotFoundError as exc:
            raise PkiError(f"{directory} holds no district PKI (run `doorstep pki init`)") from exc
        try:
            state = msgspec.json.decode(raw, type=PkiState)
        except msgspec.DecodeError as exc:
            raise PkiError(f"damaged PKI state {layout.state}: {exc}") from exc
        if state.schema != SCHEMA_VERSION:
            raise PkiError(f"PKI state schema {state.schema} is not supported")
        return cls(layout, state)

    @contextmanager
    def _mutation(self) -> Iterator[None]:
        """Hold the directory's lock and start from the state on disk, so that two processes
        (or two handles) changing the PKI one after the other never lose each other's work."""
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        with open(self.layout.directory / ".lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.state = msgspec.json.decode(self.layout.state.read_bytes(), type=PkiState)
            self._lock_depth = 1
            try:
                yield
            finally:
                self._lock_depth = 0

    # -- reading ---------------------------------------------------------------------------

    def crls(self) -> tuple[bytes, bytes]:
        return self.layout.root_crl.read_bytes(), self.layout.issuing_crl.read_bytes()

    def trust(self) -> TrustAnchors:
        """District roots and CRLs, plus any extra roots/CRLs an administrator put in trust/."""
        der = serialization.Encoding.DER
        roots = [self.root_cert.public_bytes(der)]
        intermediates = [self.issuing_cert.public_bytes(der)]
        crls = list(self.crls())
        trust_dir = self.layout.trust
        if trust_dir.is_dir():
            for path in sorted(trust_dir.iterdir()):
                if path.suffix == ".pem":
                    cert = _load_cert(path)
                    # Self-issued certificates are anchors; the others only help build paths.
                    kind = roots if cert.issuer == cert.subject else intermediates
                    kind.append(cert.public_bytes(der))
                elif path.suffix == ".crl":
                    crls.append(path.read_bytes())
        return TrustAnchors(tuple(roots), tuple(intermediates), tuple(crls))

    def reference_document(self) -> dict[str, Any]:
        """The CRLs and CA certificates as a JSON document that every device syncs."""
        root_crl, issuing_crl = self.crls()
        crl = x509.load_der_x509_crl(issuing_crl)
        der = serialization.Encoding.DER

        def enc(data: bytes) -> str:
            return base64.b64encode(data).decode("ascii")

        next_update = crl.next_update_utc
        return {
            "_id": REFERENCE_DOC_ID,
            "type": "reference",
            "kind": "district-pki",
            "schema": SCHEMA_VERSION,
            "district": self.state.name,
            "crl_number": self.state.crl_number,
            "this_update": crl.last_update_utc.isoformat(),
            "next_update": next_update.isoformat() if next_update else None,
            "root_certificate": enc(self.root_cert.public_bytes(der)),
            "issuing_certificate": enc(self.issuing_cert.public_bytes(der)),
            "tsa_certificate": enc(self.tsa_cert.public_bytes(der)),
            "crls": [enc(root_crl), enc(issuing_crl)],
            "revoked": [msgspec.to_builtins(item) for item in self.state.revoked],
        }

    def find_issued(self, serial: int) -> IssuedCertificate | None:
        wanted = format_serial(serial)
        return next((item for item in self.state.issued if item.serial == wanted), None)

    # -- CA operations ---------------------------------------------------------------------

    def tsa_key(self, passphrase: bytes) -> PrivateKey:
        return _load_key(self.layout.tsa_key, passphrase)

    def seal(self, passphrase: bytes) -> tuple[x509.Certificate, PrivateKey]:
        """The district's seal certificate and key, created on first use if this directory
        predates it (so existing data directories keep working)."""
        if not self.layout.seal_cert.exists():
            with self._mutation():
                if not self.layout.seal_cert.exists():  # another process may have made it
                    self._issue_seal(passphrase, _now())
        return _load_cert(self.layout.seal_cert), _load_key(self.layout.seal_key, passphrase)

    def _issue_seal(self, passphrase: bytes, now: dt.datetime) -> x509.Certificate:
        issuing_key = _load_key(self.layout.issuing_key, passphrase)
        key = ec.generate_private_key(ec.SECP256R1())
        start = now - BACKDATE
        cert = (
            _builder(seal_subject(self.state.name), self.issuing_cert, key.public_key(),
                     issuing_key, start, start + dt.timedelta(days=SEAL_VALIDITY_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(sign=True, nonrep=True), critical=True)
            .add_extension(_crl_dp(self.state.crl_url), critical=False)
            .sign(issuing_key, _hash_for(issuing_key))
        )
        # The key first: a certificate on disk without its key would never be replaced.
        _write_atomic(self.layout.seal_key, _encrypted_pem(key, passphrase))
        _write_atomic(self.layout.seal_cert, cert.public_bytes(serialization.Encoding.PEM))
        self.state.issued.append(IssuedCertificate(
            serial=format_serial(cert.serial_number), kind="seal",
            subject=cert.subject.rfc4514_string(), not_after=cert.not_valid_after_utc.isoformat(),
        ))
        self._save_state()
        return cert

    def issue_device(
        self,
        passphrase: bytes,
        *,
        officer_id: str,
        officer_name: str,
        device_id: str,
        csr_pem: bytes | None = None,
        not_before: dt.datetime | None = None,
        validity: dt.timedelta = dt.timedelta(days=DEVICE_VALIDITY_DAYS),
        key_usage: x509.KeyUsage | None = None,
    ) -> DeviceCertificate:
        """Issue an officer device certificate, for a CSR's key or for a new P-256 key."""
        officer_id = _nfc(officer_id, "officer id")
        officer_name = _nfc(officer_name, "officer name")
        device_id = _nfc(device_id, "device id")
        with self._mutation():
            return self._issue_device(passphrase, officer_id, officer_name, device_id, csr_pem,
                                      not_before, validity, key_usage)

    def _issue_device(
        self,
        passphrase: bytes,
        officer_id: str,
        officer_name: str,
        device_id: str,
        csr_pem: bytes | None,
        not_before: dt.datetime | None,
        validity: dt.timedelta,
        key_usage: x509.KeyUsage | None,
    ) -> DeviceCertificate:
        issuing_key = _load_key(self.layout.issuing_key, passphrase)
        new_key: ec.EllipticCurvePrivateKey | None = None
        if csr_pem is None:
            new_key = ec.generate_private_key(ec.SECP256R1())
            public_key: Any = new_key.public_key()
        else:
            public_key = _public_key_from_csr(csr_pem)
        start = (not_before or _now()) - BACKDATE
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.state.name),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"Thiết bị {device_id}"),
                x509.NameAttribute(NameOID.USER_ID, officer_id),
                x509.NameAttribute(NameOID.COMMON_NAME, officer_name),
            ]
        )
        cert = (
            _builder(subject, self.issuing_cert, public_key, issuing_key, start, start + validity)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(key_usage or _key_usage(sign=True, nonrep=True), critical=True)
            .add_extension(_crl_dp(self.state.crl_url), critical=False)
            .sign(issuing_key, _hash_for(issuing_key))
        )
        self._record_issued(
            IssuedCertificate(
                serial=format_serial(cert.serial_number),
                kind="device",
                subject=cert.subject.rfc4514_string(),
                not_after=cert.not_valid_after_utc.isoformat(),
                officer_id=officer_id,
                device_id=device_id,
            ),
            cert,
        )
        return DeviceCertificate(cert, new_key)

    def revoke(
        self, passphrase: bytes, serial: int, reason: str, at: dt.datetime | None = None
    ) -> Revocation:
        """Revoke a certificate this PKI issued and publish fresh CRLs."""
        with self._mutation():
            return self._revoke(passphrase, serial, reason, at)

    def _revoke(
        self, passphrase: bytes, serial: int, reason: str, at: dt.datetime | None
    ) -> Revocation:
        if reason not in REVOCATION_REASONS:
            raise PkiError(f"unknown revocation reason {reason!r}")
        issued = self.find_issued(serial)
        if issued is None:
            raise PkiError(f"no certificate with serial {format_serial(serial)} was issued here")
        if any(item.serial == issued.serial for item in self.state.revoked):
            raise PkiError(f"certificate {issued.serial} is already revoked")
        # Check the passphrase before recording anything.
        _load_key(self.layout.issuing_key, passphrase)
        revocation = Revocation(issued.serial, reason, (at or _now()).isoformat())
        self.state.revoked.append(revocation)
        self.publish_crls(passphrase)
        return revocation

    def publish_crls(self, passphrase: bytes, now: dt.datetime | None = None) -> None:
        """Sign fresh root and issuing CRLs and rewrite the reference document."""
        with self._mutation():
            self._publish_crls(passphrase, now or _now())

    def _publish_crls(self, passphrase: bytes, now: dt.datetime) -> None:
        root_key = _load_key(self.layout.root_key, passphrase)
        issuing_key = _load_key(self.layout.issuing_key, passphrase)
        self.state.crl_number += 1
        root_crl = _build_crl(
            self.root_cert, root_key, [], now, dt.timedelta(days=ROOT_CRL_DAYS),
            self.state.crl_number,
        )
        issuing_crl = _build_crl(
            self.issuing_cert, issuing_key, self.state.revoked, now,
            dt.timedelta(days=self.state.offline_days), self.state.crl_number,
        )
        _write_atomic(self.layout.root_crl, root_crl)
        _write_atomic(self.layout.issuing_crl, issuing_crl)
        self._save_state()
        _write_atomic(self.layout.reference, msgspec.json.encode(self.reference_document()))

    # -- persistence -----------------------------------------------------------------------

    def _record_issued(self, record: IssuedCertificate, cert: x509.Certificate) -> None:
        self.layout.devices.mkdir(exist_ok=True)
        pem = cert.public_bytes(serialization.Encoding.PEM)
        _write_atomic(self.layout.devices / f"{record.serial}.pem", pem)
        self.state.issued.append(record)
        self._save_state()

    def _save_state(self) -> None:
        _write_atomic(self.layout.state, msgspec.json.format(msgspec.json.encode(self.state)))


def _public_key_from_csr(csr_pem: bytes) -> Any:
    try:
        csr = x509.load_pem_x509_csr(csr_pem)
    except ValueError:
        try:
            csr = x509.load_der_x509_csr(csr_pem)
        except ValueError as exc:
            raise PkiError("the CSR is neither PEM nor DER PKCS#10") from exc
    if not csr.is_signature_valid:
        raise PkiError("the CSR's signature does not verify (was it altered?)")
    key = csr.public_key()
    check_public_key(key)
    return key


def _build_crl(
    issuer: x509.Certificate,
    key: PrivateKey,
    revoked: list[Revocation],
    now: dt.datetime,
    validity: dt.timedelta,
    number: int,
) -> bytes:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(now - BACKDATE)
        .next_update(now + validity)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
    )
    for item in revoked:
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(int(item.serial, 16))
            .revocation_date(dt.datetime.fromisoformat(item.revoked_at))
            .add_extension(x509.CRLReason(REVOCATION_REASONS[item.reason]), critical=False)
            .build()
        )
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(key, _hash_for(key)).public_bytes(serialization.Encoding.DER)


def init_pki(
    directory: Path,
    name: str,
    passphrase: bytes,
    *,
    offline_days: int = DEFAULT_OFFLINE_DAYS,
    crl_url: str | None = None,
    now: dt.datetime | None = None,
) -> DistrictPki:
    """Create root CA, issuing CA, TSA certificate and empty CRLs in a new directory."""
    name = _nfc(name, "district name")
    if len(name.encode("utf-8")) > _MAX_NAME_BYTES:
        raise PkiError(f"the district name is too long for a certificate ({_MAX_NAME_BYTES} bytes "
                       "of UTF-8 at most)")
    if len(passphrase) < 8:
        raise SecretError("the passphrase must be at least 8 bytes long")
    if offline_days < 1:
        raise PkiError("the offline period must be at least one day")
    layout = PkiLayout(Path(directory))
    if layout.state.exists():
        raise PkiError(f"{directory} already holds a district PKI; refusing to overwrite it")
    layout.directory.mkdir(parents=True, exist_ok=True)
    now = (now or _now()) - BACKDATE
    slug = re.sub(r"[^a-z0-9]+", "-", unicodedata.normalize("NFKD", name).encode(
        "ascii", "ignore").decode().lower()).strip("-") or "district"
    base_url = crl_url or f"http://pki.doorstep.invalid/{slug}"
    year = dt.timedelta(days=365)

    root_key = ec.generate_private_key(ec.SECP384R1())
    root_name = _org_name(name, f"{name} — Root CA")
    root = (
        _builder(root_name, None, root_key.public_key(), root_key, now, now + 20 * year)
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .sign(root_key, hashes.SHA384())
    )
    issuing_key = ec.generate_private_key(ec.SECP256R1())
    issuing = (
        _builder(_org_name(name, f"{name} — Issuing CA"), root, issuing_key.public_key(),
                 root_key, now, now + 10 * year)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(_crl_dp(f"{base_url}/root.crl"), critical=False)
        .sign(root_key, hashes.SHA384())
    )
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    tsa = (
        _builder(_org_name(name, f"{name} — TSA"), issuing, tsa_key.public_key(),
                 issuing_key, now, now + 5 * year)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(_crl_dp(f"{base_url}/issuing.crl"), critical=False)
        .sign(issuing_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    layout.root_key.write_bytes(_encrypted_pem(root_key, passphrase))
    layout.issuing_key.write_bytes(_encrypted_pem(issuing_key, passphrase))
    layout.tsa_key.write_bytes(_encrypted_pem(tsa_key, passphrase))
    layout.root_cert.write_bytes(root.public_bytes(pem))
    layout.issuing_cert.write_bytes(issuing.public_bytes(pem))
    layout.tsa_cert.write_bytes(tsa.public_bytes(pem))
    state = PkiState(name=name, crl_url=f"{base_url}/issuing.crl", offline_days=offline_days)
    state.issued.append(
        IssuedCertificate(
            serial=format_serial(tsa.serial_number), kind="tsa",
            subject=tsa.subject.rfc4514_string(), not_after=tsa.not_valid_after_utc.isoformat(),
        )
    )
    _write_atomic(layout.state, msgspec.json.format(msgspec.json.encode(state)))
    pki = DistrictPki(layout, state)
    pki._issue_seal(passphrase, now + BACKDATE)
    pki.publish_crls(passphrase, now=now + BACKDATE)
    return pki


def pkcs12_bundle(
    cert: x509.Certificate,
    key: PrivateKey,
    chain: list[x509.Certificate],
    password: bytes,
    friendly_name: str = "doorstep",
) -> bytes:
    """A PKCS#12 file with key, certificate and chain, AES-256 + SHA-256 protected."""
    if not password:
        raise SecretError("a PKCS#12 file needs a non-empty password")
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(50_000)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(password)
    )
    return pkcs12.serialize_key_and_certificates(
        friendly_name.encode("utf-8"), key, cert, chain, encryption
    )

