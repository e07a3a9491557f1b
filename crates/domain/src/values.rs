//! Value types that are valid by construction. Each `parse` normalises its
//! input once, so the rest of the code compares and stores only normal forms.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

use crate::common_passwords;
use crate::secret::Secret;

/// One invalid input field, in the form the HTTP layer lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The request field's name, for example `email`.
    pub field: &'static str,
    /// A stable snake_case code, for example `too_short`.
    pub code: &'static str,
    /// A sentence for people.
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            code,
            message: message.into(),
        }
    }
}

/// An email address, trimmed, NFKC-normalised and lower-cased, so that two
/// addresses that look the same compare equal.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// The reason a string is not an acceptable email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Email must not be empty.")]
    Empty,
    #[error("Email must be at most {max} characters.", max = Email::MAX_CHARS)]
    TooLong,
    #[error("Email must not contain control characters or spaces.")]
    ForbiddenCharacter,
    #[error("Email must look like name@example.com.")]
    Malformed,
}

impl EmailError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "required",
            Self::TooLong => "too_long",
            Self::ForbiddenCharacter => "forbidden_character",
            Self::Malformed => "invalid_email",
        }
    }
}

impl Email {
    /// The maximum address length SMTP can carry: the RFC 5321 path limit
    /// less the angle brackets. The database columns use the same bound.
    pub const MAX_CHARS: usize = 254;
    const MAX_LOCAL_CHARS: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let normalised = normalise_email(raw);

        if normalised.is_empty() {
            return Err(EmailError::Empty);
        }
        if normalised.chars().count() > Self::MAX_CHARS {
            return Err(EmailError::TooLong);
        }
        if normalised
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(EmailError::ForbiddenCharacter);
        }

        let Some((local, domain)) = normalised.split_once('@') else {
            return Err(EmailError::Malformed);
        };
        let local_ok = !local.is_empty() && local.chars().count() <= Self::MAX_LOCAL_CHARS;
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && domain.split('.').all(|label| !label.is_empty());
        if !local_ok || !domain_ok {
            return Err(EmailError::Malformed);
        }

        Ok(Self(normalised))
    }

    /// Normalises `raw` as [`Email::parse`] does, without validating it, so
    /// that input which is not an address still gets one canonical form.
    pub fn normalise(raw: &str) -> String {
        normalise_email(raw)
    }

    /// Wraps an address read back from storage, which was normalised and
    /// validated by [`Email::parse`] before it was written.
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns the part before the `@`, the default display name.
    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or(&self.0, |(local, _)| local)
    }
}

fn normalise_email(raw: &str) -> String {
    let composed: String = raw.trim().nfkc().collect();
    composed.to_lowercase().nfkc().collect()
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An email is personal data: logs identify people by user id instead.
        f.write_str("Email([REDACTED])")
    }
}

/// A display name: trimmed, NFC-normalised, free of control characters.
/// Names are not unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

/// The reason a string is not an acceptable display name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisplayNameError {
    #[error("Name must not be empty.")]
    Empty,
    #[error("Name must be at most {max} characters.", max = DisplayName::MAX_CHARS)]
    TooLong,
    #[error("Name must not contain control characters.")]
    ForbiddenCharacter,
}

impl DisplayNameError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "required",
            Self::TooLong => "too_long",
            Self::ForbiddenCharacter => "forbidden_character",
        }
    }
}

impl DisplayName {
    /// Matches the `name` column width in both schemas.
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, DisplayNameError> {
        let normalised: String = raw.trim().nfc().collect();

        if normalised.is_empty() {
            return Err(DisplayNameError::Empty);
        }
        if normalised.chars().count() > Self::MAX_CHARS {
            return Err(DisplayNameError::TooLong);
        }
        if normalised.chars().any(char::is_control) {
            return Err(DisplayNameError::ForbiddenCharacter);
        }

        Ok(Self(normalised))
    }

    /// Builds the default name of a new account from the email's local part.
    pub fn from_email(email: &Email) -> Self {
        let local: String = email.local_part().chars().take(Self::MAX_CHARS).collect();
        Self(local)
    }

