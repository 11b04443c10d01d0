"""Stage 4: baseline models (floors, classical, neural), each configured by a file in models/configs/."""
