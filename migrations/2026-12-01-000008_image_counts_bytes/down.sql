CREATE OR REPLACE FUNCTION image_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO image_counts AS c (uploaded_by, status, gallery_id, n)
    SELECT uploaded_by, status, gallery_id, count(*) FROM added
    GROUP BY uploaded_by, status, gallery_id ORDER BY uploaded_by, status, gallery_id
    ON CONFLICT ON CONSTRAINT image_counts_key DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION image_counts_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO image_counts AS c (uploaded_by, status, gallery_id, n)
    SELECT uploaded_by, status, gallery_id, -count(*) FROM gone
    GROUP BY uploaded_by, status, gallery_id ORDER BY uploaded_by, status, gallery_id
    ON CONFLICT ON CONSTRAINT image_counts_key DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION image_counts_moved() RETURNS trigger LANGUAGE plpgsql AS $$
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

ALTER TABLE image_counts DROP COLUMN bytes;
