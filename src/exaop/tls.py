"""A self-signed certificate for `exaop serve`, made once per state dir."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from exaop.store.files import private_dir, write_private


def _san_entry(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def ensure_self_signed(directory: Path, host: str) -> tuple[Path, Path]:
    """Return (cert, key) paths in ``directory``, creating them if missing or not for ``host``."""
    private_dir(directory)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    names = []
    wildcard = host in ("", "0.0.0.0", "::")
    # listening on every address: clients come by the machine's name
    machine = (socket.gethostname(), socket.getfqdn()) if wildcard else ()
    for n in (host, *machine, "localhost", "127.0.0.1", "::1"):
        if n and n not in names and n not in ("0.0.0.0", "::"):
            names.append(n)
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            have = {str(v) for v in san.get_values_for_type(x509.IPAddress)} | set(
                san.get_values_for_type(x509.DNSName)
            )
        except x509.ExtensionNotFound:
            have = set()
        if all(n in have for n in names) and cert.not_valid_after_utc > dt.datetime.now(dt.UTC):
            return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "exaop")])  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName([_san_entry(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    write_private(key_path, pem)  # 0600 from the start: never readable by others, not even briefly
    write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path
