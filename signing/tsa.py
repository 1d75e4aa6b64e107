"""The district time-stamping authority: an RFC 3161 responder and a pyHanko client for it.

Guarantees:
- `TsaResponder.respond` is pure computation: a TimeStampReq in, a TimeStampResp out, signed
  with the district TSA's key (ECDSA P-256 with SHA-256, per Circular 15/2025), with a fresh
  random serial, the request's nonce echoed, and an ESS signingCertificateV2 attribute.
- Requests with a digest weaker than SHA-256 are refused with status `rejection/badAlg`.
- `DistrictTimeStamper` is a pyHanko `TimeStamper` whose only I/O is the one overridable
  `async_request_tsa_response`: here it calls the responder in-process; a subclass (or pyHanko's
  `HTTPTimeStamper`) can put the network there.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from typing import Any, ClassVar

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.timestamps.api import TimeStamper

from signing.errors import TimestampError
from signing.pki import DistrictPki, PrivateKey, check_public_key

# An OID under the UUID arc (ITU-T X.667): valid without registration.
TSA_POLICY_OID = "2.25.203984529376213957432987640214409836521"
_DIGEST_SIZES: dict[str, int] = {"sha256": 32, "sha384": 48, "sha512": 64}
# pyHanko's helper is untyped; give it a type once.
_attribute: Callable[[str, object], Any] = simple_cms_attribute


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class TsaResponder:
    """Answers RFC 3161 requests with tokens signed by the district TSA certificate."""

    def __init__(
        self,
        certificate: x509.Certificate,
        key: PrivateKey,
        chain: tuple[x509.Certificate, ...] = (),
        clock: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        check_public_key(key)
        der = serialization.Encoding.DER
        self._cert = asn1_x509.Certificate.load(certificate.public_bytes(der))
        self._chain = [
            asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in chain
        ]
        self._key = key
        self._clock = clock
        # Constant for every token: built once (rebuilding them cost ~24 ms per token).
        self._constant_attrs = (
            _attribute("content_type", "tst_info").dump(),
            _attribute("signing_certificate_v2",
                       as_signing_certificate_v2(self._cert, "sha256")).dump(),
        )

    @classmethod
    def from_pki(cls, pki: DistrictPki, passphrase: bytes) -> TsaResponder:
        return cls(pki.tsa_cert, pki.tsa_key(passphrase), chain=(pki.issuing_cert,))

    def respond_der(self, request_der: bytes) -> bytes:
        """The same as `respond`, on DER bytes (what an HTTP endpoint receives)."""
        try:
            request = tsp.TimeStampReq.load(request_der)
            request.native  # noqa: B018 - force a full parse so garbage fails here
        except (ValueError, TypeError):
            return bytes(_failure("bad_data_format").dump())
        return bytes(self.respond(request).dump())

    def respond(self, request: tsp.TimeStampReq) -> tsp.TimeStampResp:
        imprint = request["message_imprint"]
        md_name = imprint["hash_algorithm"]["algorithm"].native
        if md_name not in _DIGEST_SIZES:
            return _failure("bad_alg")
        if len(imprint["hashed_message"].native) != _DIGEST_SIZES[md_name]:
            return _failure("bad_data_format")
        now = self._clock()
        info: dict[str, Any] = {
            "version": "v1",
            "policy": TSA_POLICY_OID,
            "message_imprint": imprint,
            "serial_number": secrets.randbits(127),
            "gen_time": now,
            "accuracy": {"seconds": 1},
            "tsa": asn1_x509.GeneralName(name="directory_name", value=self._cert.subject),
        }
        if request["nonce"].native is not None:
            info["nonce"] = request["nonce"]
        tst_info = tsp.TSTInfo(info).dump()
        token = cms.ContentInfo(
            {"content_type": "signed_data", "content": self._signed_data(tst_info, now)}
        )
        return tsp.TimeStampResp(
            {"status": tsp.PKIStatusInfo({"status": "granted"}), "time_stamp_token": token}
        )

    def _signed_data(self, tst_info: bytes, now: dt.datetime) -> cms.SignedData:
        digest = hashes.Hash(hashes.SHA256())
        digest.update(tst_info)
        signed_attrs = cms.CMSAttributes(
            [
                cms.CMSAttribute.load(self._constant_attrs[0]),
                _attribute("signing_time", cms.Time({"utc_time": core.UTCTime(now)})),
                cms.CMSAttribute.load(self._constant_attrs[1]),
                _attribute("message_digest", digest.finalize()),
            ]
        )
        signature, algorithm = self._sign(signed_attrs.dump())
        sha256 = algos.DigestAlgorithm({"algorithm": "sha256"})
        signer_info = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    {
                        "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                            {"issuer": self._cert.issuer, "serial_number": self._cert.serial_number}
                        )
                    }
                ),
                "digest_algorithm": sha256,
                "signature_algorithm": algorithm,
                "signed_attrs": signed_attrs,
                "signature": signature,
            }
        )
        return cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": [sha256],
                "encap_content_info": {
                    "content_type": "tst_info",
                    "content": cms.ParsableOctetString(tst_info),
                },
                "certificates": [self._cert, *self._chain],
                "signer_infos": [signer_info],
            }
        )

    def _sign(self, data: bytes) -> tuple[bytes, algos.SignedDigestAlgorithm]:
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            signature = self._key.sign(data, ec.ECDSA(hashes.SHA256()))
            return signature, algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
        if isinstance(self._key, rsa.RSAPrivateKey):
            # Circular 15/2025 requires PSS for RSA signatures.
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
            signature = self._key.sign(data, pss, hashes.SHA256())
            params = algos.RSASSAPSSParams(
                {
                    "hash_algorithm": {"algorithm": "sha256"},
                    "mask_gen_algorithm": {
                        "algorithm": "mgf1",
                        "parameters": {"algorithm": "sha256"},
                    },
                    "salt_length": 32,
                }
            )
            return signature, algos.SignedDigestAlgorithm(
                {"algorithm": "rsassa_pss", "parameters": params}
            )
        raise TimestampError("the TSA key is neither ECDSA nor RSA")  # pragma: no cover


class _FailureResp(core.Sequence):  # type: ignore[misc]
    # asn1crypto's TimeStampResp makes the token mandatory; RFC 3161 omits it on failure.
    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


def _failure(reason: str) -> Any:
    """A status-only response (same shape as TimeStampResp, token omitted)."""
    status = tsp.PKIStatusInfo({"status": "rejection", "fail_info": tsp.PKIFailureInfo({reason})})
    return _FailureResp({"status": status})


class DistrictTimeStamper(TimeStamper):
    """pyHanko's view of the district TSA; override `async_request_tsa_response` for HTTP."""

    def __init__(self, responder: TsaResponder) -> None:
        super().__init__(include_nonce=True)  # type: ignore[no-untyped-call]
        self.responder = responder

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return self.responder.respond(req)
