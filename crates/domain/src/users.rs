//! User administration (`users:manage`).

use std::sync::Arc;

use crate::images::FileRemover;
use crate::ports::{BlobStore, Clock, PasswordHasher, RemovalRepo, RoleRepo, UserRepo};
use crate::{
    Account, Actor, DomainError, Email, NewUser, Page, PageRequest, Password, Permission, Policy, RoleName, User,
    UserFilter, UserId, UserPatch, Username,
};

/// An account an admin creates, parsed.
#[derive(Debug, Clone)]
pub struct AccountRequest {
    pub username: Username,
    pub password: Password,
    pub email: Option<Email>,
    pub role: RoleName,
}

/// Changes an admin makes to an account, parsed. `email: Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct AccountChanges {
    pub email: Option<Option<Email>>,
    pub role: Option<RoleName>,
    pub is_active: Option<bool>,
}

/// The user-administration use-cases.
#[derive(Clone)]
pub struct Users {
    users: Arc<dyn UserRepo>,
    roles: Arc<dyn RoleRepo>,
    hasher: Arc<dyn PasswordHasher>,
    remover: FileRemover,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Users").finish_non_exhaustive()
    }
}

impl Users {
    #[must_use]
    pub fn new(
        users: Arc<dyn UserRepo>,
        roles: Arc<dyn RoleRepo>,
        hasher: Arc<dyn PasswordHasher>,
        blobs: Arc<dyn BlobStore>,
        removals: Arc<dyn RemovalRepo>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { users, roles, hasher, remover: FileRemover::new(blobs, removals), clock }
    }

    fn account(&self, user: User) -> Account {
        Account::as_of(user, self.clock.now())
    }

    /// # Errors
    /// `Forbidden` without `users:manage`.
    pub async fn list(
        &self,
        actor: &Actor,
        filter: UserFilter,
        page: PageRequest,
    ) -> Result<Page<Account>, DomainError> {
        Policy::require(actor, Permission::UsersManage)?;
        let (items, total) = self.users.list(&filter, page).await?;
        Ok(Page::new(items, page, total).map(|u| self.account(u)))
    }

    /// # Errors
    /// `Forbidden` without `users:manage`; `NotFound`.
    pub async fn get(&self, actor: &Actor, id: UserId) -> Result<Account, DomainError> {
        Policy::require(actor, Permission::UsersManage)?;
        Ok(self.account(self.users.by_id(id).await?.ok_or(DomainError::NotFound)?))
    }

    /// Creates an active account with an existing role that holds nothing the actor
    /// lacks.
    ///
    /// # Errors
    /// `Forbidden`; `Validation` on `role` when it does not exist; `Overreach` when the
    /// role holds a permission the actor lacks; `UsernameTaken`.
    #[tracing::instrument(skip_all, fields(username = req.username.as_str()))]
    pub async fn create(&self, actor: &Actor, req: AccountRequest) -> Result<Account, DomainError> {
        Policy::require(actor, Permission::UsersManage)?;
        self.grantable_role(actor, &req.role).await?;
        let password_hash = self.hasher.hash(&req.password).await?;
        let new = NewUser { username: req.username, email: req.email, role: req.role, password_hash, is_active: true };
        Ok(self.account(self.users.create(&new).await?))
    }

    /// # Errors
    /// `Forbidden`; `NotFound`; `Overreach` when the user, or the new role, holds a
    /// permission the actor lacks; `Validation` on `role`; `Conflict` when an admin would
    /// disable or demote themself, or the last active admin would go.
    #[tracing::instrument(skip_all, fields(user_id = %id))]
    pub async fn update(&self, actor: &Actor, id: UserId, changes: AccountChanges) -> Result<Account, DomainError> {
        Policy::require(actor, Permission::UsersManage)?;
        // A role the caller may not give is refused as such (403), whoever is to get it,
        // the caller included, before the rule about taking one's own power away (409).
        if let Some(role) = &changes.role {
            self.grantable_role(actor, role).await?;
        }
        Policy::may_remove_admin_power(actor, id, changes.is_active == Some(false), changes.role.as_ref(), false)?;
        self.manageable(actor, id).await?;
        let patch =
            UserPatch { email: changes.email, role: changes.role, is_active: changes.is_active, password_hash: None };
        Ok(self.account(self.users.update(id, &patch).await?.ok_or(DomainError::NotFound)?))
    }

