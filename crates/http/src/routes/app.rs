//! The web app's files (`gallery-web`), served from the binary: the page at `/` and at
//! every path the app routes to itself, its service worker at `/sw.js`, and every other
//! file under `/assets/{version}/`.
//!
//! Asset URLs change whenever any file does, so they are cached for a year; the page and
//! the worker are revalidated by ETag on every load. Text is sent gzipped to clients that
//! take it (compressed once, at build time).

use actix_web::http::header::{self, AcceptEncoding, Encoding, Header as _, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use gallery_web::Asset;

use crate::ApiError;
use crate::send::{holds, unchanged};

/// Paths the app answers itself (its router, `ROUTES` in `js/main.js`, reads
/// `location.pathname`): each one serves the page, so a reload or a shared address opens
/// the right screen. A test keeps the two lists equal.
pub(crate) const APP_PATHS: &[&str] = &[
    "/",
    "/login",
    "/signup",
    "/upload",
    "/images/{id}",
    "/galleries",
    "/galleries/{id}",
    "/moderation",
    "/account",
    "/admin",
    "/admin/{section}",
];

/// The pages' Content-Security-Policy: scripts, styles and images from this origin only
/// (thumbnails may also be `blob:` URLs of downloads), no inline script or style, calls to
/// this origin only, and no framing.
pub(crate) const APP_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' blob: data:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// Registers the page, the worker and the assets.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    for path in APP_PATHS {
        cfg.route(path, web::get().to(page));
    }
    cfg.route("/sw.js", web::get().to(worker)).route("/assets/{version}/{path:.+}", web::get().to(asset));
}

async fn page(req: HttpRequest) -> HttpResponse {
    send(&req, gallery_web::index(), REVALIDATE)
}

async fn worker(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let worker = gallery_web::asset("sw.js").ok_or(ApiError::NotFound)?;
    Ok(send(&req, worker, REVALIDATE))
}

async fn asset(req: HttpRequest, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let (version, path) = path.into_inner();
    let file = gallery_web::asset(&path).filter(|a| a.path != "index.html").ok_or(ApiError::NotFound)?;
    // A page from another release (several servers mid-deploy) still gets a file, but
    // not one a browser may keep under that release's name.
    let caching = if version == gallery_web::VERSION { IMMUTABLE } else { REVALIDATE };
    Ok(send(&req, file, caching))
}

/// `file` as the client takes it (gzip when it may), or 304 when it holds that form.
fn send(req: &HttpRequest, file: &'static Asset, caching: &'static str) -> HttpResponse {
    let gzip = file.gzip.as_ref().filter(|_| takes_gzip(req));
    let etag = gzip.map_or(file.etag, |g| g.etag);
    if holds(req, etag) {
        let mut res = unchanged(etag.to_owned(), caching);
        res.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        return with_csp(file, res);
    }
    let mut res = HttpResponse::Ok();
    res.content_type(file.content_type)
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, caching))
        .insert_header((header::VARY, "Accept-Encoding"));
    let res = match gzip {
        Some(packed) => res.insert_header((header::CONTENT_ENCODING, "gzip")).body(packed.body),
        None => res.body(file.body),
    };
    with_csp(file, res)
}

/// The page and the worker (a worker's policy is the one its script came with) carry the
/// app's policy; every other answer keeps the edge's default.
fn with_csp(file: &Asset, mut res: HttpResponse) -> HttpResponse {
    if file.content_type.starts_with("text/html") || file.path == "sw.js" {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(APP_CSP));
    }
    res
}

fn takes_gzip(req: &HttpRequest) -> bool {
    AcceptEncoding::parse(req)
        .ok()
        .and_then(|accepts| accepts.negotiate([Encoding::gzip(), Encoding::identity()].iter()))
        .is_some_and(|chosen| chosen == Encoding::gzip())
}

#[cfg(test)]
mod tests {
    use super::APP_PATHS;

    #[test]
    fn the_server_serves_the_page_at_every_path_the_app_routes() {
        let main = std::str::from_utf8(gallery_web::asset("js/main.js").expect("embedded").body).expect("UTF-8");
        let mut routed: Vec<String> = main
            .split("path: \"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(|path| {
                path.split('/')
                    .map(|part| part.strip_prefix(':').map_or_else(|| part.to_owned(), |name| format!("{{{name}}}")))
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .collect();
        routed.sort();
        let mut served: Vec<String> = APP_PATHS.iter().map(|p| (*p).to_owned()).collect();
        served.sort();
        assert!(routed.len() > 5, "{routed:?}");
        assert_eq!(routed, served);
    }
}
