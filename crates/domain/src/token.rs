//! Tokens clients hold, and the hashes under which they are stored.

/// A token as a client holds and presents it: an access (bearer) token, a refresh token,
/// a share link's. A secret: `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for Token {
    fn from(raw: String) -> Self {
        Self(raw)
    }
}

impl From<&str> for Token {
    fn from(raw: &str) -> Self {
        Self(raw.to_owned())
    }
}

impl From<Token> for String {
    fn from(token: Token) -> Self {
        token.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

/// SHA-256 of a refresh or share link token: the only form in which they are stored.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenHash(pub [u8; 32]);

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHash(***)")
    }
}