    /// Deletes an account and its sessions; with `delete_images` also its images, rows
    /// first (in the same transaction), then their files.
    ///
    /// # Errors
    /// `Forbidden`; `NotFound`; `Overreach` when the user holds a permission the actor
    /// lacks; `Conflict` for oneself or the last active admin; `InUse` when they own
    /// images and `delete_images` is false.
    #[tracing::instrument(skip_all, fields(user_id = %id))]
    pub async fn delete(&self, actor: &Actor, id: UserId, delete_images: bool) -> Result<(), DomainError> {
        Policy::require(actor, Permission::UsersManage)?;
        Policy::may_remove_admin_power(actor, id, false, None, true)?;
        self.manageable(actor, id).await?;
        let keys = self.users.delete(id, delete_images).await?.ok_or(DomainError::NotFound)?;
        for key in &keys {
            self.remover.remove(key).await;
        }
        Ok(())
    }

    /// Creates an active admin without an acting user: for operators bootstrapping a
    /// deployment from the command line, never reachable over HTTP.
    ///
    /// # Errors
    /// `UsernameTaken`.
    #[tracing::instrument(skip_all, fields(username = username.as_str()))]
    pub async fn provision_admin(&self, username: Username, password: Password) -> Result<User, DomainError> {
        let password_hash = self.hasher.hash(&password).await?;
        let role = RoleName::parse(RoleName::ADMIN).map_err(DomainError::Internal)?;
        let new = NewUser { username, email: None, role, password_hash, is_active: true };
        Ok(self.users.create(&new).await?)
    }

    /// The role `actor` may give: it exists and holds nothing `actor` lacks.
    async fn grantable_role(&self, actor: &Actor, name: &RoleName) -> Result<(), DomainError> {
        let role = self.roles.by_name(name).await?.ok_or_else(|| DomainError::field("role", "no such role"))?;
        Policy::may_grant(actor, role.permissions)
    }

