//! A list of 30,000 commonly used passwords, for rejecting them at
//! registration.
//!
//! Source: the `PASSWORDS` frequency list in `src/frequency_lists.rs` of the
//! `zxcvbn` crate, version 3.1.1 (crates.io), written out one entry a line in
//! `data/common-passwords.txt`. That crate is MIT-licensed, copyright 2016
//! Joshua Holmer; its licence text is in `data/common-passwords.LICENSE`.
//! Every entry in the list is lower case.

use std::collections::HashSet;
use std::sync::LazyLock;

const LIST: &str = include_str!("../data/common-passwords.txt");

static PASSWORDS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| LIST.lines().filter(|line| !line.is_empty()).collect());

/// Returns whether `password` is on the list, ignoring case.
pub fn contains(password: &str) -> bool {
    PASSWORDS.contains(password.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_has_thirty_thousand_entries() {
        assert_eq!(PASSWORDS.len(), 30_000);
    }

    #[test]
    fn lookup_ignores_case() {
        assert!(contains("password"));
        assert!(contains("PassWord"));
        assert!(contains("QWERTY123"));
    }

    #[test]
    fn uncommon_password_is_not_listed() {
        assert!(!contains("correct horse battery staple 93"));
        assert!(!contains(""));
    }
}
