use chrono::{DateTime, Utc};

use crate::{PermissionSet, RoleDescription, RoleId};

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
    pub description: RoleDescription,
    pub permissions: PermissionSet,
    pub signup_allowed: bool,
}

/// Changes to a custom role; `None` keeps the current value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RolePatch {
    pub name: Option<RoleName>,
    pub description: Option<RoleDescription>,
    pub permissions: Option<PermissionSet>,
    pub signup_allowed: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_are_lowercase_slugs() {
        assert!(RoleName::parse("photo_editor-2").is_ok());
        for bad in ["a", "Admin", "has space", "x\u{0}y", &"r".repeat(65)] {
            assert!(RoleName::parse(bad).is_err(), "{bad:?}");
        }
    }
}