    /// Wraps a name read back from storage, which was validated before it
    /// was written.
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A plain-text password as the client sent it. It is never trimmed or
/// normalised, and its `Debug` output is redacted.
#[derive(Debug, Clone)]
pub struct Password(Secret<String>);

impl Password {
    pub fn new(raw: String) -> Self {
        Self(Secret::new(raw))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    fn char_count(&self) -> usize {
        self.expose().chars().count()
    }
}

/// The reason a password is not acceptable for a new account.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Password must be at least {min} characters.")]
    TooShort { min: usize },
    #[error("Password must be at most {max} characters.")]
    TooLong { max: usize },
    #[error("Password must not contain the email address.")]
    ContainsEmail,
    #[error("Password is on a list of commonly used passwords; choose a less common one.")]
    Common,
}

impl PasswordError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "too_short",
            Self::TooLong { .. } => "too_long",
            Self::ContainsEmail => "contains_email",
            Self::Common => "common_password",
        }
    }
}

/// The rules a new password must meet. Lengths count Unicode scalar values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_chars: usize,
    /// Bounds the work one request can ask of the hasher. Longer passwords
    /// are rejected, never truncated.
    pub max_chars: usize,
    /// Whether passwords on the [`crate::common_passwords`] list are rejected.
    pub reject_common: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_chars: 8,
            max_chars: 256,
            reject_common: true,
        }
    }
}

impl PasswordPolicy {
    /// Checks a password chosen for the account with this email.
    pub fn check_new(&self, password: &Password, email: &Email) -> Result<(), PasswordError> {
        self.check_length(password)?;
        if password.char_count() < self.min_chars {
            return Err(PasswordError::TooShort {
                min: self.min_chars,
            });
        }
        if password.expose().to_lowercase().contains(email.as_str()) {
            return Err(PasswordError::ContainsEmail);
        }
        if self.reject_common && common_passwords::contains(password.expose()) {
            return Err(PasswordError::Common);
        }
        Ok(())
    }

    /// Checks only the upper bound: a login attempt with an over-long
    /// password is rejected before it reaches the hasher.
    pub fn check_length(&self, password: &Password) -> Result<(), PasswordError> {
        if password.char_count() > self.max_chars {
            return Err(PasswordError::TooLong {
                max: self.max_chars,
            });
        }
        Ok(())
    }
}

/// A password hash in PHC string format, for example `$argon2id$v=19$...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash(Secret<String>);

impl PasswordHash {
    pub fn new(phc: String) -> Self {
        Self(Secret::new(phc))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lower_cased() {
        let email = Email::parse("  User@Example.COM \n").unwrap();

        assert_eq!(email.as_str(), "user@example.com");
    }

    #[test]
    fn email_lookalikes_normalise_to_one_form() {
        // Fullwidth letters and the Kelvin sign fold to ASCII under NFKC.
        let fullwidth = Email::parse("ｕｓｅｒ@example.com").unwrap();
        let kelvin = Email::parse("\u{212A}im@example.com").unwrap();

        assert_eq!(fullwidth.as_str(), "user@example.com");
        assert_eq!(kelvin.as_str(), "kim@example.com");
    }

    #[test]
    fn email_rejects_malformed_input() {
        let cases = [
            ("", EmailError::Empty),
            ("   ", EmailError::Empty),
            ("no-at-sign.example.com", EmailError::Malformed),
            ("@example.com", EmailError::Malformed),
            ("user@", EmailError::Malformed),
            ("user@localhost", EmailError::Malformed),
            ("user@example..com", EmailError::Malformed),
            ("a@b@example.com", EmailError::Malformed),
            ("us er@example.com", EmailError::ForbiddenCharacter),
            ("user\u{0}@example.com", EmailError::ForbiddenCharacter),
            ("user\u{7}@example.com", EmailError::ForbiddenCharacter),
        ];
        for (raw, expected) in cases {
            assert_eq!(Email::parse(raw), Err(expected), "input {raw:?}");
        }
    }

    #[test]
    fn email_length_limits() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_total = format!("a@{}.com", "b".repeat(250));

        assert_eq!(Email::parse(&long_local), Err(EmailError::Malformed));
        assert_eq!(Email::parse(&long_total), Err(EmailError::TooLong));
    }

