"""The TLS certificate of `exaop serve`: a local CA and a server certificate it signed.

Made once per state dir, in ``tls/``:

* ``ca.pem`` — the CA certificate clients trust (``--ca-file state/tls/ca.pem``). Its key
  signs the server certificate and is then discarded: nobody, not even this server, can
  sign anything else with it. Re-issuing means a new CA.
* ``cert.pem`` — the server certificate (names: the listening host, ``localhost``,
  ``127.0.0.1``, ``::1``) followed by the CA: the chain the server presents. It holds the
  CA too, so trusting this file also works.
* ``key.pem`` — the server certificate's key.

Everything is written 0600 in a 0700 dir. On start, a certificate in the old style (a
CA:TRUE server certificate), one missing a name, or one expiring within 30 days is
issued anew.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
import socket
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from exaop.store.files import private_dir, write_private

VALID_DAYS = 825  # the longest a TLS server certificate is accepted by every common client
RENEW_BEFORE = dt.timedelta(days=30)


def _san_entry(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def server_names(host: str) -> list[str]:
    """The names a client may use to reach a server listening on ``host``, most specific first."""
    names: list[str] = []
    wildcard = host in ("", "0.0.0.0", "::")
    # listening on every address: clients come by the machine's name
    machine = (socket.gethostname(), socket.getfqdn()) if wildcard else ()
    for n in (host, *machine, "localhost", "127.0.0.1", "::1"):
        if n and n not in names and n not in ("0.0.0.0", "::"):
            names.append(n)
    return names


def ensure_self_signed(directory: Path, host: str) -> tuple[Path, Path]:
    """Return (chain, key) paths in ``directory``, issuing a new CA and certificate when needed.

    Named for what it replaces: the chain ends in a self-signed CA made here.
    """
    private_dir(directory)
    names = server_names(host)
    if not _usable(directory, names, dt.datetime.now(dt.UTC)):
        issue(directory, names)
    return directory / "cert.pem", directory / "key.pem"


def _usable(directory: Path, names: list[str], now: dt.datetime) -> bool:
    """Whether the files in ``directory`` are a CA and a server certificate of this kind,
    for all of ``names``, with the matching key, valid for more than RENEW_BEFORE."""
    try:
        [ca] = x509.load_pem_x509_certificates((directory / "ca.pem").read_bytes())
        leaf, chained_ca = x509.load_pem_x509_certificates((directory / "cert.pem").read_bytes())
        key = serialization.load_pem_private_key((directory / "key.pem").read_bytes(), None)
        leaf.verify_directly_issued_by(ca)
        if chained_ca != ca or key.public_key() != leaf.public_key():
            return False
        if leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return False  # the old style: a CA certificate as the server's
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False  # missing, unreadable, not a chain of two, not signed by that CA...
    have = {str(v) for v in san.get_values_for_type(x509.IPAddress)} | set(san.get_values_for_type(x509.DNSName))
    ends = min(leaf.not_valid_after_utc, ca.not_valid_after_utc)
    return all(n in have for n in names) and ends - now > RENEW_BEFORE


def issue(directory: Path, names: list[str], now: dt.datetime | None = None, days: int = VALID_DAYS) -> None:
    """Make a new CA, sign a server certificate for ``names`` with it, discard the CA's key."""
    now = now or dt.datetime.now(dt.UTC)
    start, end = now - dt.timedelta(minutes=5), now + dt.timedelta(days=days)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"exaop local CA {secrets.token_hex(4)}"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "exaop")])  # fmt: skip
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key(), start, end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "exaop")])  # fmt: skip
    leaf = (
        _builder(subject, ca_name, key.public_key(), start, end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([_san_entry(n) for n in names]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    del ca_key  # never written anywhere: this CA signs nothing else, ever
    pem = serialization.Encoding.PEM
    # the key first, the files that name it after: a crash in between leaves an unusable set
    # (re-issued on the next start), never a certificate served with a key it does not match
    write_private(directory / "key.pem", key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))  # fmt: skip
    write_private(directory / "ca.pem", ca.public_bytes(pem))
    write_private(directory / "cert.pem", leaf.public_bytes(pem) + ca.public_bytes(pem))


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, start: dt.datetime, end: dt.datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
    )


def _key_usage(digital_signature: bool = False, key_cert_sign: bool = False, crl_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )
