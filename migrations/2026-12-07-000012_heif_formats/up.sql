-- HEIC (HEIF with HEVC-coded images) and AVIF are taken as uploaded.
ALTER TABLE images DROP CONSTRAINT images_format_check,
    ADD CONSTRAINT images_format_check CHECK (format IN ('jpeg', 'png', 'gif', 'webp', 'heic', 'avif'));
