//! `[api.tls]`: the listener's rustls configuration, loaded (and checked) when the collector is
//! prepared, so `run --check` reports a missing or mismatched certificate.

use std::sync::Arc;

use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{ServerConfig, crypto};

use crate::config::TlsSettings;

/// The server configuration of `tls`: HTTP/1.1 over TLS 1.2 or 1.3 with the aws-lc-rs provider
/// (the one the HTTP clients use). The error names the file, never key material.
pub(crate) fn load(tls: &TlsSettings) -> Result<Arc<ServerConfig>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&tls.cert_file)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| format!("cert_file {}: {e}", tls.cert_file.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "cert_file {}: no certificate in it",
            tls.cert_file.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key_file)
        .map_err(|e| format!("key_file {}: {e}", tls.key_file.display()))?;
    let provider = Arc::new(crypto::aws_lc_rs::default_provider());
    let mut cfg = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            format!(
                "cert_file {} / key_file {}: {e}",
                tls.cert_file.display(),
                tls.key_file.display()
            )
        })?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}
