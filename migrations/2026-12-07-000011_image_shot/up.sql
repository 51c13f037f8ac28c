-- When a photo was taken and with what camera, from its EXIF (issue #24). Nullable, no
-- default: adding them rewrites no row.
ALTER TABLE images
    ADD COLUMN taken_at timestamptz,
    ADD COLUMN camera_make text CHECK (char_length(camera_make) <= 100),
    ADD COLUMN camera_model text CHECK (char_length(camera_model) <= 100);

-- `sort=taken_at` and `sort=-taken_at`, images with no `taken_at` last either way: each
-- direction orders by its own stand-in for a missing date (see `taken_key` in
-- crates/postgres/src/images.rs), so a keyset page is one index range.
CREATE INDEX images_taken_first_idx ON images (COALESCE(taken_at, 'infinity'::timestamptz), id);
CREATE INDEX images_taken_last_idx ON images (COALESCE(taken_at, '-infinity'::timestamptz) DESC, id DESC);
