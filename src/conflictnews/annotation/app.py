"""The `conflictnews annotate` group: annotation.cli's commands plus the pre-annotation ones.

Kept apart so annotation.cli never imports the pre-annotation stage (which needs the models).
"""

from __future__ import annotations

from conflictnews.annotation.cli import app as annotate_app
from conflictnews.annotation.preannotate_cli import register

register(annotate_app)

__all__ = ["annotate_app"]
