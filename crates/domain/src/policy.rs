use crate::{DomainError, Permission, RoleName, SessionId, User, UserId};

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
