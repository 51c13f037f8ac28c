use chrono::{DateTime, Utc};

use crate::{
    DomainError, Image, ImageStatus, Permission, PermissionSet, Role, RoleName, Seen, SessionId, User, UserId, Variant,
    Variants, Visibility,
};

/// Who is making a request: an active user, authenticated for one session.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: User,
    pub session: SessionId,
}

impl Actor {
    #[must_use]
    pub fn id(&self) -> UserId {
        self.user.id
    }

    #[must_use]
    pub fn has(&self, permission: Permission) -> bool {
        self.user.role.permissions.contains(permission)
    }
}

/// Every "may this actor do this" question, answered in one place. Handlers never test
/// role names or permissions themselves.
#[derive(Debug, Clone, Copy, Default)]
pub struct Policy;

impl Policy {
    /// # Errors
    /// `Forbidden` when the actor's role lacks `permission`.
    pub fn require(actor: &Actor, permission: Permission) -> Result<(), DomainError> {
        if actor.has(permission) { Ok(()) } else { Err(DomainError::Forbidden) }
    }

    /// Nobody hands out more than they hold: a role created or changed by `actor`, or given
    /// by `actor` to a user, holds only permissions `actor` holds. Admins hold every
    /// permission, so this never stops them.
    ///
    /// # Errors
    /// `Overreach` naming the permissions `actor` lacks.
    pub fn may_grant(actor: &Actor, granted: PermissionSet) -> Result<(), DomainError> {
        let lacking = granted.without(&actor.user.role.permissions);
        if lacking.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Overreach(format!("you do not hold {}", lacking.codes().join(", "))))
        }
    }

    /// A user manager changes, disables or deletes only users who hold nothing more than
    /// they do: a user manager cannot touch an admin.
    ///
    /// # Errors
    /// `Overreach` when `target` holds a permission `actor` lacks.
    pub fn may_manage_user(actor: &Actor, target: &User) -> Result<(), DomainError> {
        Self::may_grant(actor, target.role.permissions)
            .map_err(|_| DomainError::Overreach("the user holds permissions you do not".into()))
    }

    /// A role manager never changes or deletes the role they hold themself (that is how
    /// one would widen one's own power).
    ///
    /// # Errors
    /// `Overreach` for the actor's own role.
    pub fn may_change_role(actor: &Actor, role: &Role) -> Result<(), DomainError> {
        if actor.user.role.id == role.id {
            Err(DomainError::Overreach("you cannot change or delete the role you hold".into()))
        } else {
            Ok(())
        }
    }

    /// A role open to sign-up gives its permissions to anyone: it may hold none of the
    /// administrative ones ([`PermissionSet::administrative`]).
    ///
    /// # Errors
    /// `Validation` on `signup_allowed`.
    pub fn may_open_to_signup(permissions: PermissionSet, signup_allowed: bool) -> Result<(), DomainError> {
        let admin = permissions.intersects(&PermissionSet::administrative());
        if signup_allowed && admin {
            let held = permissions.iter().filter(|p| PermissionSet::administrative().contains(*p));
            let codes: Vec<_> = held.map(Permission::code).collect();
            Err(DomainError::field(
                "signup_allowed",
                format!("a role holding {} cannot be open to sign-up", codes.join(", ")),
            ))
        } else {
            Ok(())
        }
    }

    /// An admin may not disable, demote or delete themself: they would lock themselves out
    /// mid-request. (Protecting the *last* admin is enforced atomically by the repository.)
    ///
    /// # Errors
    /// `Conflict` when `target` is the actor and the change takes their admin power away.
    pub fn may_remove_admin_power(
        actor: &Actor,
        target: UserId,
        disables: bool,
        new_role: Option<&RoleName>,
        deletes: bool,
    ) -> Result<(), DomainError> {
        if actor.id() != target {
            return Ok(());
        }
        let demotes = new_role.is_some_and(|r| r.as_str() != actor.user.role.name.as_str());
        if deletes || disables || demotes {
            return Err(DomainError::Conflict("administrators cannot disable, demote or delete themselves".into()));
        }
        Ok(())
    }
}

impl Policy {
    /// Which images `actor` sees: moderators all; everyone else approved images and their
    /// own in any status. What is not visible is not found, never forbidden.
    #[must_use]
    pub fn image_visibility(actor: &Actor) -> Visibility {
        if actor.has(Permission::ImagesModerate) { Visibility::All } else { Visibility::ApprovedOrOwnedBy(actor.id()) }
    }

    /// The original file needs the plan's `original_access`, or `images:moderate`:
    /// moderators must see what was uploaded.
    ///
    /// # Errors
    /// `PlanForbids` otherwise.
    pub fn may_get_original(actor: &Actor, now: DateTime<Utc>) -> Result<(), DomainError> {
        if Self::gets_originals(&actor.user, now) {
            Ok(())
        } else {
            Err(DomainError::PlanForbids("your plan does not include original files".into()))
        }
    }

