-- Closing sign-up on administrative roles is not undone.
SELECT 1;
