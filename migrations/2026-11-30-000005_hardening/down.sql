DROP TRIGGER IF EXISTS images_claim_files ON images;
DROP FUNCTION IF EXISTS images_claim_files();
DROP TRIGGER IF EXISTS images_schedule_removals ON images;
DROP FUNCTION IF EXISTS images_schedule_removals();
DROP TABLE IF EXISTS blob_removals;
-- Closing sign-up on administrative roles is not undone.
