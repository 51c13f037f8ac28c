//! Sign-up, login, token refresh and logout, and the caller's own account.

use std::sync::Arc;

use crate::ports::{AccessToken, Clock, PasswordHasher, RoleRepo, SessionRepo, TokenService, UserRepo};
use crate::{
    Account, Actor, DomainError, Email, NewUser, Password, PasswordHash, Policy, RoleName, Token, User, UserPatch,
    Username,
};

/// A sign-up request, parsed.
#[derive(Debug, Clone)]
pub struct Registration {
    pub username: Username,
    pub password: Password,
    pub email: Option<Email>,
    pub role: Option<RoleName>,
}

/// Tokens handed out at login and refresh.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access: AccessToken,
    pub refresh_token: Token,
    /// Seconds until the refresh token stops working, unless it is used first.
    pub refresh_expires_in: u64,
}

/// Changes a user makes to their own account, parsed.
#[derive(Debug, Clone, Default)]
pub struct OwnChanges {
    pub email: Option<Option<Email>>,
    pub current_password: Option<String>,
    pub new_password: Option<Password>,
}

/// The authentication use-cases.
#[derive(Clone)]
pub struct Auth {
    users: Arc<dyn UserRepo>,
    roles: Arc<dyn RoleRepo>,
    sessions: Arc<dyn SessionRepo>,
    hasher: Arc<dyn PasswordHasher>,
    tokens: Arc<dyn TokenService>,
    clock: Arc<dyn Clock>,
    signup_role: RoleName,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth").field("signup_role", &self.signup_role).finish_non_exhaustive()
    }
}

impl Auth {
    #[must_use]
    pub fn new(
        users: Arc<dyn UserRepo>,
        roles: Arc<dyn RoleRepo>,
        sessions: Arc<dyn SessionRepo>,
        hasher: Arc<dyn PasswordHasher>,
        tokens: Arc<dyn TokenService>,
        clock: Arc<dyn Clock>,
        signup_role: RoleName,
    ) -> Self {
        Self { users, roles, sessions, hasher, tokens, clock, signup_role }
    }

    /// Creates an account with a role open to sign-up.
    ///
    /// # Errors
    /// `Validation` on `role` when it is unknown or closed to sign-up; `UsernameTaken`.
    #[tracing::instrument(skip_all, fields(username = reg.username.as_str()))]
    pub async fn register(&self, reg: Registration) -> Result<Account, DomainError> {
        let role_name = reg.role.unwrap_or_else(|| self.signup_role.clone());
        let role = self.roles.by_name(&role_name).await?;
        // An administrative role is never joined by sign-up, even if the store says it is
        // open (a row written before the rule, or by hand).
        let open = role
            .is_some_and(|r| r.signup_allowed && Policy::may_open_to_signup(r.permissions, r.signup_allowed).is_ok());
        if !open {
            return Err(DomainError::field("role", "is not a role open to sign-up"));
        }
        let password_hash = self.hasher.hash(&reg.password).await?;
        let new = NewUser { username: reg.username, email: reg.email, role: role_name, password_hash, is_active: true };
        Ok(self.account(self.users.create(&new).await?))
    }

    /// Checks credentials and opens a session. Unknown users cost a dummy hash check, so
    /// they take about as long as a wrong password.
    ///
    /// # Errors
    /// `InvalidCredentials` for an unknown user or a wrong password; `AccountDisabled` for
    /// a disabled account with the right password.
    #[tracing::instrument(skip_all)]
    pub async fn login(&self, username: &str, password: &str) -> Result<(TokenPair, Account), DomainError> {
        // A name that could never have been registered matches nobody: it is not looked up
        // (it may hold what the database refuses, like a NUL), but costs the same bcrypt.
        let found = match Username::parse(username) {
            Ok(name) => self.users.credentials(&name).await?,
            Err(_) => None,
        };
        let matches = self.password_matches(password, found.as_ref().map(|(_, hash)| hash.clone())).await?;
        let Some((user, _)) = found.filter(|_| matches) else {
            return Err(DomainError::InvalidCredentials);
        };
        if !user.is_active {
            return Err(DomainError::AccountDisabled);
        }
        let (refresh_token, refresh_hash) = self.tokens.new_refresh();
        let expires_at = self.clock.now() + self.tokens.refresh_ttl();
        let session = self.sessions.start(user.id, &refresh_hash, expires_at).await?;
        let access = self.tokens.issue_access(user.id, session)?;
        let refresh_expires_in = self.refresh_expires_in();
        Ok((TokenPair { access, refresh_token, refresh_expires_in }, self.account(user)))
    }

