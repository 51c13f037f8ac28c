ALTER TABLE images DROP COLUMN reinspect;
