//! A libjpeg error manager under which a warning about the image data is an error.
//!
//! libjpeg only warns about a truncated file (the `mozjpeg` crate's reader fakes an end of
//! image) and about corrupt entropy-coded data (it fills the rest with grey), and the
//! `mozjpeg` crate silences its warnings; an upload must refuse both. But libjpeg also warns
//! about bytes that are no part of the picture: stray bytes between header segments
//! (`JWRN_EXTRANEOUS_DATA`), an unknown JFIF revision (`JWRN_JFIF_MAJOR`), an unknown Adobe
//! transform (`JWRN_ADOBE_XFORM`). Browsers (libjpeg-turbo in Chromium among them) show such
//! files, and so must we: a warning raised while libjpeg reads the header — before the first
//! scan, when no pixel data has been read (`global_state` is `DSTATE_INHEADER`) — is let
//! through; any warning once the scans are read is fatal. Telling them apart by phase needs
//! no `unsafe` (the state is a field of the struct the handler is given; the message code
//! sits behind a raw pointer).
//!
//! Every field is set here, in safe code: the handlers unwind (as the crate's own
//! fatal-error handler does, caught by `super::guarded`) and never read libjpeg's message
//! tables, so they stay empty.

use std::os::raw::c_int;

use mozjpeg_sys::{jpeg_common_struct, jpeg_error_mgr, msg_parm_union};

/// The error manager for a decode that must not accept damaged data.
pub(crate) fn errors() -> jpeg_error_mgr {
    jpeg_error_mgr {
        error_exit: Some(fail),
        emit_message: Some(fail_on_warning),
        output_message: Some(silent),
        format_message: Some(no_text),
        reset_error_mgr: Some(silent),
        msg_code: 0,
        msg_parm: msg_parm_union::default(),
        trace_level: 0,
        num_warnings: 0,
        jpeg_message_table: std::ptr::null(),
        last_jpeg_message: 0,
        addon_message_table: std::ptr::null(),
        first_addon_message: 0,
        last_addon_message: 0,
    }
}

/// A fatal error: libjpeg expects this never to return.
extern "C-unwind" fn fail(_: &mut jpeg_common_struct) {
    std::panic::resume_unwind(Box::new("the JPEG data is corrupt".to_owned()));
}

/// libjpeg's `global_state` while it reads header markers, before the first `SOS`
/// (`jpegint.h`).
const DSTATE_INHEADER: c_int = 201;

/// Level -1 is a warning; higher levels are trace messages. A warning while the header is
/// read is about bytes outside the picture; after, it is about the picture.
extern "C-unwind" fn fail_on_warning(common: &mut jpeg_common_struct, level: c_int) {
    if level < 0 && common.global_state != DSTATE_INHEADER {
        std::panic::resume_unwind(Box::new("the JPEG data is corrupt or cut short".to_owned()));
    }
}

extern "C-unwind" fn silent(_: &mut jpeg_common_struct) {}

extern "C-unwind" fn no_text(_: &mut jpeg_common_struct, _: &[u8; 80]) {}