    /// Trades a refresh token for a new pair. Each refresh token works once: presenting
    /// one that was already used revokes its whole session.
    ///
    /// # Errors
    /// `InvalidToken` for an unknown, used, revoked or expired token; `AccountDisabled`.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, refresh_token: &Token) -> Result<TokenPair, DomainError> {
        let old = self.tokens.hash_refresh(refresh_token);
        let Some(record) = self.sessions.by_refresh(&old).await? else {
            return Err(DomainError::InvalidToken);
        };
        if record.is_revoked {
            return Err(DomainError::InvalidToken);
        }
        if !record.is_current {
            tracing::warn!(session = %record.session, "refresh token reused; revoking its session");
            self.sessions.revoke(record.session).await?;
            return Err(DomainError::InvalidToken);
        }
        let now = self.clock.now();
        if record.expires_at <= now {
            return Err(DomainError::InvalidToken);
        }
        let user = self.sessions.holder(record.session, record.user).await?.ok_or(DomainError::InvalidToken)?;
        if !user.is_active {
            return Err(DomainError::AccountDisabled);
        }
        let (refresh_token, new) = self.tokens.new_refresh();
        if !self.sessions.rotate(record.session, &old, &new, now + self.tokens.refresh_ttl()).await? {
            // Another request rotated this token first: the same token was presented twice.
            self.sessions.revoke(record.session).await?;
            return Err(DomainError::InvalidToken);
        }
        let access = self.tokens.issue_access(user.id, record.session)?;
        Ok(TokenPair { access, refresh_token, refresh_expires_in: self.refresh_expires_in() })
    }

    /// Ends the caller's session (its access and refresh tokens) and, if given, the
    /// session of a refresh token of theirs.
    ///
    /// # Errors
    /// Store failures only.
    #[tracing::instrument(skip_all, fields(user_id = %actor.id()))]
    pub async fn logout(&self, actor: &Actor, refresh_token: Option<&Token>) -> Result<(), DomainError> {
        self.sessions.revoke(actor.session).await?;
        if let Some(token) = refresh_token {
            let record = self.sessions.by_refresh(&self.tokens.hash_refresh(token)).await?;
            if let Some(record) = record.filter(|r| r.user == actor.id() && r.session != actor.session) {
                self.sessions.revoke(record.session).await?;
            }
        }
        Ok(())
    }

    /// Turns a bearer token into the actor it speaks for, checked against the store on
    /// every request: revoked sessions, deleted users and role changes apply at once.
    ///
    /// # Errors
    /// `InvalidToken`, `TokenExpired`, `AccountDisabled`.
    pub async fn authenticate(&self, bearer: &Token) -> Result<Actor, DomainError> {
        let claims = self.tokens.verify_access(bearer)?;
        let user = self.sessions.holder(claims.session, claims.user).await?.ok_or(DomainError::InvalidToken)?;
        if !user.is_active {
            return Err(DomainError::AccountDisabled);
        }
        Ok(Actor { user, session: claims.session })
    }

    /// A new refresh token's lifetime, in seconds: each use starts it afresh.
    fn refresh_expires_in(&self) -> u64 {
        u64::try_from(self.tokens.refresh_ttl().num_seconds()).unwrap_or(0)
    }

    /// Whether `given` is the password behind `stored`. It always costs one hash check: an
    /// unknown user (`None`), or a password that could never have been set (outside
    /// [`Password`]'s bounds), is checked against the hasher's dummy hash and never matches.
    async fn password_matches(&self, given: &str, stored: Option<PasswordHash>) -> Result<bool, DomainError> {
        match Password::parse(given) {
            Ok(password) => self.hasher.verify(&password, stored).await,
            Err(_) => self.hasher.verify(&Password::decoy(), None).await.map(|_| false),
        }
    }

    /// Changes the caller's own e-mail or password. A new password needs the current one
    /// and ends every other session of the user.
    ///
    /// # Errors
    /// `Validation` on `current_password` when it is missing or wrong.
    #[tracing::instrument(skip_all, fields(user_id = %actor.id()))]
    pub async fn update_me(&self, actor: &Actor, changes: OwnChanges) -> Result<Account, DomainError> {
        let mut patch = UserPatch { email: changes.email, ..UserPatch::default() };
        if let Some(new_password) = &changes.new_password {
            let Some(current) = changes.current_password.as_deref() else {
                return Err(DomainError::field("current_password", "is required to set a new password"));
            };
            let stored = self.users.password_hash(actor.id()).await?;
            if !self.password_matches(current, stored).await? {
                return Err(DomainError::field("current_password", "is not the current password"));
            }
            patch.password_hash = Some(self.hasher.hash(new_password).await?);
        }
        let user = self.users.update(actor.id(), &patch).await?.ok_or(DomainError::NotFound)?;
        if patch.password_hash.is_some() {
            self.sessions.revoke_all(actor.id(), Some(actor.session)).await?;
        }
        Ok(self.account(user))
    }

    /// The caller's own account, as it stands now.
    #[must_use]
    pub fn me(&self, actor: &Actor) -> Account {
        self.account(actor.user.clone())
    }

    fn account(&self, user: User) -> Account {
        Account::as_of(user, self.clock.now())
    }
}

#[cfg(test)]
mod tests;
