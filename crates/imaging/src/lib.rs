//! Image sniffing, decode limits and thumbnails for Gallery.
//!
//! Nothing lives here yet: the sniffer and the `ThumbnailRenderer` adapter arrive with
//! the images issue (#4) and the thumbnails issue (#5).