    /// Thumbnails come in the heights of the caller's plan only.
    ///
    /// # Errors
    /// `PlanForbids` for any other height.
    pub fn may_get_thumbnail(actor: &Actor, now: DateTime<Utc>, height: u32) -> Result<(), DomainError> {
        if Self::gets_thumbnail(&actor.user, now, height) {
            Ok(())
        } else {
            Err(DomainError::PlanForbids(format!("your plan does not include {height} px thumbnails")))
        }
    }

    fn gets_originals(user: &User, now: DateTime<Utc>) -> bool {
        user.role.permissions.contains(Permission::ImagesModerate) || user.plan(now).features.original_access
    }

    fn gets_thumbnail(user: &User, now: DateTime<Utc>, height: u32) -> bool {
        user.plan(now).features.thumbnail_heights.contains(&height)
    }

    /// Only approved images are shared: a link never shows the world what moderation has
    /// not let through.
    ///
    /// # Errors
    /// `NotApproved` for a pending or rejected image.
    pub fn may_share(image: &Image) -> Result<(), DomainError> {
        if image.status == ImageStatus::Approved { Ok(()) } else { Err(DomainError::NotApproved) }
    }

    /// Whether a share link still serves, checked on every fetch: its image is approved,
    /// its creator active, and the creator's plan in force still has expiring links and
    /// the link's variant. (Expiry and revocation are the link's own.)
    #[must_use]
    pub fn link_serves(creator: &User, image: &Image, variant: Variant, now: DateTime<Utc>) -> bool {
        let variant_allowed = match variant {
            Variant::Original => Self::gets_originals(creator, now),
            Variant::Thumbnail(h) => Self::gets_thumbnail(creator, now, h),
        };
        Self::may_share(image).is_ok()
            && creator.is_active
            && creator.plan(now).features.expiring_links
            && variant_allowed
    }

    /// The variants of an image `actor` may fetch: whether the original, and which
    /// thumbnail heights. Image `links` list exactly these.
    #[must_use]
    pub fn image_variants(actor: &Actor, now: DateTime<Utc>) -> Variants {
        Variants {
            original: Self::may_get_original(actor, now).is_ok(),
            thumbnail_heights: actor.user.plan(now).features.thumbnail_heights.clone(),
        }
    }
}

