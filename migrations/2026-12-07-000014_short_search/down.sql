ALTER INDEX images_search_trgm_idx RESET (fastupdate);
DROP INDEX images_search_pieces_idx;
DROP FUNCTION gallery_search_pieces(text);
