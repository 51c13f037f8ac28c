//! The browser's refresh token: an `HttpOnly`, `SameSite=Strict` cookie that only the auth
//! paths see, so page scripts (and whatever an XSS runs) can never read it, and other sites
//! can never send it. `Secure` whenever the public address is https.

use actix_web::cookie::time::Duration;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse};

use crate::{API_PREFIX, PublicUrl};

/// The cookie's name.
pub(crate) const COOKIE: &str = "gallery_refresh";

/// The refresh token the request's cookie presents, if any.
pub(crate) fn presented(req: &HttpRequest) -> Option<String> {
    req.cookie(COOKIE).map(|c| c.value().to_owned()).filter(|v| !v.is_empty())
}

/// The cookie holding `token` for `seconds`.
pub(crate) fn cookie(req: &HttpRequest, token: String, seconds: u64) -> Cookie<'static> {
    let mut cookie = base(req, token);
    cookie.set_max_age(Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX)));
    cookie
}

/// `res` with the cookie removed (no value, expired), under the attributes it was set with.
pub(crate) fn forget(req: &HttpRequest, mut res: HttpResponse) -> HttpResponse {
    let mut gone = base(req, String::new());
    gone.make_removal();
    // Only a header value the cookie crate wrote can fail here, and it writes ASCII.
    let _ = res.add_cookie(&gone);
    res
}

fn base(req: &HttpRequest, token: String) -> Cookie<'static> {
    let secure = PublicUrl::is_https(req);
    Cookie::build(COOKIE, token)
        .path(format!("{API_PREFIX}/auth"))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish()
}
