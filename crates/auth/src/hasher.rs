use async_trait::async_trait;
use gallery_domain::ports::PasswordHasher;
use gallery_domain::{DomainError, Password, PasswordHash};
use tracing::Instrument as _;

/// bcrypt with a configurable cost. Hashing runs on the blocking pool, never on the async
/// executor, with the caller's span entered.
#[derive(Debug, Clone)]
pub struct BcryptHasher {
    cost: u32,
    /// A hash of a random password at the same cost, checked for unknown users so that
    /// they cost as much as a wrong password.
    dummy: String,
}

impl BcryptHasher {
    /// # Errors
    /// When `cost` is outside bcrypt's 4..=31.
    pub fn new(cost: u32) -> Result<Self, String> {
        let dummy =
            bcrypt::hash(uuid::Uuid::new_v4().to_string(), cost).map_err(|e| format!("bcrypt cost {cost}: {e}"))?;
        Ok(Self { cost, dummy })
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, DomainError> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(f))
        .in_current_span()
        .await
        .map_err(|e| DomainError::Internal(format!("password hashing task failed: {e}")))
}

#[async_trait]
impl PasswordHasher for BcryptHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, DomainError> {
        let (password, cost) = (password.expose().to_owned(), self.cost);
        blocking(move || bcrypt::hash(password, cost))
            .await?
            .map(PasswordHash::new)
            .map_err(|e| DomainError::Internal(format!("bcrypt: {e}")))
    }

    async fn verify(&self, password: &Password, hash: Option<PasswordHash>) -> Result<bool, DomainError> {
        let known = hash.is_some();
        let hash = hash.map_or_else(|| self.dummy.clone(), |h| h.as_str().to_owned());
        // A `Password` is within bcrypt's 72 bytes: nothing is truncated.
        let password = password.expose().to_owned();
        let matched = blocking(move || bcrypt::verify(password, &hash))
            .await?
            .map_err(|e| DomainError::Internal(format!("bcrypt: {e}")))?;
        Ok(matched && known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = BcryptHasher::new(4).unwrap();
        let hash = hasher.hash(&Password::parse("correct horse").unwrap()).await.unwrap();
        assert!(hasher.verify(&Password::parse("correct horse").unwrap(), Some(hash.clone())).await.unwrap());
        assert!(!hasher.verify(&Password::parse("wrong horse!").unwrap(), Some(hash)).await.unwrap());
    }

    #[tokio::test]
    async fn the_dummy_hash_never_matches() {
        let hasher = BcryptHasher::new(4).unwrap();
        assert!(!hasher.verify(&Password::parse("anything at all").unwrap(), None).await.unwrap());
    }

    #[test]
    fn an_impossible_cost_is_refused() {
        assert!(BcryptHasher::new(2).is_err());
    }
}
