"""A test CA and a server certificate it signs (for localhost and 127.0.0.1), made with the
`openssl` command in a new temporary directory: what the TLS tests serve and verify with.

    ca, cert, key = tls_certs.make()      # paths to PEM files
"""
import os
import subprocess
import tempfile


def make():
    d = tempfile.mkdtemp(prefix="tls-test-")
    path = lambda name: os.path.join(d, name)
    run = lambda *args: subprocess.run(["openssl", *args], check=True, capture_output=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "7",
        "-subj", "/CN=embedded-responder test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    run("req", *ec, "-keyout", path("key.pem"), "-out", path("server.csr"), "-subj", "/CN=localhost")
    with open(path("ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
        "-CAcreateserial", "-out", path("cert.pem"), "-days", "7", "-extfile", path("ext.cnf"))
    return path("ca.pem"), path("cert.pem"), path("key.pem")
