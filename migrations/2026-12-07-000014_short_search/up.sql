-- Searches at their worst (issue #26, item 9).
--
-- A `q` of one or two characters: trigrams cannot narrow `LIKE '%xq%'`, so every such search
-- read every row (1.1 s at 200,000 rows). Every one- and two-character piece of the search
-- text, in a GIN index, answers it exactly: a one- or two-character `q` is in the text when
-- it is one of its pieces. (The U+001F between title and description makes pieces no `q`
-- can be, as it makes no match span the two.)
--
-- The function is never worth running row by row (8 µs a call, 60 times a `LIKE`): its
-- declared cost keeps the planner to the index for it, and the repository also asks for the
-- plain `LIKE`, which a plan that scans in order checks first. PL/pgSQL, not SQL, so that
-- the planner cannot inline it and forget that cost; appending in a loop is the fastest way
-- found (an array subquery took 29 µs, regular expressions 15 µs).
CREATE FUNCTION gallery_search_pieces(text_ text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 5000
AS $$
DECLARE
    chars text[] := string_to_array(text_, NULL);
    pieces text[] := chars;
BEGIN
    FOR i IN 1 .. coalesce(array_length(chars, 1), 0) - 1 LOOP
        pieces := pieces || (chars[i] || chars[i + 1]);
    END LOOP;
    RETURN pieces;
END
$$;

-- Searches that do not depend on when autovacuum last ran: new rows wait in a GIN index's
-- pending list, which every search reads whole, until a vacuum moves them into the index;
-- at the default limit (4 MB) a rare search right after a bulk load was 11× slower at 1M
-- rows than at 10k. The smallest limit (64 kB) bounds what a search reads there. Single-row
-- inserts with both indexes, measured side by side (pgbench -c4): 3,373/s at 4 MB, 2,669/s
-- at 64 kB, 1,528/s with no pending list at all (`fastupdate = off`); 5,851/s before the
-- pieces index (docs/benchmarks.md).
CREATE INDEX images_search_pieces_idx ON images USING gin (gallery_search_pieces(search))
    WITH (gin_pending_list_limit = 64);
ALTER INDEX images_search_trgm_idx SET (gin_pending_list_limit = 64);
SELECT gin_clean_pending_list('images_search_trgm_idx'::regclass);
