-- The bytes each uploader stores, kept with the counts: the quota check of an upload reads
-- a few rows instead of summing every image of its uploader.
ALTER TABLE image_counts ADD COLUMN bytes bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION image_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO image_counts AS c (uploaded_by, status, gallery_id, n, bytes)
    SELECT uploaded_by, status, gallery_id, count(*), sum(size_bytes) FROM added
    GROUP BY uploaded_by, status, gallery_id ORDER BY uploaded_by, status, gallery_id
    ON CONFLICT ON CONSTRAINT image_counts_key DO UPDATE SET n = c.n + EXCLUDED.n, bytes = c.bytes + EXCLUDED.bytes;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION image_counts_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO image_counts AS c (uploaded_by, status, gallery_id, n, bytes)
    SELECT uploaded_by, status, gallery_id, -count(*), -sum(size_bytes) FROM gone
    GROUP BY uploaded_by, status, gallery_id ORDER BY uploaded_by, status, gallery_id
    ON CONFLICT ON CONSTRAINT image_counts_key DO UPDATE SET n = c.n + EXCLUDED.n, bytes = c.bytes + EXCLUDED.bytes;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION image_counts_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH moved AS (
        SELECT o.uploaded_by AS old_by, o.status AS old_status, o.gallery_id AS old_gallery, o.size_bytes AS old_size,
               n.uploaded_by AS new_by, n.status AS new_status, n.gallery_id AS new_gallery, n.size_bytes AS new_size
        FROM before o JOIN after n ON n.id = o.id
        WHERE (o.uploaded_by, o.status, o.gallery_id, o.size_bytes)
              IS DISTINCT FROM (n.uploaded_by, n.status, n.gallery_id, n.size_bytes)
    ), delta (uploaded_by, status, gallery_id, d, b) AS (
        SELECT old_by, old_status, old_gallery, -1, -old_size FROM moved
        UNION ALL
        SELECT new_by, new_status, new_gallery, 1, new_size FROM moved
    )
    INSERT INTO image_counts AS c (uploaded_by, status, gallery_id, n, bytes)
    SELECT uploaded_by, status, gallery_id, sum(d), sum(b) FROM delta
    GROUP BY uploaded_by, status, gallery_id HAVING sum(d) <> 0 OR sum(b) <> 0
    ORDER BY uploaded_by, status, gallery_id
    ON CONFLICT ON CONSTRAINT image_counts_key DO UPDATE SET n = c.n + EXCLUDED.n, bytes = c.bytes + EXCLUDED.bytes;
    RETURN NULL;
END $$;

-- The triggers' new bodies hold from here; the images are locked against writes until
-- this transaction commits, so the bytes start from exactly the rows there are.
LOCK TABLE images IN SHARE MODE;
UPDATE image_counts c SET bytes = s.bytes
FROM (SELECT uploaded_by, status, gallery_id, sum(size_bytes) AS bytes FROM images GROUP BY 1, 2, 3) s
WHERE c.uploaded_by = s.uploaded_by AND c.status = s.status AND c.gallery_id IS NOT DISTINCT FROM s.gallery_id;
