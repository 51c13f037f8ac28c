use chrono::{DateTime, Utc};

use crate::{PermissionSet, RoleId};

/// A role name: 2..=64 characters of lowercase letters, digits, `_` and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoleName(String);

impl RoleName {
    /// The built-in role that holds every permission.
    pub const ADMIN: &'static str = "admin";

    /// # Errors
    /// A message saying which rule the name breaks.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let len = raw.chars().count();
        if !(2..=64).contains(&len) {
            return Err("must be 2 to 64 characters".into());
        }
        if !raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-') {
            return Err("may contain only lowercase letters, digits, `_` and `-`".into());
        }
        Ok(Self(raw.to_owned()))
    }

    /// For names read back from storage, which only ever held parsed names.
    #[must_use]
    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A role: a named set of permissions. Built-in (`system`) roles are seeded by migrations
/// and cannot be changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub id: RoleId,
    pub name: RoleName,
    pub description: String,
    pub permissions: PermissionSet,
    pub is_system: bool,
    pub signup_allowed: bool,
    pub created_at: DateTime<Utc>,
}

/// A role to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRole {
    pub name: RoleName,
    pub description: String,
    pub permissions: PermissionSet,
    pub signup_allowed: bool,
}

/// Changes to a custom role; `None` keeps the current value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RolePatch {
    pub name: Option<RoleName>,
    pub description: Option<String>,
    pub permissions: Option<PermissionSet>,
    pub signup_allowed: Option<bool>,
}

/// Checks free text (descriptions): bounded, and free of control characters that would
/// corrupt logs or that PostgreSQL refuses (NUL).
///
/// # Errors
/// A message naming the rule broken.
pub fn parse_text(raw: &str, max_chars: usize) -> Result<String, String> {
    if raw.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    if raw.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err("must not contain control characters".into());
    }
    Ok(raw.to_owned())
}

/// Longest search text (`q`) a list takes.
pub const SEARCH_MAX: usize = 200;

/// A list's search text: `None` when empty; free text otherwise, held to the same rules as
/// stored text (no control characters: PostgreSQL refuses a NUL in any text).
///
/// # Errors
/// Why the text is refused.
pub fn parse_search(raw: Option<&str>) -> Result<Option<String>, String> {
    raw.filter(|q| !q.is_empty()).map(|q| parse_text(q, SEARCH_MAX)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_free_text_without_control_characters() {
        assert_eq!(parse_search(None), Ok(None));
        assert_eq!(parse_search(Some("")), Ok(None));
        assert_eq!(parse_search(Some("cat Æ")), Ok(Some("cat Æ".to_owned())));
        assert!(parse_search(Some("a\u{0}b")).is_err());
        assert!(parse_search(Some(&"q".repeat(SEARCH_MAX + 1))).is_err());
    }

    #[test]
    fn role_names_are_lowercase_slugs() {
        assert!(RoleName::parse("photo_editor-2").is_ok());
        for bad in ["a", "Admin", "has space", "x\u{0}y", &"r".repeat(65)] {
            assert!(RoleName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn text_refuses_nul_and_overlong() {
        assert!(parse_text("line one\nline two", 100).is_ok());
        assert!(parse_text("nul\u{0}byte", 100).is_err());
        assert!(parse_text(&"é".repeat(11), 10).is_err());
    }
}