    /// The user `id`, when `actor` may change them.
    async fn manageable(&self, actor: &Actor, id: UserId) -> Result<User, DomainError> {
        let target = self.users.by_id(id).await?.ok_or(DomainError::NotFound)?;
        Policy::may_manage_user(actor, &target)?;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;

    use super::*;
    use crate::ports::{MockBlobStore, MockClock, MockPasswordHasher, MockRemovalRepo, MockRoleRepo, MockUserRepo};
    use crate::testing::{actor_with_role, builtin_role, user_with_role};
    use crate::{Conflict, RepoError};

    fn wall_clock() -> Arc<MockClock> {
        let mut clock = MockClock::new();
        clock.expect_now().returning(chrono::Utc::now);
        Arc::new(clock)
    }

    /// A user repo that finds a `company_user` under any id.
    fn finding_a_viewer() -> MockUserRepo {
        let mut repo = MockUserRepo::new();
        repo.expect_by_id().returning(|_| Ok(Some(user_with_role(builtin_role("company_user")))));
        repo
    }

    fn user_manager() -> Actor {
        let role = crate::Role {
            is_system: false,
            permissions: [Permission::UsersManage, Permission::ImagesRead].into_iter().collect(),
            ..builtin_role("company_user")
        };
        actor_with_role(role)
    }

    #[tokio::test]
    async fn a_user_manager_cannot_create_an_admin() {
        let mut roles = MockRoleRepo::new();
        roles.expect_by_name().returning(|_| Ok(Some(builtin_role("admin"))));
        let mut repo = MockUserRepo::new();
        repo.expect_create().never();
        let req = AccountRequest {
            username: Username::parse("mallory").unwrap(),
            password: Password::parse("a long enough passphrase").unwrap(),
            email: None,
            role: RoleName::parse("admin").unwrap(),
        };
        let err = users(repo, roles).create(&user_manager(), req).await.unwrap_err();
        assert!(matches!(err, DomainError::Overreach(_)), "{err:?}");
    }

    #[tokio::test]
    async fn a_user_manager_cannot_promote_anyone_to_admin() {
        let mut roles = MockRoleRepo::new();
        roles.expect_by_name().returning(|_| Ok(Some(builtin_role("admin"))));
        let mut repo = finding_a_viewer();
        repo.expect_update().never();
        let changes = AccountChanges { role: Some(RoleName::parse("admin").unwrap()), ..AccountChanges::default() };
        let err = users(repo, roles).update(&user_manager(), UserId::generate(), changes).await.unwrap_err();
        assert!(matches!(err, DomainError::Overreach(_)), "{err:?}");
    }

    #[tokio::test]
    async fn a_user_manager_cannot_make_themself_admin() {
        let mut roles = MockRoleRepo::new();
        roles.expect_by_name().returning(|_| Ok(Some(builtin_role("admin"))));
        let mut repo = MockUserRepo::new();
        repo.expect_update().never();
        let manager = user_manager();
        let changes = AccountChanges { role: Some(RoleName::parse("admin").unwrap()), ..AccountChanges::default() };
        let err = users(repo, roles).update(&manager, manager.id(), changes).await.unwrap_err();
        assert!(matches!(err, DomainError::Overreach(_)), "403, not 409: {err:?}");
    }

    #[tokio::test]
    async fn a_user_manager_cannot_disable_or_delete_an_admin() {
        let mut repo = MockUserRepo::new();
        repo.expect_by_id().returning(|_| Ok(Some(user_with_role(builtin_role("admin")))));
        repo.expect_update().never();
        repo.expect_delete().never();
        let users = users(repo, MockRoleRepo::new());
        let changes = AccountChanges { is_active: Some(false), ..AccountChanges::default() };
        let err = users.update(&user_manager(), UserId::generate(), changes).await.unwrap_err();
        assert!(matches!(err, DomainError::Overreach(_)), "{err:?}");
        let err = users.delete(&user_manager(), UserId::generate(), false).await.unwrap_err();
        assert!(matches!(err, DomainError::Overreach(_)), "{err:?}");
    }

    #[tokio::test]
    async fn a_user_manager_may_disable_a_viewer() {
        let mut repo = finding_a_viewer();
        repo.expect_update().times(1).returning(|_, _| Ok(Some(user_with_role(builtin_role("company_user")))));
        let changes = AccountChanges { is_active: Some(false), ..AccountChanges::default() };
        assert!(users(repo, MockRoleRepo::new()).update(&user_manager(), UserId::generate(), changes).await.is_ok());
    }

    fn users(u: MockUserRepo, r: MockRoleRepo) -> Users {
        Users::new(
            Arc::new(u),
            Arc::new(r),
            Arc::new(MockPasswordHasher::new()),
            Arc::new(MockBlobStore::new()),
            Arc::new(MockRemovalRepo::new()),
            wall_clock(),
        )
    }

    #[tokio::test]
    async fn only_user_managers_may_list() {
        for role in ["beta_player", "company_user", "subscriber"] {
            let err = users(MockUserRepo::new(), MockRoleRepo::new())
                .list(&actor_with_role(builtin_role(role)), UserFilter::default(), PageRequest::default())
                .await
                .unwrap_err();
            assert!(matches!(err, DomainError::Forbidden), "{role}");
        }
    }

    #[tokio::test]
    async fn an_admin_cannot_disable_themself() {
        let admin = actor_with_role(builtin_role("admin"));
        let mut repo = MockUserRepo::new();
        repo.expect_update().never();
        let changes = AccountChanges { is_active: Some(false), ..AccountChanges::default() };
        let err = users(repo, MockRoleRepo::new()).update(&admin, admin.id(), changes).await.unwrap_err();
        assert!(matches!(err, DomainError::Conflict(_)));
    }

    #[tokio::test]
    async fn an_admin_cannot_delete_themself() {
        let admin = actor_with_role(builtin_role("admin"));
        let err = users(MockUserRepo::new(), MockRoleRepo::new()).delete(&admin, admin.id(), false).await.unwrap_err();
        assert!(matches!(err, DomainError::Conflict(_)));
    }

    #[tokio::test]
    async fn the_last_admin_is_protected_by_the_store() {
        let admin = actor_with_role(builtin_role("admin"));
        let other = UserId::generate();
        let mut repo = finding_a_viewer();
        repo.expect_delete().with(eq(other), eq(false)).returning(|_, _| Err(RepoError::Conflict(Conflict::LastAdmin)));
        let err = users(repo, MockRoleRepo::new()).delete(&admin, other, false).await.unwrap_err();
        assert!(matches!(err, DomainError::Conflict(ref m) if m.contains("last active admin")), "{err:?}");
    }

    #[tokio::test]
    async fn deleting_a_user_with_their_images_removes_the_files_after_the_rows() {
        let admin = actor_with_role(builtin_role("admin"));
        let mut repo = finding_a_viewer();
        repo.expect_delete()
            .with(mockall::predicate::always(), eq(true))
            .returning(|_, _| Ok(Some(vec![crate::BlobKey::parse("originals/aa/bb/1").unwrap()])));
        let mut blobs = MockBlobStore::new();
        blobs.expect_delete().times(1).returning(|_| Ok(()));
        blobs.expect_delete_under().times(1).returning(|_| Ok(()));
        let mut removals = MockRemovalRepo::new();
        removals.expect_done().times(1).returning(|_| Ok(()));
        let users = Users::new(
            Arc::new(repo),
            Arc::new(MockRoleRepo::new()),
            Arc::new(MockPasswordHasher::new()),
            Arc::new(blobs),
            Arc::new(removals),
            wall_clock(),
        );
        assert!(users.delete(&admin, UserId::generate(), true).await.is_ok());
    }

    #[tokio::test]
    async fn changing_to_an_unknown_role_is_a_validation_error() {
        let admin = actor_with_role(builtin_role("admin"));
        let mut roles = MockRoleRepo::new();
        roles.expect_by_name().returning(|_| Ok(None));
        let changes = AccountChanges { role: Some(RoleName::parse("wizard").unwrap()), ..AccountChanges::default() };
        let err = users(finding_a_viewer(), roles).update(&admin, UserId::generate(), changes).await.unwrap_err();
        assert!(matches!(err, DomainError::Validation(ref e) if e[0].field == "role"));
    }

    #[tokio::test]
    async fn an_admin_may_demote_someone_else() {
        let admin = actor_with_role(builtin_role("admin"));
        let target = user_with_role(builtin_role("company_user"));
        let id = target.id;
        let mut roles = MockRoleRepo::new();
        roles.expect_by_name().returning(|_| Ok(Some(builtin_role("company_user"))));
        let mut repo = MockUserRepo::new();
        let found = target.clone();
        repo.expect_by_id().returning(move |_| Ok(Some(found.clone())));
        repo.expect_update()
            .withf(move |i, p| *i == id && p.role.as_ref().is_some_and(|r| r.as_str() == "company_user"))
            .returning(move |_, _| Ok(Some(target.clone())));
        let changes =
            AccountChanges { role: Some(RoleName::parse("company_user").unwrap()), ..AccountChanges::default() };
        assert_eq!(users(repo, roles).update(&admin, id, changes).await.unwrap().user.id, id);
    }
}
