"""Stage 1: the corpus store (articles with stable, content-derived ids)."""
