-- Images, their galleries and the history of approval decisions.

CREATE TABLE galleries (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    created_by  uuid        REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE images (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    title       text        NOT NULL DEFAULT '',
    description text        NOT NULL DEFAULT '',
    status      text        NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    -- RESTRICT: a user who owns images is deleted only with `?delete_images=true`.
    uploaded_by uuid        NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    -- Deleting a gallery keeps its images.
    gallery_id  uuid        REFERENCES galleries (id) ON DELETE SET NULL,
    width       integer     NOT NULL CHECK (width > 0),
    height      integer     NOT NULL CHECK (height > 0),
    format      text        NOT NULL CHECK (format IN ('jpeg', 'png', 'gif', 'webp')),
    size_bytes  bigint      NOT NULL CHECK (size_bytes > 0),
    sha256      bytea       NOT NULL CHECK (length(sha256) = 32),
    -- Where the bytes live in the blob store; generated, never from the client.
    storage_key text        NOT NULL UNIQUE,
    uploaded_at timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX images_uploaded_at_idx ON images (uploaded_at DESC, id DESC);
CREATE INDEX images_uploaded_by_idx ON images (uploaded_by);
CREATE INDEX images_gallery_idx ON images (gallery_id) WHERE gallery_id IS NOT NULL;
CREATE INDEX images_pending_idx ON images (uploaded_at) WHERE status = 'pending';

CREATE TABLE image_approvals (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    image_id   uuid        NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    decision   text        NOT NULL CHECK (decision IN ('approved', 'rejected')),
    reason     text,
    decided_by uuid        REFERENCES users (id) ON DELETE SET NULL,
    decided_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX image_approvals_image_idx ON image_approvals (image_id, decided_at);
