ALTER TABLE images DROP COLUMN taken_at, DROP COLUMN camera_make, DROP COLUMN camera_model;
