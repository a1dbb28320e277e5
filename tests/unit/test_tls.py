"""The certificate `exaop serve` makes: a local CA whose key is discarded, and a server leaf.

tls/ca.pem: the CA (CA:TRUE pathlen 0 critical, keyCertSign + cRLSign critical, SKI).
tls/cert.pem: the leaf (CA:FALSE critical, digitalSignature critical, serverAuth, the
names, SKI, AKI of the CA) followed by the CA. tls/key.pem: the leaf's key, 0600.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from exaop.tls import RENEW_BEFORE, ensure_self_signed, issue, server_names


def certs(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


def ext(cert: x509.Certificate, kind: type) -> x509.Extension:  # type: ignore[type-arg]
    return cert.extensions.get_extension_for_class(kind)


def fingerprints(d: Path) -> list[str]:
    return [c.fingerprint(hashes.SHA256()).hex() for c in certs(d / "cert.pem")]


def test_the_ca(tmp_path: Path) -> None:
    ensure_self_signed(tmp_path, "127.0.0.1")
    [ca] = certs(tmp_path / "ca.pem")
    bc = ext(ca, x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    ku = ext(ca, x509.KeyUsage)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign
    assert not ku.value.digital_signature and not ku.value.key_encipherment
    ext(ca, x509.SubjectKeyIdentifier)
    assert ca.subject == ca.issuer
    ca.verify_directly_issued_by(ca)


def test_the_leaf_and_the_chain(tmp_path: Path) -> None:
    cert_path, key_path = ensure_self_signed(tmp_path, "127.0.0.1")
    assert (cert_path, key_path) == (tmp_path / "cert.pem", tmp_path / "key.pem")
    [ca] = certs(tmp_path / "ca.pem")
    leaf, chained_ca = certs(cert_path)  # leaf first, then the CA: the chain the server presents
    assert chained_ca == ca
    leaf.verify_directly_issued_by(ca)
    assert leaf.issuer == ca.subject != leaf.subject
    bc = ext(leaf, x509.BasicConstraints)
    assert bc.critical and not bc.value.ca
    ku = ext(leaf, x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
    assert list(ext(leaf, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    san = ext(leaf, x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    assert ipaddress.ip_address("::1") in san.get_values_for_type(x509.IPAddress)
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    ski = ext(leaf, x509.SubjectKeyIdentifier).value
    assert ski.digest == x509.SubjectKeyIdentifier.from_public_key(leaf.public_key()).digest
    aki = ext(leaf, x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ext(ca, x509.SubjectKeyIdentifier).value.digest
    key = serialization.load_pem_private_key(key_path.read_bytes(), None)
    assert key.public_key() == leaf.public_key()
    assert leaf.not_valid_after_utc <= ca.not_valid_after_utc


def test_no_ca_key_is_kept_and_everything_is_private(tmp_path: Path) -> None:
    d = tmp_path / "tls"
    ensure_self_signed(d, "127.0.0.1")
    assert sorted(p.name for p in d.iterdir()) == ["ca.pem", "cert.pem", "key.pem"]
    assert b"PRIVATE KEY" not in (d / "ca.pem").read_bytes() + (d / "cert.pem").read_bytes()
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in d.iterdir()} == dict.fromkeys(
        ["ca.pem", "cert.pem", "key.pem"], 0o600
    )


def test_kept_while_good(tmp_path: Path) -> None:
    ensure_self_signed(tmp_path, "127.0.0.1")
    before = fingerprints(tmp_path)
    ensure_self_signed(tmp_path, "localhost")  # named already
    assert fingerprints(tmp_path) == before


def test_reissued_for_a_new_name(tmp_path: Path) -> None:
    ensure_self_signed(tmp_path, "127.0.0.1")
    before = fingerprints(tmp_path)
    ensure_self_signed(tmp_path, "exaop.example")
    after = fingerprints(tmp_path)
    assert set(after).isdisjoint(before)  # a new leaf and a new CA: the old CA key is gone
    san = ext(certs(tmp_path / "cert.pem")[0], x509.SubjectAlternativeName).value
    assert "exaop.example" in san.get_values_for_type(x509.DNSName)


def test_reissued_within_30_days_of_expiry(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    issue(tmp_path, server_names("127.0.0.1"), now=now, days=int(RENEW_BEFORE.days) + 5)
    before = fingerprints(tmp_path)
    ensure_self_signed(tmp_path, "127.0.0.1")
    assert fingerprints(tmp_path) == before  # 35 days left: kept
    issue(tmp_path, server_names("127.0.0.1"), now=now, days=int(RENEW_BEFORE.days) - 1)
    before = fingerprints(tmp_path)
    ensure_self_signed(tmp_path, "127.0.0.1")
    after = fingerprints(tmp_path)
    assert after != before
    assert certs(tmp_path / "cert.pem")[0].not_valid_after_utc > now + dt.timedelta(days=800)


def old_style(directory: Path, names: list[str]) -> None:
    """What exaop wrote before: one self-signed CA:TRUE certificate as the leaf, no ca.pem."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = dt.datetime.now(dt.UTC)
    san = [x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() or ":" in n else x509.DNSName(n) for n in names]
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + dt.timedelta(days=800))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def test_an_old_style_certificate_is_reissued(tmp_path: Path) -> None:
    old_style(tmp_path, server_names("127.0.0.1"))
    old = fingerprints(tmp_path)
    ensure_self_signed(tmp_path, "127.0.0.1")
    leaf, ca = certs(tmp_path / "cert.pem")
    assert not ext(leaf, x509.BasicConstraints).value.ca
    assert fingerprints(tmp_path) != old
    assert certs(tmp_path / "ca.pem") == [ca]


def test_a_missing_ca_file_or_a_foreign_key_means_a_new_certificate(tmp_path: Path) -> None:
    ensure_self_signed(tmp_path, "127.0.0.1")
    before = fingerprints(tmp_path)
    (tmp_path / "ca.pem").unlink()
    ensure_self_signed(tmp_path, "127.0.0.1")
    assert fingerprints(tmp_path) != before and (tmp_path / "ca.pem").exists()
    before = fingerprints(tmp_path)
    other = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "key.pem").write_bytes(
        other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    ensure_self_signed(tmp_path, "127.0.0.1")
    assert fingerprints(tmp_path) != before


def test_long_host_names_fit_a_certificate(tmp_path: Path) -> None:
    host = "control-plane.prod.datacenter-west.example.com." + "x" * 30  # over X.509's 64 for a common name
    issue(tmp_path, [host, "localhost"])
    leaf, ca = certs(tmp_path / "cert.pem")
    assert ext(leaf, x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)[0] == host
    assert len(ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value) <= 64
