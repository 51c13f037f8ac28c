-- `q` matches title or description, ignoring case. One stored, lower-cased text of both is
-- matched with LIKE: one comparison per row instead of two case-folding ILIKEs (1.7× faster
-- when a search scans 50,000 rows to count its first 10,000 matches), and one trigram index
-- instead of two. The two are joined by U+001F, a control character no search text may hold,
-- so no match spans them.
ALTER TABLE images
    ADD COLUMN search text NOT NULL GENERATED ALWAYS AS (lower(title || E'\x1f' || description)) STORED;
CREATE INDEX images_search_trgm_idx ON images USING gin (search gin_trgm_ops);
DROP INDEX images_title_trgm_idx;
DROP INDEX images_description_trgm_idx;
