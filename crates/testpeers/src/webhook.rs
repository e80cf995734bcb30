//! faultline's signed webhook, as a receiver checks it: `X-Faultline-Signature:
//! sha256=<hex HMAC-SHA256(secret, exact body)>` and an `X-Faultline-Delivery` id.

use axum::http::HeaderMap;
use hmac::{KeyInit, Mac};

/// The problems a receiver sharing `secret` would find (empty = valid).
pub fn validate_signed(secret: &[u8], headers: &HeaderMap, raw: &[u8]) -> Vec<String> {
    let sig = headers
        .get("x-faultline-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(hex_sig) = sig.strip_prefix("sha256=") else {
        return vec![format!("signature header missing or malformed: {sig:?}")];
    };
    let Ok(bytes) = hex::decode(hex_sig) else {
        return vec!["signature not hex".into()];
    };
    let mut p = Vec::new();
    let verified = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).is_ok_and(|mut mac| {
        mac.update(raw);
        mac.verify_slice(&bytes).is_ok()
    });
    if !verified {
        p.push("signature does not verify".into());
    }
    if headers.get("x-faultline-delivery").is_none() {
        p.push("X-Faultline-Delivery missing".into());
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_case_2_verifies_and_a_changed_body_does_not() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut h = HeaderMap::new();
        h.insert(
            "x-faultline-signature",
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
                .parse()
                .unwrap(),
        );
        h.insert("x-faultline-delivery", "1-1".parse().unwrap());
        assert!(validate_signed(b"Jefe", &h, b"what do ya want for nothing?").is_empty());
        assert_eq!(
            validate_signed(b"Jefe", &h, b"what do ya want for nothing!"),
            ["signature does not verify"]
        );
    }
}
