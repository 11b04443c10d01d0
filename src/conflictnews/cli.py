"""The `conflictnews` command: one subcommand group per pipeline stage.

corpus -> annotate -> dataset -> train -> eval -> leaderboard; `reproduce` runs them all.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from conflictnews.annotation.cli import app as annotate_app
from conflictnews.annotation.preannotate_cli import register as register_preannotate
from conflictnews.corpus.cli import app as corpus_app
from conflictnews.dataset.cli import app as dataset_app
from conflictnews.eval.cli import app as eval_app
from conflictnews.io import ConflictNewsError
from conflictnews.leaderboard.cli import app as leaderboard_app
from conflictnews.models.cli import train as train_command
from conflictnews.pipeline import reproduce as reproduce_command

app = typer.Typer(
    help="conflictnews: an annotated corpus of conflict news and an NLP benchmark.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(corpus_app, name="corpus", help="Articles: add, list, show.")
register_preannotate(annotate_app)
app.add_typer(annotate_app, name="annotate", help="Annotation: scheme, Label Studio round trip, agreement.")
app.add_typer(dataset_app, name="dataset", help="The versioned Hugging Face dataset.")
app.add_typer(eval_app, name="eval", help="Tasks, metrics and scoring of predictions.")
app.add_typer(leaderboard_app, name="leaderboard", help="Submissions, scoring, ranking, web page and API.")
app.command("train", help="Train and evaluate a baseline from its config file.")(train_command)
app.command("reproduce", help="Rebuild the dataset, retrain and re-evaluate every baseline.")(reproduce_command)

_err = Console(stderr=True)


def main() -> None:
    """Entry point: user-facing errors become one red line and exit code 1."""
    try:
        app(standalone_mode=False)
    except ConflictNewsError as exc:
        _err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        _err.print("aborted")
        sys.exit(130)
    except Exception as exc:  # click usage errors carry their own exit code
        from click.exceptions import ClickException

        if isinstance(exc, ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
