CREATE INDEX images_title_trgm_idx ON images USING gin (title gin_trgm_ops);
CREATE INDEX images_description_trgm_idx ON images USING gin (description gin_trgm_ops);
DROP INDEX images_search_trgm_idx;
ALTER TABLE images DROP COLUMN search;
