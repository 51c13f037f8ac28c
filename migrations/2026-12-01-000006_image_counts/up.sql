-- Lists at scale (#13): `total` without counting rows on every request. Every image is
-- counted once in `image_counts`, under its uploader, status and gallery; the total of any
-- visibility rule and filter without `q` is a sum over a few of these rows. Statement
-- triggers keep them in the transaction that changes the images, so a total is never ahead
-- of or behind the rows it counts. Rows are applied in key order, so that concurrent
-- statements lock them in the same order and never deadlock.
CREATE TABLE image_counts (
    uploaded_by uuid   NOT NULL,
    status      text   NOT NULL,
    gallery_id  uuid,
    n           bigint NOT NULL,
    CONSTRAINT image_counts_key UNIQUE NULLS NOT DISTINCT (uploaded_by, status, gallery_id)
);

CREATE FUNCTION image_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO image_counts AS c (uploaded_by, status, gallery_id, n)
    SELECT uploaded_by, status, gallery_id, count(*) FROM added
    GROUP BY uploaded_by, status, gallery_id ORDER BY uploaded_by, status, gallery_id
    ON CONFLICT ON CONSTRAINT image_counts_key DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;
CREATE TRIGGER image_counts_added AFTER INSERT ON images
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION image_counts_added();

CREATE FUNCTION image_counts_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO image_counts AS c (uploaded_by, status, gallery_id, n)
    SELECT uploaded_by, status, gallery_id, -count(*) FROM gone
    GROUP BY uploaded_by, status, gallery_id ORDER BY uploaded_by, status, gallery_id
    ON CONFLICT ON CONSTRAINT image_counts_key DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;
CREATE TRIGGER image_counts_gone AFTER DELETE ON images
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION image_counts_gone();

-- An update moves an image between counts only when its uploader, status or gallery
-- changes (an approval; a gallery deleted, which sets its images' gallery to none).
CREATE FUNCTION image_counts_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH moved AS (
        SELECT o.uploaded_by AS old_by, o.status AS old_status, o.gallery_id AS old_gallery,
               n.uploaded_by AS new_by, n.status AS new_status, n.gallery_id AS new_gallery
        FROM before o JOIN after n ON n.id = o.id
        WHERE (o.uploaded_by, o.status, o.gallery_id) IS DISTINCT FROM (n.uploaded_by, n.status, n.gallery_id)
    ), delta (uploaded_by, status, gallery_id, d) AS (
        SELECT old_by, old_status, old_gallery, -1 FROM moved
        UNION ALL
        SELECT new_by, new_status, new_gallery, 1 FROM moved
    )
    INSERT INTO image_counts AS c (uploaded_by, status, gallery_id, n)
    SELECT uploaded_by, status, gallery_id, sum(d) FROM delta
    GROUP BY uploaded_by, status, gallery_id HAVING sum(d) <> 0
    ORDER BY uploaded_by, status, gallery_id
    ON CONFLICT ON CONSTRAINT image_counts_key DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;
CREATE TRIGGER image_counts_moved AFTER UPDATE ON images
    REFERENCING OLD TABLE AS before NEW TABLE AS after FOR EACH STATEMENT EXECUTE FUNCTION image_counts_moved();

-- The triggers hold the images table against writes until this transaction commits, so
-- the counts start from exactly the rows there are.
INSERT INTO image_counts (uploaded_by, status, gallery_id, n)
SELECT uploaded_by, status, gallery_id, count(*) FROM images GROUP BY uploaded_by, status, gallery_id;

-- Keyset pages with a filter: each filter the listing offers walks an index in the order
-- of the default sort, from wherever its cursor points. They replace the single-column
-- indexes (the uploader's one also serves the foreign key check on deleting a user).
CREATE INDEX images_by_uploader_idx ON images (uploaded_by, uploaded_at DESC, id DESC);
CREATE INDEX images_by_gallery_idx ON images (gallery_id, uploaded_at DESC, id DESC) WHERE gallery_id IS NOT NULL;
CREATE INDEX images_by_status_idx ON images (status, uploaded_at DESC, id DESC);
DROP INDEX images_uploaded_by_idx;
DROP INDEX images_gallery_idx;
DROP INDEX images_pending_idx;
