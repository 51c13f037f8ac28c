-- Expiring share links: the token is stored only as its SHA-256.
CREATE TABLE share_links (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    image_id   uuid        NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    created_by uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    -- `original` or `thumbnail:<height>`.
    variant    text        NOT NULL CHECK (variant = 'original' OR variant ~ '^thumbnail:[0-9]+$'),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX share_links_image_creator_idx ON share_links (image_id, created_by);
