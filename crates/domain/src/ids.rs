use std::fmt;

use uuid::Uuid;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random id.
            #[must_use]
            pub fn generate() -> Self {
                Self(Uuid::new_v4())
            }

            #[must_use]
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            #[must_use]
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// An id as a client writes it.
            ///
            /// # Errors
            /// The field message when `raw` is not a UUID.
            pub fn parse(raw: &str) -> Result<Self, String> {
                Uuid::parse_str(raw).map(Self).map_err(|_| "must be a UUID".to_owned())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id!(
    /// Identifies a user.
    UserId
);
id!(
    /// Identifies a role.
    RoleId
);
id!(
    /// Identifies a subscription plan.
    PlanId
);
id!(
    /// Identifies a login session: the family of refresh tokens descended from one login,
    /// and the access tokens issued alongside them.
    SessionId
);
id!(
    /// Identifies a gallery.
    GalleryId
);
id!(
    /// Identifies an image.
    ImageId
);
id!(
    /// Identifies a share link (not its token, which only the link's URL holds).
    LinkId
);
