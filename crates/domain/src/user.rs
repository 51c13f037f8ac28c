use std::fmt;

use chrono::{DateTime, Utc};

use crate::plan::SubscriptionTerm;
use crate::{Plan, PlanCode, Role, RoleName, SearchText, UserId};

/// A username: 3..=32 of `[A-Za-z0-9_.-]`. Unique case-insensitively (the database
/// enforces that on `lower(username)`), stored as typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// # Errors
    /// A message saying which rule the name breaks.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if !(3..=32).contains(&raw.len()) {
            return Err("must be 3 to 32 characters".into());
        }
        if !raw.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')) {
            return Err("may contain only letters, digits, `_`, `.` and `-`".into());
        }
        Ok(Self(raw.to_owned()))
    }

    #[must_use]
    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A plaintext password: 8..=72 bytes (bcrypt's limit; longer is refused, never
/// truncated). Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_BYTES: usize = 8;
    pub const MAX_BYTES: usize = 72;

    /// # Errors
    /// A message saying which bound the password breaks.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.len() {
            n if n < Self::MIN_BYTES => Err(format!("must be at least {} bytes", Self::MIN_BYTES)),
            n if n > Self::MAX_BYTES => Err(format!("must be at most {} bytes (bcrypt's limit)", Self::MAX_BYTES)),
            _ => Ok(Self(raw.to_owned())),
        }
    }

    /// A well-formed password that is nobody's, for the timing of a check that must fail.
    pub(crate) fn decoy() -> Self {
        Self("not anybody's password".to_owned())
    }

    /// A password someone is setting (sign-up, a new account, a change): well formed, and
    /// not guessable — not among the most common passwords (any case), not one character
    /// repeated, not only whitespace, and not containing `username` (any case).
    ///
    /// # Errors
    /// A message saying which rule the password breaks.
    pub fn choose(raw: &str, username: &str) -> Result<Self, String> {
        let password = Self::parse(raw)?;
        let lower = raw.to_lowercase();
        let mut chars = raw.chars();
        let first = chars.next();
        if raw.chars().all(char::is_whitespace) {
            Err("must not be only whitespace".into())
        } else if chars.all(|c| Some(c) == first) {
            Err("must not be one character repeated".into())
        } else if common_passwords().contains(lower.as_str()) {
            Err("is one of the most commonly used passwords; choose another".into())
        } else if !username.is_empty() && lower.contains(&username.to_lowercase()) {
            Err("must not contain the username".into())
        } else {
            Ok(password)
        }
    }

    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The 11,611 passwords of 8 bytes or more among the 30,000 most common ones listed by
/// zxcvbn 4.4.2 (MIT licence; `data/common-passwords.LICENSE.txt`, made by
/// `scripts/common-passwords.sh`), lowercase, built into the binary.
fn common_passwords() -> &'static std::collections::HashSet<&'static str> {
    static LIST: std::sync::LazyLock<std::collections::HashSet<&'static str>> = std::sync::LazyLock::new(|| {
        include_str!("../data/common-passwords.txt").lines().filter(|l| !l.is_empty()).collect()
    });
    &LIST
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A stored password hash (bcrypt's modular crypt format). Its `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    #[must_use]
    pub fn new(hash: String) -> Self {
        Self(hash)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

/// An e-mail address, checked for shape only: `local@domain`, at most 254 characters,
/// no spaces or control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// # Errors
    /// A message saying the address is malformed.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let shape_ok = raw.len() <= 254
            && !raw.chars().any(|c| c.is_whitespace() || c.is_control())
            && raw.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.is_empty()
                    && !domain.contains('@')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if shape_ok { Ok(Self(raw.to_owned())) } else { Err("must be an e-mail address like name@example.com".into()) }
    }

    #[must_use]
    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user account as the rest of the domain sees it: identity, role and plan inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub email: Option<Email>,
    pub role: Role,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    /// The user's subscription, if they ever had one.
    pub subscription: Option<SubscriptionTerm>,
    /// The plan that applies when the subscription does not.
    pub default_plan: Plan,
}

impl User {
    /// The plan in force at `now` (see [`crate::plan::effective`]): what the Policy asks
    /// about thumbnails, originals, links and upload limits.
    #[must_use]
    pub fn plan(&self, now: DateTime<Utc>) -> &Plan {
        crate::plan::effective(self.subscription.as_ref().map(|s| (&s.plan, s)), &self.default_plan, now)
    }

    /// The code of the plan in force at `now`.
    #[must_use]
    pub fn plan_code(&self, now: DateTime<Utc>) -> &PlanCode {
        &self.plan(now).code
    }
}

/// An account as it stands now: the user, and the plan in force for them.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub user: User,
    pub plan: PlanCode,
}

impl Account {
    #[must_use]
    pub fn as_of(user: User, now: DateTime<Utc>) -> Self {
        Self { plan: user.plan_code(now).clone(), user }
    }
}

/// A user to create; the password is already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub email: Option<Email>,
    pub role: RoleName,
    pub password_hash: PasswordHash,
    pub is_active: bool,
}

/// Changes to a user; `None` keeps the current value. `email: Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub email: Option<Option<Email>>,
    pub role: Option<RoleName>,
    pub is_active: Option<bool>,
    pub password_hash: Option<PasswordHash>,
}

/// Filters for the user listing.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub role: Option<RoleName>,
    pub q: Option<SearchText>,
    pub is_active: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_contract() {
        for ok in ["abc", "a.b-c_d", &"x".repeat(32)] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", &"x".repeat(33), "ünï", "a b", "a/b", "a\u{0}b", ""] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_are_bounded_in_bytes_not_chars() {
        assert!(Password::parse(&"a".repeat(72)).is_ok());
        assert!(Password::parse(&"a".repeat(73)).is_err());
        // 24 three-byte characters are 72 bytes; one more is 75.
        assert!(Password::parse(&"€".repeat(24)).is_ok());
        assert!(Password::parse(&"€".repeat(25)).is_err());
        assert!(Password::parse("short").is_err());
    }

    #[test]
    fn guessable_passwords_are_not_chosen() {
        assert!(common_passwords().len() >= 10_000);
        for (bad, why) in [
            ("12345678", "common"),
            ("password", "common"),
            ("PassWord", "common, any case"),
            ("Trustno1", "common, any case"),
            ("        ", "whitespace"),
            ("\t\t\t\t\t\t\t\t", "whitespace"),
            ("zzzzzzzzzz", "repeated"),
            ("my-Alice-pass", "contains the username"),
        ] {
            assert!(Password::choose(bad, "alice").is_err(), "{why}: {bad:?}");
        }
        assert!(Password::choose("short", "alice").is_err(), "the length rule still holds");
        assert!(Password::choose("correct horse battery", "alice").is_ok());
        assert!(Password::parse("12345678").is_ok(), "a presented password is only checked for form");
    }

    #[test]
    fn password_debug_hides_the_secret() {
        let p = Password::parse("correct horse").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn emails_need_a_local_part_and_a_domain() {
        assert!(Email::parse("me@example.com").is_ok());
        for bad in ["me", "@x.org", "me@", "me@x@y", "me @x.org", "me@.org"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
