"""Doorstep's signing library: district PKI, declaration PDFs, PAdES signing and validation.

A plain synchronous library (pyHanko's sync wrappers call `asyncio.run`: from a server, call
it in a worker thread). It knows nothing of sync or HTTP. The public entry points:

- `signing.pki`: `init_pki`, `DistrictPki` (issue_device, revoke, publish_crls, trust,
  reference_document), `TrustAnchors`, `pkcs12_bundle`.
- `signing.forms`: `DeclarationContent` → `render_declaration`, `render_receipt`.
- `signing.pades`: `load_pkcs12`, `open_token` (PKCS#11), `sign_declaration`, `sign_receipt`.
- `signing.verify`: `verify_document` → `DocumentReport`; `ExpectedDossier`.
- `signing.ltv`: `add_long_term_validation` (B-LT then B-LTA), `renew_archive_timestamp`.
- `signing.tsa`: `TsaResponder` (RFC 3161), `DistrictTimeStamper` (pyHanko client).

Submodules are imported on demand, so `signing.pki` alone does not load pyHanko.
"""