impl<T> Seen<T> {
    /// `item` as `actor` sees it at `now`: with the variants their plan in force allows.
    #[must_use]
    pub fn by(actor: &Actor, now: DateTime<Utc>, item: T) -> Self {
        Self { item, variants: Policy::image_variants(actor, now) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{actor_with_role, builtin_role};

    #[test]
    fn builtin_roles_grant_exactly_the_contract() {
        use Permission::*;
        let expect: [(&str, &[Permission]); 4] = [
            ("admin", &Permission::ALL),
            ("beta_player", &[ImagesRead, ImagesUpload, ImagesUpdate, ImagesDelete, LinksCreate, GalleriesManage]),
            ("company_user", &[ImagesRead]),
            ("subscriber", &[ImagesRead, LinksCreate]),
        ];
        for (role, granted) in expect {
            let actor = actor_with_role(builtin_role(role));
            for p in Permission::ALL {
                assert_eq!(Policy::require(&actor, p).is_ok(), granted.contains(&p), "{role} / {p}");
            }
        }
    }

    #[test]
    fn only_moderators_see_every_image() {
        for (role, all) in [("admin", true), ("beta_player", false), ("company_user", false), ("subscriber", false)] {
            let actor = actor_with_role(builtin_role(role));
            let expected = if all { Visibility::All } else { Visibility::ApprovedOrOwnedBy(actor.id()) };
            assert_eq!(Policy::image_visibility(&actor), expected, "{role}");
        }
    }

    #[test]
    fn originals_need_the_plan_or_moderation() {
        let now = Utc::now();
        let mut player = actor_with_role(builtin_role("beta_player"));
        assert!(matches!(Policy::may_get_original(&player, now), Err(DomainError::PlanForbids(_))));
        player.user.default_plan = crate::testing::plan("growth");
        assert!(Policy::may_get_original(&player, now).is_ok());
        let admin = actor_with_role(builtin_role("admin"));
        assert!(Policy::may_get_original(&admin, now).is_ok());
        assert_eq!(Policy::image_variants(&admin, now), Variants { original: true, thumbnail_heights: vec![200] });
    }

    fn role_with(permissions: &[Permission]) -> Role {
        Role { is_system: false, permissions: permissions.iter().copied().collect(), ..builtin_role("company_user") }
    }

    #[test]
    fn nobody_grants_what_they_do_not_hold() {
        use Permission::*;
        let manager = actor_with_role(role_with(&[UsersManage, ImagesRead]));
        assert!(Policy::may_grant(&manager, [ImagesRead].into_iter().collect()).is_ok());
        assert!(Policy::may_grant(&manager, [UsersManage, ImagesRead].into_iter().collect()).is_ok());
        let err = Policy::may_grant(&manager, PermissionSet::all()).unwrap_err();
        assert!(matches!(err, DomainError::Overreach(ref m) if m.contains("roles:manage")), "{err:?}");
    }

    #[test]
    fn admins_are_never_stopped_from_granting() {
        let admin = actor_with_role(builtin_role("admin"));
        assert!(Policy::may_grant(&admin, PermissionSet::all()).is_ok());
        assert!(Policy::may_manage_user(&admin, &crate::testing::user_with_role(builtin_role("admin"))).is_ok());
        assert!(Policy::may_change_role(&admin, &role_with(&Permission::ALL)).is_ok());
    }

    #[test]
    fn a_user_manager_cannot_touch_an_admin() {
        let manager = actor_with_role(role_with(&[Permission::UsersManage, Permission::ImagesRead]));
        let admin = crate::testing::user_with_role(builtin_role("admin"));
        assert!(matches!(Policy::may_manage_user(&manager, &admin), Err(DomainError::Overreach(_))));
        let viewer = crate::testing::user_with_role(builtin_role("company_user"));
        assert!(Policy::may_manage_user(&manager, &viewer).is_ok());
    }

    #[test]
    fn a_role_manager_cannot_change_their_own_role() {
        let manager = actor_with_role(role_with(&[Permission::RolesManage]));
        let own = manager.user.role.clone();
        assert!(matches!(Policy::may_change_role(&manager, &own), Err(DomainError::Overreach(_))));
        assert!(Policy::may_change_role(&manager, &role_with(&[Permission::RolesManage])).is_ok());
    }

    #[test]
    fn administrative_roles_are_never_open_to_sign_up() {
        use Permission::*;
        for p in [UsersManage, RolesManage, PlansManage, SubscriptionsManage, ImagesModerate, ImagesPurge] {
            let set: PermissionSet = [ImagesRead, p].into_iter().collect();
            let err = Policy::may_open_to_signup(set, true).unwrap_err();
            assert!(matches!(err, DomainError::Validation(ref e) if e[0].field == "signup_allowed"), "{p}");
            assert!(Policy::may_open_to_signup(set, false).is_ok(), "{p} closed");
        }
        let viewer: PermissionSet = [ImagesRead, ImagesUpload, LinksCreate, GalleriesManage].into_iter().collect();
        assert!(Policy::may_open_to_signup(viewer, true).is_ok());
    }

    #[test]
    fn a_link_serves_only_while_image_creator_and_plan_allow_it() {
        use crate::testing::{image_of, plan};
        let now = Utc::now();
        let mut creator = crate::testing::user_with_role(builtin_role("beta_player"));
        creator.default_plan = plan("enterprise");
        let approved = image_of(&creator, ImageStatus::Approved);
        assert!(Policy::link_serves(&creator, &approved, Variant::Original, now));
        assert!(Policy::link_serves(&creator, &approved, Variant::Thumbnail(400), now));
        assert!(!Policy::link_serves(&creator, &approved, Variant::Thumbnail(123), now), "a height off the plan");
        for status in [ImageStatus::Pending, ImageStatus::Rejected] {
            let image = image_of(&creator, status);
            assert!(!Policy::link_serves(&creator, &image, Variant::Original, now), "{status:?}");
            assert!(matches!(Policy::may_share(&image), Err(DomainError::NotApproved)));
        }
        let disabled = User { is_active: false, ..creator.clone() };
        assert!(!Policy::link_serves(&disabled, &approved, Variant::Original, now));
        let growth = User { default_plan: plan("growth"), ..creator.clone() };
        assert!(!Policy::link_serves(&growth, &approved, Variant::Thumbnail(200), now), "no expiring links");
        let mut no_originals = plan("enterprise");
        no_originals.features.original_access = false;
        let downgraded = User { default_plan: no_originals, ..creator };
        assert!(!Policy::link_serves(&downgraded, &approved, Variant::Original, now));
        assert!(Policy::link_serves(&downgraded, &approved, Variant::Thumbnail(200), now));
    }

    #[test]
    fn an_admin_cannot_take_their_own_power_away() {
        let me = actor_with_role(builtin_role("admin"));
        let player = RoleName::parse("beta_player").unwrap();
        let admin = RoleName::parse("admin").unwrap();
        assert!(Policy::may_remove_admin_power(&me, me.id(), true, None, false).is_err());
        assert!(Policy::may_remove_admin_power(&me, me.id(), false, Some(&player), false).is_err());
        assert!(Policy::may_remove_admin_power(&me, me.id(), false, None, true).is_err());
        assert!(Policy::may_remove_admin_power(&me, me.id(), false, Some(&admin), false).is_ok());
        assert!(Policy::may_remove_admin_power(&me, UserId::generate(), true, Some(&player), true).is_ok());
    }
}
