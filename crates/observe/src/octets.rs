//! The one way of showing an octet string as hex: MAC addresses, chassis ids and binary
//! values in SNMP answers and traps (`00:1b:21:3c:4d:5e`).

use std::fmt::Write;

/// `bytes` as lower-case hex pairs joined by `sep` (`hex(&[0, 0x1b, 0xff], ":")` is
/// `00:1b:ff`); empty for no bytes.
pub fn hex(bytes: &[u8], sep: &str) -> String {
    let mut out = String::with_capacity(bytes.len() * (2 + sep.len()));
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::hex;

    #[test]
    fn pairs_lower_case_with_the_separator_between() {
        assert_eq!(hex(&[0x00, 0x1b, 0xff], ":"), "00:1b:ff");
        assert_eq!(hex(&[0xAB, 0x0c], "-"), "ab-0c");
        assert_eq!(
            hex(&[0x02, 0x00, 0x5e, 0x10, 0x00, 0x0a], ""),
            "02005e10000a"
        );
        assert_eq!(hex(&[7], ":"), "07");
        assert_eq!(hex(&[], ":"), "");
    }

    /// The helper replaced `iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(sep)`
    /// in the SNMP, LLDP and trap decoders: same text for every byte and length.
    #[test]
    fn same_text_as_the_joined_format_it_replaced() {
        let all: Vec<u8> = (0..=255).collect();
        for len in [0, 1, 2, 6, 8, 256] {
            let b = &all[..len.min(all.len())];
            let old = b
                .iter()
                .map(|x| format!("{x:02x}"))
                .collect::<Vec<_>>()
                .join(":");
            assert_eq!(hex(b, ":"), old);
        }
    }
}
