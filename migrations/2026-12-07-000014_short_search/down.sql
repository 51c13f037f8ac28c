ALTER INDEX images_search_trgm_idx RESET (gin_pending_list_limit);
DROP INDEX images_search_pieces_idx;
DROP FUNCTION gallery_search_pieces(text);
