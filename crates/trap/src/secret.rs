//! The redacting credential type (shared by the workspace) and the constant-time comparison
//! the receiver uses to check communities.

pub use faultline_secret::Secret;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_redacted_in_debug_and_display() {
        let s = Secret::new("hunter2-community");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{s}").contains("hunter2"));
        assert_eq!(s.expose(), "hunter2-community");
    }
}
