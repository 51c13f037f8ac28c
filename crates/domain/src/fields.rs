//! Parsing a request's fields into a command: every field is parsed, and the caller hears
//! about every refused one at once, never one per round trip.
//!
//! ```
//! use gallery_domain::fields::{Fields as _, field, required};
//! use gallery_domain::{Name, Title};
//!
//! let parsed = (
//!     required("name", None::<&str>).and_then(|n| field("name", Name::parse(n))),
//!     field("title", Title::parse("a\u{0}")),
//! )
//!     .all();
//! let gallery_domain::DomainError::Validation(errors) = parsed.unwrap_err() else { panic!() };
//! assert_eq!(errors.len(), 2);
//! ```

use crate::{DomainError, FieldError};

/// One field, parsed: its value, or why it was refused (one field may break several rules).
pub type Field<T> = Result<T, Vec<FieldError>>;

/// `parsed` as the value of `name`.
///
/// # Errors
/// The message, as `name`'s refusal.
pub fn field<T>(name: &str, parsed: Result<T, String>) -> Field<T> {
    parsed.map_err(|message| vec![FieldError::new(name, message)])
}

/// A field the request must hold.
///
/// # Errors
/// `name` "is required" when it is absent.
pub fn required<T>(name: &str, value: Option<T>) -> Field<T> {
    value.ok_or_else(|| vec![FieldError::new(name, "is required")])
}

/// A field the request must hold, parsed.
///
/// # Errors
/// "is required" when absent; the parser's message when it refuses the value.
pub fn parsed<R, T>(name: &str, value: Option<R>, parse: impl FnOnce(R) -> Result<T, String>) -> Field<T> {
    required(name, value).and_then(|v| field(name, parse(v)))
}

/// A field the request may leave out, parsed when present.
///
/// # Errors
/// The parser's message, as `name`'s refusal.
pub fn optional<R, T>(name: &str, value: Option<R>, parse: impl FnOnce(R) -> Result<T, String>) -> Field<Option<T>> {
    value.map(|v| field(name, parse(v))).transpose()
}

/// A field of a change that may be cleared: absent keeps the value (`None`), `null` clears
/// it (`Some(None)`), anything else is parsed.
///
/// # Errors
/// The parser's message, as `name`'s refusal.
pub fn nullable<R, T>(
    name: &str,
    value: Option<Option<R>>,
    parse: impl FnOnce(R) -> Result<T, String>,
) -> Field<Option<Option<T>>> {
    match value {
        Some(Some(v)) => field(name, parse(v)).map(|v| Some(Some(v))),
        Some(None) => Ok(Some(None)),
        None => Ok(None),
    }
}

/// A field that is refused whatever it holds, when `refused` is true.
///
/// # Errors
/// `message` as `name`'s refusal.
pub fn unless(refused: bool, name: &str, message: &str) -> Field<()> {
    if refused { Err(vec![FieldError::new(name, message)]) } else { Ok(()) }
}

/// A tuple of parsed fields: all the values, or every refusal.
pub trait Fields {
    type Values;

    /// # Errors
    /// `Validation` listing every refused field.
    fn all(self) -> Result<Self::Values, DomainError>;
}

impl<T> Fields for Field<T> {
    type Values = T;

    fn all(self) -> Result<T, DomainError> {
        self.map_err(DomainError::Validation)
    }
}

macro_rules! fields {
    ($($t:ident $v:ident),+) => {
        impl<$($t),+> Fields for ($(Field<$t>,)+) {
            type Values = ($($t,)+);

            fn all(self) -> Result<Self::Values, DomainError> {
                let ($($v,)+) = self;
                let mut errors = Vec::new();
                $(let $v = $v.map_err(|e| errors.extend(e)).ok();)+
                match ($($v,)+) {
                    ($(Some($v),)+) => Ok(($($v,)+)),
                    _ => Err(DomainError::Validation(errors)),
                }
            }
        }
    };
}

fields!(A a);
fields!(A a, B b);
fields!(A a, B b, C c);
fields!(A a, B b, C c, D d);
fields!(A a, B b, C c, D d, E e);
fields!(A a, B b, C c, D d, E e, F f);
fields!(A a, B b, C c, D d, E e, F f, G g);
fields!(A a, B b, C c, D d, E e, F f, G g, H h);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_values_when_every_field_parses() {
        let parsed = (field("a", Ok::<_, String>(1)), required("b", Some("x")), optional("c", None::<&str>, |_| Ok(2)));
        assert_eq!(parsed.all().unwrap(), (1, "x", None));
    }

    #[test]
    fn a_nullable_field_keeps_clears_or_sets() {
        let parse = |s: &str| s.parse::<u8>().map_err(|_| "must be a number".to_owned());
        assert_eq!(nullable("n", None, parse), Ok(None));
        assert_eq!(nullable("n", Some(None), parse), Ok(Some(None)));
        assert_eq!(nullable("n", Some(Some("7")), parse), Ok(Some(Some(7))));
        assert!(nullable("n", Some(Some("x")), parse).is_err());
        assert_eq!(parsed("n", Some("7"), parse), Ok(7));
        assert_eq!(parsed("n", None, parse).unwrap_err()[0].message, "is required");
    }

    #[test]
    fn every_refusal_in_field_order() {
        let parsed = (
            field::<u8>("a", Err("bad".into())),
            required::<u8>("b", None),
            optional("c", Some("z"), |_| Err::<u8, _>("worse".into())),
            unless(true, "d", "cannot be changed"),
            field("e", Ok::<_, String>(5)),
        );
        let Err(DomainError::Validation(errors)) = parsed.all() else { panic!("refused") };
        let said: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.message.as_str())).collect();
        assert_eq!(said, [("a", "bad"), ("b", "is required"), ("c", "worse"), ("d", "cannot be changed")]);
    }
}
