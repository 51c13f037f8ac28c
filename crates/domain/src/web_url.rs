//! Addresses on the web that the service fetches.

/// An `http` or `https` URL with a host: what an import may ask for. Where it leads (the
/// addresses its host resolves to, each redirect) is the fetcher's to check, hop by hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUrl(url::Url);

impl WebUrl {
    /// # Errors
    /// The field message for anything but an absolute `http` or `https` URL with a host.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = url::Url::parse(raw).map_err(|_| "not a URL".to_owned())?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("the scheme `{}` is not fetched; use http or https", url.scheme()));
        }
        if url.host().is_none() {
            return Err("the URL has no host".into());
        }
        Ok(Self(url))
    }

    #[must_use]
    pub fn as_url(&self) -> &url::Url {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_urls_with_a_host_are_taken() {
        for raw in
            ["file:///etc/passwd", "ftp://example.com/a.png", "gopher://x", "not a url", "data:image/png;base64,AAAA"]
        {
            assert!(WebUrl::parse(raw).is_err(), "{raw}");
        }
        assert_eq!(
            WebUrl::parse("ftp://example.com/a.png").unwrap_err(),
            "the scheme `ftp` is not fetched; use http or https"
        );
        assert_eq!(WebUrl::parse("https://example.com/a.png").unwrap().as_url().host_str(), Some("example.com"));
    }
}
