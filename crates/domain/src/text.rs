//! The free text people type: titles, names, descriptions, reasons and searches. Each kind
//! is a newtype with one `parse`, so no caller can forget a bound, and every kind refuses
//! control characters other than newline, tab and carriage return (they corrupt logs, and
//! PostgreSQL refuses a NUL in any text).

fn check(raw: &str, max_chars: usize, blank_ok: bool) -> Result<String, String> {
    if raw.chars().count() > max_chars {
        Err(format!("must be at most {max_chars} characters"))
    } else if raw.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')) {
        Err("must not contain control characters".into())
    } else if !blank_ok && raw.trim().is_empty() {
        Err("must not be blank".into())
    } else {
        Ok(raw.to_owned())
    }
}

macro_rules! text {
    ($(#[$doc:meta])* $name:ident, at most $max:literal, blank $blank:literal $(, $default:ident)?) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash $(, $default)?)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            /// # Errors
            /// A message naming the rule `raw` breaks.
            pub fn parse(raw: &str) -> Result<Self, String> {
                check(raw, $max, $blank).map(Self)
            }

            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }

            #[must_use]
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

text!(
    /// An image's title: at most 200 characters, empty by default.
    Title, at most 200, blank true, Default
);
text!(
    /// A description of an image, a gallery or a plan: at most 2000 characters.
    Description, at most 2000, blank true, Default
);
text!(
    /// A role's description: at most 500 characters.
    RoleDescription, at most 500, blank true, Default
);
text!(
    /// Why a moderator decided as they did: at most 2000 characters.
    Reason, at most 2000, blank true
);
text!(
    /// The name of a gallery or a plan: 1 to 100 characters, not blank.
    Name, at most 100, blank false
);
text!(
    /// A list's search text (`q`): at most 200 characters, matched anywhere.
    SearchText, at most 200, blank true
);

impl SearchText {
    /// A list's `q`: `None` when absent or empty.
    ///
    /// # Errors
    /// Why the text is refused.
    pub fn parse_query(raw: Option<&str>) -> Result<Option<Self>, String> {
        raw.filter(|q| !q.is_empty()).map(Self::parse).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_bounded_in_characters_and_free_of_control_characters() {
        assert!(Description::parse("line one\nline two\ttab\r").is_ok());
        assert!(Description::parse("nul\u{0}byte").is_err());
        assert!(Title::parse(&"é".repeat(200)).is_ok());
        assert_eq!(Title::parse(&"é".repeat(201)), Err("must be at most 200 characters".into()));
        assert!(RoleDescription::parse(&"r".repeat(501)).is_err());
        assert_eq!(Title::default().as_str(), "");
    }

    #[test]
    fn names_must_not_be_blank() {
        assert_eq!(Name::parse("  \n"), Err("must not be blank".into()));
        assert_eq!(Name::parse("Holidays").unwrap().as_str(), "Holidays");
        assert!(Name::parse(&"n".repeat(101)).is_err());
    }

    #[test]
    fn an_empty_search_is_no_search() {
        assert_eq!(SearchText::parse_query(None), Ok(None));
        assert_eq!(SearchText::parse_query(Some("")), Ok(None));
        assert_eq!(SearchText::parse_query(Some("cat Æ")).unwrap().unwrap().as_str(), "cat Æ");
        assert!(SearchText::parse_query(Some("a\u{0}b")).is_err());
        assert!(SearchText::parse_query(Some(&"q".repeat(201))).is_err());
    }
}
