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
    /// `Forbidden` without `roles:manage`; `Conflict` when the name is taken.
    #[tracing::instrument(skip_all, fields(role = role.name.as_str()))]
    pub async fn create(&self, actor: &Actor, role: NewRole) -> Result<Role, DomainError> {
        Policy::require(actor, Permission::RolesManage)?;
        Ok(self.roles.create(&role).await?)
    }

    /// # Errors
    /// `Forbidden`; `NotFound`; `SystemRole` for a built-in role; `Conflict` on a taken name.
    #[tracing::instrument(skip_all, fields(role_id = %id))]
    pub async fn update(&self, actor: &Actor, id: RoleId, patch: RolePatch) -> Result<Role, DomainError> {
        Policy::require(actor, Permission::RolesManage)?;
        self.custom(id).await?;
        self.roles.update(id, &patch).await?.ok_or(DomainError::NotFound)
    }

    /// # Errors
    /// `Forbidden`; `NotFound`; `SystemRole` for a built-in role (before `InUse`);
    /// `InUse` while users hold it.
    #[tracing::instrument(skip_all, fields(role_id = %id))]
    pub async fn delete(&self, actor: &Actor, id: RoleId) -> Result<(), DomainError> {
        Policy::require(actor, Permission::RolesManage)?;
        self.custom(id).await?;
        if self.roles.delete(id).await? { Ok(()) } else { Err(DomainError::NotFound) }
    }

    /// The role, if it exists and is not built in.
    async fn custom(&self, id: RoleId) -> Result<Role, DomainError> {
        let role = self.roles.by_id(id).await?.ok_or(DomainError::NotFound)?;
        if role.is_system { Err(DomainError::SystemRole) } else { Ok(role) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RepoError;
    use crate::ports::MockRoleRepo;
    use crate::testing::{actor_with_role, builtin_role};

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
        repo.expect_delete().returning(|_| Err(RepoError::InUse("role")));
        let err = Roles::new(Arc::new(repo)).delete(&admin, RoleId::generate()).await.unwrap_err();
        assert!(matches!(err, DomainError::InUse(_)));
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
