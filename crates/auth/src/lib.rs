//! Adapters for the authentication ports: [`BcryptHasher`] and [`JwtTokens`].

mod hasher;
mod tokens;

pub use hasher::BcryptHasher;
pub use tokens::{JwtConfig, JwtTokens};
