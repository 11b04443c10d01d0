"""The `conflictnews annotate` group: annotation.cli's commands plus the ones that need the models
(pre-annotation, the ML backend).

Kept apart so annotation.cli never imports the models at import time (only `push --order
uncertainty` loads them, inside the command).
"""

from __future__ import annotations

from conflictnews.annotation.cli import app as annotate_app
from conflictnews.annotation.ml_backend_cli import register as register_ml_backend
from conflictnews.annotation.preannotate_cli import register

register(annotate_app)
register_ml_backend(annotate_app)

__all__ = ["annotate_app"]
