use std::fmt;
use std::str::FromStr;

/// Everything a role may grant. The set is closed: roles are data, permissions are code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    ImagesRead,
    ImagesUpload,
    ImagesUpdate,
    ImagesDelete,
    ImagesModerate,
    ImagesPurge,
    LinksCreate,
    GalleriesManage,
    UsersManage,
    RolesManage,
    PlansManage,
    SubscriptionsManage,
}

impl Permission {
    pub const ALL: [Self; 12] = [
        Self::ImagesRead,
        Self::ImagesUpload,
        Self::ImagesUpdate,
        Self::ImagesDelete,
        Self::ImagesModerate,
        Self::ImagesPurge,
        Self::LinksCreate,
        Self::GalleriesManage,
        Self::UsersManage,
        Self::RolesManage,
        Self::PlansManage,
        Self::SubscriptionsManage,
    ];

    /// The wire and storage code, e.g. `images:read`.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::ImagesRead => "images:read",
            Self::ImagesUpload => "images:upload",
            Self::ImagesUpdate => "images:update",
            Self::ImagesDelete => "images:delete",
            Self::ImagesModerate => "images:moderate",
            Self::ImagesPurge => "images:purge",
            Self::LinksCreate => "links:create",
            Self::GalleriesManage => "galleries:manage",
            Self::UsersManage => "users:manage",
            Self::RolesManage => "roles:manage",
            Self::PlansManage => "plans:manage",
            Self::SubscriptionsManage => "subscriptions:manage",
        }
    }

    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Self::ImagesRead => "View approved images, and one's own in any status",
            Self::ImagesUpload => "Upload and import images",
            Self::ImagesUpdate => "Edit image titles, descriptions and galleries",
            Self::ImagesDelete => "Delete images",
            Self::ImagesModerate => "Approve or reject uploads and see every image",
            Self::ImagesPurge => "Delete every image at once",
            Self::LinksCreate => "Create expiring share links (when the plan allows)",
            Self::GalleriesManage => "Create, edit and delete galleries",
            Self::UsersManage => "Manage user accounts",
            Self::RolesManage => "Manage roles and their permissions",
            Self::PlansManage => "Manage subscription plans",
            Self::SubscriptionsManage => "Manage users' subscriptions",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Permission {
    type Err = String;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.code() == code)
            .ok_or_else(|| format!("unknown permission `{}`", code.escape_debug()))
    }
}

/// A set of permissions, kept sorted in the order of [`Permission::ALL`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PermissionSet(u16);

impl PermissionSet {
    #[must_use]
    pub const fn empty() -> Self {
        Self(0)
    }

    #[must_use]
    pub fn all() -> Self {
        Permission::ALL.into_iter().collect()
    }

    const fn bit(p: Permission) -> u16 {
        1 << p as u16
    }

    #[must_use]
    pub const fn contains(&self, p: Permission) -> bool {
        self.0 & Self::bit(p) != 0
    }

    pub fn insert(&mut self, p: Permission) {
        self.0 |= Self::bit(p);
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// What makes an administrator: every permission, whatever the role is called. The
    /// last active user holding it cannot be disabled, demoted or deleted.
    #[must_use]
    pub fn administrator() -> Self {
        Self::all()
    }

    /// The permissions that administer other people or everyone's images: a role holding
    /// any of them is never open to sign-up.
    #[must_use]
    pub fn administrative() -> Self {
        use Permission::*;
        [UsersManage, RolesManage, PlansManage, SubscriptionsManage, ImagesModerate, ImagesPurge].into_iter().collect()
    }

    /// Whether every permission of `self` is also in `other`.
    #[must_use]
    pub const fn is_subset(&self, other: &Self) -> bool {
        self.0 & !other.0 == 0
    }

    /// The permissions of `self` that `other` lacks.
    #[must_use]
    pub const fn without(&self, other: &Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// Whether the two sets share a permission.
    #[must_use]
    pub const fn intersects(&self, other: &Self) -> bool {
        self.0 & other.0 != 0
    }

    pub fn iter(&self) -> impl Iterator<Item = Permission> + '_ {
        Permission::ALL.into_iter().filter(|p| self.contains(*p))
    }

    /// Codes in a stable order, for responses and storage.
    #[must_use]
    pub fn codes(&self) -> Vec<&'static str> {
        self.iter().map(Permission::code).collect()
    }

    /// Parses every code, naming each unknown one.
    ///
    /// # Errors
    /// The message lists the unknown codes.
    pub fn parse<'a>(codes: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut set = Self::empty();
        let mut unknown = Vec::new();
        for code in codes {
            match code.parse() {
                Ok(p) => set.insert(p),
                Err(_) => unknown.push(format!("`{}`", code.escape_debug())),
            }
        }
        if unknown.is_empty() { Ok(set) } else { Err(format!("unknown permission(s): {}", unknown.join(", "))) }
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut set = Self::empty();
        for p in iter {
            set.insert(p);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for p in Permission::ALL {
            assert_eq!(p.code().parse::<Permission>().unwrap(), p);
        }
        assert_eq!(PermissionSet::all().codes().len(), 12);
    }

    #[test]
    fn unknown_codes_are_named() {
        let err = PermissionSet::parse(["images:read", "images:fly", "root"]).unwrap_err();
        assert!(err.contains("images:fly") && err.contains("root"), "{err}");
    }

    #[test]
    fn subsets_and_differences() {
        let read: PermissionSet = [Permission::ImagesRead].into_iter().collect();
        let all = PermissionSet::all();
        assert!(read.is_subset(&all) && !all.is_subset(&read) && PermissionSet::empty().is_subset(&read));
        assert_eq!(all.without(&read).codes().len(), 11);
        assert!(all.intersects(&PermissionSet::administrative()));
        assert!(!read.intersects(&PermissionSet::administrative()));
    }

    #[test]
    fn a_set_holds_only_what_was_inserted() {
        let set: PermissionSet = [Permission::ImagesRead, Permission::LinksCreate].into_iter().collect();
        assert!(set.contains(Permission::LinksCreate));
        assert!(!set.contains(Permission::ImagesUpload));
        assert_eq!(set.codes(), ["images:read", "links:create"]);
    }
}
