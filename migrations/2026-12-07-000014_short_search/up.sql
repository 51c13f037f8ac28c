-- Searches at their worst (issue #26, item 9).
--
-- A `q` of one or two characters: trigrams cannot narrow `LIKE '%xq%'`, so every such search
-- read every row (1.1 s at 200,000 rows). Every one- and two-character piece of the search
-- text, in a GIN index, answers it exactly: a one- or two-character `q` is in the text when
-- it is one of its pieces. (The U+001F between title and description makes pieces no `q`
-- can be, as it makes no match span the two.)
CREATE FUNCTION gallery_search_pieces(text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT ARRAY(
        SELECT DISTINCT substr($1, i, n)
        FROM generate_series(1, 2) AS n, generate_series(1, length($1) - n + 1) AS i)
$$;

-- Searches that do not depend on when autovacuum last ran: with `fastupdate` on (the
-- default) new rows wait in a pending list that every search reads whole, up to 4 MB, until
-- a vacuum moves them into the index; right after a bulk load a rare search was 11× slower
-- at 1M rows than at 10k. Off, each insert files its entries at once (the write cost is
-- measured in scripts/bench-listing.sh and docs/benchmarks.md).
CREATE INDEX images_search_pieces_idx ON images USING gin (gallery_search_pieces(search)) WITH (fastupdate = off);
ALTER INDEX images_search_trgm_idx SET (fastupdate = off);
SELECT gin_clean_pending_list('images_search_trgm_idx'::regclass);
