ALTER TABLE images DROP CONSTRAINT images_format_check,
    ADD CONSTRAINT images_format_check CHECK (format IN ('jpeg', 'png', 'gif', 'webp'));
