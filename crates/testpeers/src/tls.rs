//! A throwaway private CA and the certificates it signs, made with the `openssl` command line
//! (installed in CI) in a temporary directory deleted on Drop: a server certificate for
//! `127.0.0.1` / `localhost` and a client certificate, for peers behind TLS or mutual TLS.

use std::path::{Path, PathBuf};

use crate::cmd;

/// The `openssl` binary (found by [`crate::have`]).
pub const BIN: &str = "openssl";

/// A CA with one server and one client certificate, all P-256, valid for two days.
pub struct TestCa {
    dir: tempfile::TempDir,
}

/// The extensions of each kind of certificate the CA signs.
const SERVER_EXT: &str = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n";
const CLIENT_EXT: &str = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n";

impl TestCa {
    /// Make the CA and its certificates. `None` (after a loud skip notice) if `openssl` is
    /// missing outside CI; under `CI` a missing binary fails.
    pub fn new() -> Option<TestCa> {
        if !crate::have(BIN) {
            return None;
        }
        let ca = TestCa {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        let p = |name: &str| ca.path(name).display().to_string();
        cmd::ok(&[
            BIN,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=faultline test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            &p("ca.key"),
            "-out",
            &p("ca.crt"),
        ]);
        ca.sign("server", "127.0.0.1", SERVER_EXT, 1);
        ca.sign("client", "faultline", CLIENT_EXT, 2);
        Some(ca)
    }

    /// A key and a certificate `{name}.key` / `{name}.crt` signed by the CA.
    fn sign(&self, name: &str, cn: &str, ext: &str, serial: u32) {
        let p = |f: String| self.path(&f).display().to_string();
        std::fs::write(self.path(&format!("{name}.ext")), ext).expect("write extensions");
        cmd::ok(&[
            BIN,
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            &format!("/CN={cn}"),
            "-keyout",
            &p(format!("{name}.key")),
            "-out",
            &p(format!("{name}.csr")),
        ]);
        cmd::ok(&[
            BIN,
            "x509",
            "-req",
            "-in",
            &p(format!("{name}.csr")),
            "-CA",
            &p("ca.crt".into()),
            "-CAkey",
            &p("ca.key".into()),
            "-set_serial",
            &serial.to_string(),
            "-days",
            "2",
            "-extfile",
            &p(format!("{name}.ext")),
            "-out",
            &p(format!("{name}.crt")),
        ]);
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The CA certificate (PEM): what a client trusts.
    pub fn ca_cert(&self) -> PathBuf {
        self.path("ca.crt")
    }
    /// The server certificate for `127.0.0.1` and `localhost`, and its key.
    pub fn server_cert(&self) -> PathBuf {
        self.path("server.crt")
    }
    pub fn server_key(&self) -> PathBuf {
        self.path("server.key")
    }
    /// A client certificate (`CN=faultline`, clientAuth), and its key.
    pub fn client_cert(&self) -> PathBuf {
        self.path("client.crt")
    }
    pub fn client_key(&self) -> PathBuf {
        self.path("client.key")
    }

    /// The directory holding everything (for extra files a test wants deleted with it).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}
