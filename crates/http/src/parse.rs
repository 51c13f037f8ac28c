//! Reading what clients send, before any use-case runs. A query parameter that does not
//! parse is 400 `bad_request` naming it; a body's fields are parsed into a domain command
//! with [`gallery_domain::fields`] (422 `validation_failed`, listing every refused field).

use gallery_domain::{DomainError, PageRequest};
use serde::{Deserialize, Deserializer};

/// An optional query parameter, parsed.
///
/// # Errors
/// `BadRequest` naming the parameter and why it is refused.
pub(crate) fn query<T>(
    name: &str,
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, DomainError> {
    raw.map(|v| parse(v).map_err(bad(name))).transpose()
}

/// The refusal of query parameter `name`, saying why.
pub(crate) fn bad(name: &str) -> impl FnOnce(String) -> DomainError + '_ {
    move |why| DomainError::BadRequest(format!("{name}: {why}"))
}

/// `true` or `false`.
pub(crate) fn boolean(raw: &str) -> Result<bool, String> {
    match raw {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("must be true or false".into()),
    }
}

/// `page` and `per_page` as the client typed them (strings, so that `?page=abc` is our 400
/// with our wording), as the domain's `PageRequest`.
///
/// # Errors
/// `BadRequest` for a number that is not one or out of range.
pub(crate) fn page(page: Option<&str>, per_page: Option<&str>) -> Result<PageRequest, DomainError> {
    let number =
        |name: &str, raw: Option<&str>| query(name, raw, |s| s.parse::<i64>().map_err(|_| "must be an integer".into()));
    PageRequest::parse(number("page", page)?, number("per_page", per_page)?)
}

/// For PATCH bodies: tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub(crate) fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}
