use std::sync::Arc;

use chrono::Duration;
use gallery_domain::ports::{AccessClaims, AccessToken, Clock, TokenService};
use gallery_domain::{DomainError, SessionId, UserId};
use gallery_domain::{Token, TokenHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

/// What [`JwtTokens`] needs to know.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    pub secret: Vec<u8>,
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    /// The session (refresh-token family) the token belongs to; logout revokes it.
    sid: Uuid,
    exp: i64,
    iat: i64,
    jti: Uuid,
    iss: String,
    aud: String,
}

/// HS256 access tokens keyed with the UTF-8 bytes of `auth.jwt_secret`; no other algorithm
/// is accepted. Refresh tokens are 256 random bits, stored only as SHA-256. `iat` and `exp`
/// are read from the service's clock, on issue and on verification alike.
pub struct JwtTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    config: JwtConfig,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for JwtTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtTokens")
            .field("issuer", &self.config.issuer)
            .field("audience", &self.config.audience)
            .finish_non_exhaustive()
    }
}

impl JwtTokens {
    #[must_use]
    pub fn new(config: JwtConfig, clock: Arc<dyn Clock>) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        // `exp` must be present (above) and is compared with our clock, not the system's.
        validation.validate_exp = false;
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(&config.secret),
            decoding: DecodingKey::from_secret(&config.secret),
            validation,
            config,
            clock,
        }
    }
}

impl TokenService for JwtTokens {
    fn issue_access(&self, user: UserId, session: SessionId) -> Result<AccessToken, DomainError> {
        let now = self.clock.now().timestamp();
        let ttl = self.config.access_ttl.num_seconds();
        let claims = Claims {
            sub: user.as_uuid(),
            sid: session.as_uuid(),
            exp: now + ttl,
            iat: now,
            jti: Uuid::new_v4(),
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| DomainError::Internal(format!("signing a token: {e}")))?;
        Ok(AccessToken { token: token.into(), expires_in: u64::try_from(ttl).unwrap_or(0) })
    }

    fn verify_access(&self, token: &Token) -> Result<AccessClaims, DomainError> {
        let claims = jsonwebtoken::decode::<Claims>(token.as_str(), &self.decoding, &self.validation)
            .map_err(|_| DomainError::InvalidToken)?
            .claims;
        if claims.exp < self.clock.now().timestamp() {
            return Err(DomainError::TokenExpired);
        }
        Ok(AccessClaims { user: UserId::from_uuid(claims.sub), session: SessionId::from_uuid(claims.sid) })
    }

    fn new_refresh(&self) -> (Token, TokenHash) {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = Token::from(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let hash = self.hash_refresh(&token);
        (token, hash)
    }

    fn hash_refresh(&self, token: &Token) -> TokenHash {
        TokenHash(Sha256::digest(token.as_str().as_bytes()).into())
    }

    fn refresh_ttl(&self) -> Duration {
        self.config.refresh_ttl
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone as _, Utc};

    use super::*;

    /// A clock stopped at `NOW`.
    struct Stopped(DateTime<Utc>);

    impl Clock for Stopped {
        fn now(&self) -> DateTime<Utc> {
            self.0
        }
    }

    const NOW: i64 = 1_800_000_000;

    fn tokens_at(secret: &str, now: i64) -> JwtTokens {
        let config = JwtConfig {
            secret: secret.as_bytes().to_vec(),
            issuer: "gallery".into(),
            audience: "gallery-api".into(),
            access_ttl: Duration::minutes(15),
            refresh_ttl: Duration::days(30),
        };
        JwtTokens::new(config, Arc::new(Stopped(Utc.timestamp_opt(now, 0).unwrap())))
    }

    fn tokens(secret: &str) -> JwtTokens {
        tokens_at(secret, NOW)
    }

    fn b64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    }

    fn claims_json(exp: i64) -> serde_json::Value {
        serde_json::json!({"sub": Uuid::new_v4(), "sid": Uuid::new_v4(), "exp": exp, "iat": exp - 900,
            "jti": Uuid::new_v4(), "iss": "gallery", "aud": "gallery-api"})
    }

    #[test]
    fn a_signed_token_verifies_with_its_claims() {
        let t = tokens("a-secret-of-at-least-thirty-two-bytes");
        let (user, session) = (UserId::generate(), SessionId::generate());
        let issued = t.issue_access(user, session).unwrap();
        assert_eq!(issued.expires_in, 900);
        assert_eq!(t.verify_access(&issued.token).unwrap(), AccessClaims { user, session });
    }

    #[test]
    fn another_secret_is_refused() {
        let issued =
            tokens("one secret one secret one secret").issue_access(UserId::generate(), SessionId::generate()).unwrap();
        assert!(matches!(
            tokens("another secret another secret !!").verify_access(&issued.token),
            Err(DomainError::InvalidToken)
        ));
    }

    #[test]
    fn alg_none_is_refused() {
        let t = tokens("a-secret-of-at-least-thirty-two-bytes");
        let claims = claims_json(NOW + 600);
        let token = format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), b64(claims.to_string().as_bytes()));
        assert!(matches!(t.verify_access(&token.into()), Err(DomainError::InvalidToken)));
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let t = tokens("a-secret-of-at-least-thirty-two-bytes");
        let issued = t.issue_access(UserId::generate(), SessionId::generate()).unwrap();
        let parts: Vec<&str> = issued.token.as_str().split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], b64(claims_json(NOW + 600).to_string().as_bytes()), parts[2]);
        assert!(matches!(t.verify_access(&forged.into()), Err(DomainError::InvalidToken)));
    }

    #[test]
    fn an_expired_token_says_so() {
        let secret = "a-secret-of-at-least-thirty-two-bytes";
        let claims = claims_json(NOW - 60);
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))
                .unwrap();
        assert!(matches!(tokens(secret).verify_access(&token.into()), Err(DomainError::TokenExpired)));
    }

    #[test]
    fn the_clock_decides_when_a_token_expires() {
        let secret = "a-secret-of-at-least-thirty-two-bytes";
        let issued = tokens(secret).issue_access(UserId::generate(), SessionId::generate()).unwrap();
        // Valid through its last second, expired one second later, whatever the wall clock says.
        assert!(tokens_at(secret, NOW + 900).verify_access(&issued.token).is_ok());
        assert!(matches!(tokens_at(secret, NOW + 901).verify_access(&issued.token), Err(DomainError::TokenExpired)));
        // A token without `exp` never verifies.
        let mut claims = claims_json(NOW + 600);
        claims.as_object_mut().unwrap().remove("exp");
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))
                .unwrap();
        assert!(matches!(tokens(secret).verify_access(&token.into()), Err(DomainError::InvalidToken)));
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let t = tokens("a-secret-of-at-least-thirty-two-bytes");
        let (a, ha) = t.new_refresh();
        let (b, _) = t.new_refresh();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 64);
        assert_eq!(t.hash_refresh(&a), ha);
    }
}