    #[test]
    fn email_debug_is_redacted() {
        let email = Email::parse("user@example.com").unwrap();

        assert_eq!(format!("{email:?}"), "Email([REDACTED])");
    }

    #[test]
    fn display_name_rules() {
        assert_eq!(DisplayName::parse("  Jane  ").unwrap().as_str(), "Jane");
        assert_eq!(DisplayName::parse(" \t "), Err(DisplayNameError::Empty));
        assert_eq!(
            DisplayName::parse(&"x".repeat(101)),
            Err(DisplayNameError::TooLong)
        );
        assert_eq!(
            DisplayName::parse("Jane\u{0}Doe"),
            Err(DisplayNameError::ForbiddenCharacter)
        );
        assert!(DisplayName::parse(&"é".repeat(100)).is_ok());
    }

    #[test]
    fn display_name_is_nfc_normalised() {
        let decomposed = DisplayName::parse("Jose\u{301}").unwrap();

        assert_eq!(decomposed.as_str(), "Jos\u{e9}");
        assert_eq!(
            DisplayName::parse(&"e\u{301}".repeat(100))
                .unwrap()
                .as_str(),
            "\u{e9}".repeat(100)
        );
    }

    #[test]
    fn display_name_defaults_to_local_part() {
        let email = Email::parse("john.doe@example.com").unwrap();

        assert_eq!(DisplayName::from_email(&email).as_str(), "john.doe");
    }

    #[test]
    fn password_policy_bounds() {
        let policy = PasswordPolicy::default();
        let email = Email::parse("user@example.com").unwrap();
        let check = |raw: &str| policy.check_new(&Password::new(raw.to_string()), &email);

        assert_eq!(check("short"), Err(PasswordError::TooShort { min: 8 }));
        assert_eq!(check(&"p".repeat(8)), Ok(()));
        assert_eq!(check(&"p".repeat(256)), Ok(()));
        assert_eq!(
            check(&"p".repeat(257)),
            Err(PasswordError::TooLong { max: 256 })
        );
        assert_eq!(
            check("xxUSER@example.comxx"),
            Err(PasswordError::ContainsEmail)
        );
    }

    #[test]
    fn password_policy_rejects_common_passwords() {
        let policy = PasswordPolicy::default();
        let email = Email::parse("user@example.com").unwrap();
        let check = |raw: &str| policy.check_new(&Password::new(raw.to_string()), &email);

        assert_eq!(check("password1"), Err(PasswordError::Common));
        assert_eq!(check("PassWord1"), Err(PasswordError::Common));
        assert_eq!(check("correct horse battery"), Ok(()));
    }

    #[test]
    fn password_policy_can_allow_common_passwords() {
        let policy = PasswordPolicy {
            reject_common: false,
            ..PasswordPolicy::default()
        };
        let email = Email::parse("user@example.com").unwrap();

        let result = policy.check_new(&Password::new("password1".to_string()), &email);

        assert_eq!(result, Ok(()));
        assert_eq!(PasswordError::Common.code(), "common_password");
    }

    #[test]
    fn password_is_never_trimmed() {
        let policy = PasswordPolicy::default();
        let email = Email::parse("user@example.com").unwrap();
        let spaced = Password::new("  abcd  ".to_string());

        assert_eq!(policy.check_new(&spaced, &email), Ok(()));
        assert_eq!(spaced.expose(), "  abcd  ");
    }

    #[test]
    fn password_length_counts_characters() {
        let policy = PasswordPolicy::default();
        let email = Email::parse("user@example.com").unwrap();
        // Eight characters, sixteen bytes.
        let accented = Password::new("éééééééé".to_string());

        assert_eq!(policy.check_new(&accented, &email), Ok(()));
    }
}
