#!/usr/bin/env python3
"""An implementation of the Sealed Secrets hybrid format that shares no code with berth.

Written from bitnami-labs/sealed-secrets pkg/crypto/crypto.go using the `cryptography` package
(OpenSSL): u16be(len(rsa)) || RSA-OAEP(SHA-256, MGF1-SHA-256, label)(32-byte session key) ||
AES-256-GCM(session key, 12 zero bytes nonce, no AAD)(plaintext) || tag.

Also makes test keys and certificates (including expired ones). Test data only.

  oracle.py keygen OUTDIR [--bits N] [--expired] [--pkcs1]   writes key.pem, cert.pem, pub.pem
  oracle.py decrypt KEY.pem LABEL < base64                     prints the plaintext as hex
  oracle.py encrypt CERT.pem LABEL PLAINTEXT_FILE              prints base64
"""
import base64
import datetime
import os
import struct
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID


def oaep(label: bytes):
    return padding.OAEP(
        mgf=padding.MGF1(algorithm=hashes.SHA256()),
        algorithm=hashes.SHA256(),
        label=label or None,
    )


def keygen(outdir, bits=4096, expired=False, pkcs1=False):
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    now = datetime.datetime.now(datetime.timezone.utc)
    if expired:
        not_before, not_after = now - datetime.timedelta(days=400), now - datetime.timedelta(days=35)
    else:
        not_before, not_after = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=3650)
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sealed-secret"),
        x509.NameAttribute(NameOID.COMMON_NAME, "sealed-secret"),
    ])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    fmt = serialization.PrivateFormat.TraditionalOpenSSL if pkcs1 else serialization.PrivateFormat.PKCS8
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "key.pem"), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()))
    with open(os.path.join(outdir, "cert.pem"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(outdir, "pub.pem"), "wb") as f:
        f.write(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def decrypt(key_path, label, b64):
    with open(key_path, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    blob = base64.standard_b64decode(b64.strip())
    (rsa_len,) = struct.unpack(">H", blob[:2])
    rsa_ct, gcm_ct = blob[2:2 + rsa_len], blob[2 + rsa_len:]
    session_key = key.decrypt(rsa_ct, oaep(label))
    assert len(session_key) == 32, "session key must be 32 bytes (AES-256)"
    return AESGCM(session_key).decrypt(b"\0" * 12, gcm_ct, None)


def encrypt(cert_path, label, plaintext):
    with open(cert_path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    pub = cert.public_key()
    session_key = os.urandom(32)
    rsa_ct = pub.encrypt(session_key, oaep(label))
    gcm_ct = AESGCM(session_key).encrypt(b"\0" * 12, plaintext, None)
    return base64.standard_b64encode(struct.pack(">H", len(rsa_ct)) + rsa_ct + gcm_ct).decode()


def main(argv):
    cmd = argv[1]
    if cmd == "keygen":
        bits = int(argv[argv.index("--bits") + 1]) if "--bits" in argv else 4096
        keygen(argv[2], bits=bits, expired="--expired" in argv, pkcs1="--pkcs1" in argv)
    elif cmd == "decrypt":
        sys.stdout.write(decrypt(argv[2], argv[3].encode(), sys.stdin.read()).hex() + "\n")
    elif cmd == "encrypt":
        with open(argv[4], "rb") as f:
            sys.stdout.write(encrypt(argv[2], argv[3].encode(), f.read()) + "\n")
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
