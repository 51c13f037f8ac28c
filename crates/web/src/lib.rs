//! Gallery's web app: plain ES modules and CSS under `app/`, with no build step of their
//! own. `build.rs` embeds them in the binary together with their gzip forms and strong
//! ETags, so the server needs no files on disk and the browser no CDN.
//!
//! `index.html` is the page every app path answers with; `sw.js` is served at the root
//! (its scope is the whole app); every other file lives under
//! `/assets/{VERSION}/`, a URL that changes whenever any file does and can therefore be
//! cached for good.

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Its path under `app/`, e.g. `js/api.js`.
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
    /// The gzip form, when it is smaller than `body`.
    pub gzip: Option<Gzipped>,
    /// A strong entity tag of `body`, quotes included.
    pub etag: &'static str,
}

/// An asset's gzip form: another representation, so another entity tag.
#[derive(Debug)]
pub struct Gzipped {
    pub body: &'static [u8],
    pub etag: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The embedded file at `path` (relative to `app/`).
#[must_use]
pub fn asset(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// The page every app path answers with.
#[must_use]
pub fn index() -> &'static Asset {
    asset("index.html").expect("app/index.html is embedded")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_names_the_version_of_the_assets() {
        let page = std::str::from_utf8(index().body).expect("UTF-8");
        assert!(page.contains(&format!("/assets/{VERSION}/")), "{page}");
        assert!(!page.contains("{{version}}"));
    }

    #[test]
    fn gzip_forms_are_smaller_and_etags_differ_per_representation() {
        for a in ASSETS {
            assert!(a.gzip.as_ref().is_none_or(|g| g.body.len() < a.body.len()), "{}", a.path);
        }
        let mut tags: Vec<_> =
            ASSETS.iter().flat_map(|a| [Some(a.etag), a.gzip.as_ref().map(|g| g.etag)]).flatten().collect();
        tags.sort_unstable();
        let all = tags.len();
        tags.dedup();
        assert_eq!(tags.len(), all);
    }
}
