-- When a photo was taken and with what camera, from its EXIF (issue #24). Nullable, no
-- default: adding them rewrites no row.
ALTER TABLE images
    ADD COLUMN taken_at timestamptz,
    ADD COLUMN camera_make text CHECK (char_length(camera_make) <= 100),
    ADD COLUMN camera_model text CHECK (char_length(camera_model) <= 100);
