"""Stage 3: the versioned Hugging Face dataset (build, card, versions, push, load)."""
