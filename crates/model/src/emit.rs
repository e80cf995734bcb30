//! Writing topology YAML by hand (`faultline discover`, `faultline import`): scalars and
//! comments that load back exactly, whatever the names a device or a config file supplied.

use std::fmt::Write as _;

/// `s` as a YAML scalar: plain when that is safe (an identifier-like word that YAML reads as a
/// string), else a double-quoted string.
pub fn scalar(s: &str) -> String {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':'))
        && !s.ends_with(':')
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n" | "~"
        )
        && s.parse::<f64>().is_err();
    if plain { s.to_owned() } else { quoted(s) }
}

/// `s` as a JSON string that is also a YAML double-quoted scalar. JSON escapes C0 controls but
/// leaves DEL, C1, U+FFFE and U+FFFF raw, which YAML refuses even quoted; they are written as
/// `\uXXXX`, which both read alike.
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in serde_json::Value::from(s).to_string().chars() {
        if unprintable(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// `s` as the text of a one-line comment: line breaks and every character YAML does not allow
/// in a file become spaces.
pub fn comment_text(s: &str) -> String {
    s.chars()
        .map(|c| if unprintable(c) { ' ' } else { c })
        .collect()
}

/// Characters that cannot stand raw in a one-line YAML scalar or comment: control characters
/// (line breaks and tabs included), U+FFFE and U+FFFF.
fn unprintable(c: char) -> bool {
    c.is_control() || matches!(c, '\u{fffe}' | '\u{ffff}')
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn names_load_back_exactly() {
        for name in [
            "fw-a",
            "sw1:gi0/1",
            "ends:",
            "yes",
            "~",
            "1.5",
            "has space",
            "tab\there",
            "del\u{7f}c1\u{85}nonchar\u{fffe}\u{ffff}",
            "quote\"back\\slash",
            "",
        ] {
            let text = format!("k: {}\n", scalar(name));
            let v: BTreeMap<String, String> = serde_saphyr::from_str(&text)
                .unwrap_or_else(|e| panic!("{name:?} as {text:?}: {e}"));
            assert_eq!(v["k"], name, "{text:?}");
        }
    }

    #[test]
    fn comments_are_one_printable_line() {
        let text = format!("# {}\nk: 1\n", comment_text("a\nb\r\u{7f}\u{85}\u{fffe}c"));
        assert_eq!(text.lines().count(), 2);
        let v: BTreeMap<String, i64> = serde_saphyr::from_str(&text).expect("loads");
        assert_eq!(v["k"], 1);
    }
}
