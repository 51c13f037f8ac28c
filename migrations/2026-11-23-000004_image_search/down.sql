DROP INDEX images_description_trgm_idx;
DROP INDEX images_title_trgm_idx;
DROP INDEX images_title_idx;
-- pg_trgm stays: other objects may use it.
