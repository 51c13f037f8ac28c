-- Images recorded before width and height were read as shown (EXIF orientation applied) and
-- before taken_at and camera were read: the server reads their originals again in the
-- background, then clears the flag. Every row here now is such an image; rows inserted from
-- now on are not (the default turns false after the column is added, so no row is rewritten).
ALTER TABLE images ADD COLUMN reinspect boolean NOT NULL DEFAULT true;
ALTER TABLE images ALTER COLUMN reinspect SET DEFAULT false;
CREATE INDEX images_to_reinspect ON images (id) WHERE reinspect;
