DROP INDEX images_taken_first_idx, images_taken_last_idx;
ALTER TABLE images DROP COLUMN taken_at, DROP COLUMN camera_make, DROP COLUMN camera_model;
