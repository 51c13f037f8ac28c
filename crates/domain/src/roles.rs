//! Roles and permissions.

use std::sync::Arc;

use crate::ports::RoleRepo;
use crate::{Actor, DomainError, NewRole, Permission, Policy, Role, RoleId, RolePatch};

/// The role use-cases.
#[derive(Clone)]
pub struct Roles {
    roles: Arc<dyn RoleRepo>,
}

impl std::fmt::Debug for Roles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Roles").finish_non_exhaustive()
    }
}

impl Roles {
    #[must_use]
    pub fn new(roles: Arc<dyn RoleRepo>) -> Self {
        Self { roles }
    }

    /// Every permission code, for any authenticated user.
    #[must_use]
    pub fn permissions(&self) -> &'static [Permission] {
        &Permission::ALL
    }

    /// # Errors
    /// Store failures only.
    pub async fn list(&self) -> Result<Vec<Role>, DomainError> {
        Ok(self.roles.list().await?)
    }

    /// # Errors
    /// `NotFound`.
    pub async fn get(&self, id: RoleId) -> Result<Role, DomainError> {
        self.roles.by_id(id).await?.ok_or(DomainError::NotFound)
    }

    /// # Errors
    /// `Forbidden` without `roles:manage`; `Overreach` when the role would hold a
    /// permission the actor lacks; `Validation` on `signup_allowed` for an administrative
    /// role open to sign-up; `Conflict` when the name is taken.
    #[tracing::instrument(skip_all, fields(role = role.name.as_str()))]
    pub async fn create(&self, actor: &Actor, role: NewRole) -> Result<Role, DomainError> {
        Policy::require(actor, Permission::RolesManage)?;
        Policy::may_grant(actor, role.permissions)?;
        Policy::may_open_to_signup(role.permissions, role.signup_allowed)?;
        Ok(self.roles.create(&role).await?)
    }

    /// # Errors
    /// `Forbidden`; `NotFound`; `SystemRole` for a built-in role; `Overreach` for the
    /// actor's own role or when the changed role would hold a permission the actor lacks;
    /// `Validation` on `signup_allowed`; `Conflict` on a taken name.
    #[tracing::instrument(skip_all, fields(role_id = %id))]
    pub async fn update(&self, actor: &Actor, id: RoleId, patch: RolePatch) -> Result<Role, DomainError> {
        Policy::require(actor, Permission::RolesManage)?;
        let current = self.changeable(actor, id).await?;
        let permissions = patch.permissions.unwrap_or(current.permissions);
        Policy::may_grant(actor, permissions)?;
        Policy::may_open_to_signup(permissions, patch.signup_allowed.unwrap_or(current.signup_allowed))?;
        self.roles.update(id, &patch).await?.ok_or(DomainError::NotFound)
    }

    /// # Errors
    /// `Forbidden`; `NotFound`; `SystemRole` for a built-in role (before `InUse`);
    /// `Overreach` for the actor's own role; `InUse` while users hold it.
    #[tracing::instrument(skip_all, fields(role_id = %id))]
    pub async fn delete(&self, actor: &Actor, id: RoleId) -> Result<(), DomainError> {
        Policy::require(actor, Permission::RolesManage)?;
        self.changeable(actor, id).await?;
        if self.roles.delete(id).await? { Ok(()) } else { Err(DomainError::NotFound) }
    }

    /// The role, if it exists, is not built in and is not the actor's own.
    async fn changeable(&self, actor: &Actor, id: RoleId) -> Result<Role, DomainError> {
        let role = self.roles.by_id(id).await?.ok_or(DomainError::NotFound)?;
        if role.is_system {
            return Err(DomainError::SystemRole);
        }
        Policy::may_change_role(actor, &role)?;
        Ok(role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockRoleRepo;
    use crate::testing::{actor_with_role, builtin_role};
    use crate::{Referenced, RepoError};

    fn custom_role() -> Role {
        Role { is_system: false, ..builtin_role("company_user") }
    }

    #[tokio::test]
    async fn builtin_roles_cannot_be_changed_or_deleted() {
        let admin = actor_with_role(builtin_role("admin"));
        let mut repo = MockRoleRepo::new();
        repo.expect_by_id().returning(|_| Ok(Some(builtin_role("subscriber"))));
        repo.expect_update().never();
        repo.expect_delete().never();
        let roles = Roles::new(Arc::new(repo));
        assert!(matches!(
            roles.update(&admin, RoleId::generate(), RolePatch::default()).await,
            Err(DomainError::SystemRole)
        ));
        assert!(matches!(roles.delete(&admin, RoleId::generate()).await, Err(DomainError::SystemRole)));
    }

    #[tokio::test]
    async fn a_custom_role_held_by_users_is_in_use() {
        let admin = actor_with_role(builtin_role("admin"));
        let mut repo = MockRoleRepo::new();
        repo.expect_by_id().returning(|_| Ok(Some(custom_role())));
        repo.expect_delete().returning(|_| Err(RepoError::InUse(Referenced::Role)));
        let err = Roles::new(Arc::new(repo)).delete(&admin, RoleId::generate()).await.unwrap_err();
        assert!(matches!(err, DomainError::InUse(_)));
    }

    fn role_manager() -> Actor {
        let role = Role {
            is_system: false,
            permissions: [Permission::RolesManage, Permission::ImagesRead].into_iter().collect(),
            ..builtin_role("company_user")
        };
        actor_with_role(role)
    }

    fn new_role(permissions: &[Permission], signup_allowed: bool) -> NewRole {
        NewRole {
            name: crate::RoleName::parse("helper").unwrap(),
            description: crate::RoleDescription::default(),
            permissions: permissions.iter().copied().collect(),
            signup_allowed,
        }
    }

    #[tokio::test]
    async fn a_role_manager_cannot_create_a_role_holding_more_than_they_do() {
        let mut repo = MockRoleRepo::new();
        repo.expect_create().never();
        let roles = Roles::new(Arc::new(repo));
        let err = roles.create(&role_manager(), new_role(&Permission::ALL, false)).await.unwrap_err();
        assert!(matches!(err, DomainError::Overreach(_)), "{err:?}");
    }

    #[tokio::test]
    async fn a_role_manager_cannot_widen_their_own_role() {
        let me = role_manager();
        let own = me.user.role.clone();
        let mut repo = MockRoleRepo::new();
        repo.expect_by_id().returning(move |_| Ok(Some(own.clone())));
        repo.expect_update().never();
        repo.expect_delete().never();
        let roles = Roles::new(Arc::new(repo));
        let patch = RolePatch { signup_allowed: Some(true), ..RolePatch::default() };
        assert!(matches!(roles.update(&me, me.user.role.id, patch).await, Err(DomainError::Overreach(_))));
        assert!(matches!(roles.delete(&me, me.user.role.id).await, Err(DomainError::Overreach(_))));
    }

    #[tokio::test]
    async fn adding_an_administrative_permission_to_an_open_role_is_refused() {
        let admin = actor_with_role(builtin_role("admin"));
        let open = Role { signup_allowed: true, ..custom_role() };
        let mut repo = MockRoleRepo::new();
        repo.expect_by_id().returning(move |_| Ok(Some(open.clone())));
        repo.expect_update().never();
        repo.expect_create().never();
        let roles = Roles::new(Arc::new(repo));
        let patch = RolePatch {
            permissions: Some([Permission::ImagesRead, Permission::UsersManage].into_iter().collect()),
            ..RolePatch::default()
        };
        let err = roles.update(&admin, RoleId::generate(), patch).await.unwrap_err();
        assert!(matches!(err, DomainError::Validation(ref e) if e[0].field == "signup_allowed"), "{err:?}");
        let err = roles.create(&admin, new_role(&[Permission::UsersManage], true)).await.unwrap_err();
        assert!(matches!(err, DomainError::Validation(ref e) if e[0].field == "signup_allowed"), "{err:?}");
    }

    #[tokio::test]
    async fn a_change_the_store_finds_breaking_the_sign_up_rule_is_refused_as_the_rule_refuses() {
        // Another change got in first: the store, under the role's lock, says no.
        let admin = actor_with_role(builtin_role("admin"));
        let mut repo = MockRoleRepo::new();
        repo.expect_by_id().returning(|_| Ok(Some(custom_role())));
        let held: crate::PermissionSet = [Permission::ImagesRead, Permission::UsersManage].into_iter().collect();
        repo.expect_update().returning(move |_, _| Err(RepoError::Conflict(crate::Conflict::OpenToSignup(held))));
        let patch = RolePatch { signup_allowed: Some(true), ..RolePatch::default() };
        let err = Roles::new(Arc::new(repo)).update(&admin, RoleId::generate(), patch).await.unwrap_err();
        assert!(
            matches!(err, DomainError::Validation(ref e) if e[0].field == "signup_allowed" && e[0].message.contains("users:manage")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_role_manager_may_create_a_role_within_their_own() {
        let mut repo = MockRoleRepo::new();
        repo.expect_create().times(1).returning(|r| {
            Ok(Role {
                name: r.name.clone(),
                permissions: r.permissions,
                is_system: false,
                ..builtin_role("subscriber")
            })
        });
        let roles = Roles::new(Arc::new(repo));
        assert!(roles.create(&role_manager(), new_role(&[Permission::ImagesRead], true)).await.is_ok());
    }

    #[tokio::test]
    async fn managing_roles_needs_roles_manage() {
        let player = actor_with_role(builtin_role("beta_player"));
        let mut repo = MockRoleRepo::new();
        repo.expect_by_id().never();
        let roles = Roles::new(Arc::new(repo));
        assert!(matches!(roles.delete(&player, RoleId::generate()).await, Err(DomainError::Forbidden)));
    }
}
