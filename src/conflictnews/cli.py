"""The `conflictnews` command: one subcommand group per pipeline stage.

corpus -> annotate -> dataset -> train -> eval -> leaderboard; `reproduce` runs them all.

Each stage's CLI module is imported only when its subcommand runs (`STAGES` names them as
"module:attribute"): the stages pull in spaCy, torch, datasets and label-studio-sdk, seconds of
start-up on 2 cores, and `conflictnews --help` should not pay for any of them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib import import_module
from typing import Any, ClassVar

import typer
from typer.core import TyperGroup

from conflictnews.io import ConflictNewsError


@dataclass(frozen=True)
class Stage:
    """A subcommand: where its typer app (or command function) lives, and its one-line help."""

    name: str
    target: str  # "module:attribute": a typer.Typer, or a function made into one command
    help: str


STAGES: tuple[Stage, ...] = (
    Stage("corpus", "conflictnews.corpus.cli:app", "Articles: add, list, show."),
    Stage(
        "annotate",
        "conflictnews.annotation.app:annotate_app",
        "Annotation: scheme, Label Studio round trip, agreement.",
    ),
    Stage("dataset", "conflictnews.dataset.cli:app", "The versioned Hugging Face dataset."),
    Stage("eval", "conflictnews.eval.cli:app", "Tasks, metrics and scoring of predictions."),
    Stage("leaderboard", "conflictnews.leaderboard.cli:app", "Submissions, scoring, ranking, web page and API."),
    Stage("train", "conflictnews.models.cli:train", "Train and evaluate a baseline from its config file."),
    Stage("models", "conflictnews.models.cli:models_app", "Saved models: publish them on the Hugging Face Hub."),
    Stage(
        "predict",
        "conflictnews.models.predict_cli:predict",
        "Entities, events and stances of any text, with scores, from the saved models.",
    ),
    Stage(
        "reproduce", "conflictnews.pipeline:reproduce", "Rebuild the dataset, retrain and re-evaluate every baseline."
    ),
)


COMPLETION_OPTIONS = {"install_completion", "show_completion"}


def load_stage(stage: Stage) -> Any:
    """Import a stage's module and turn its typer app (or command function) into a click command.

    (typer vendors its own click, so its command and context types are typer's, not the `click` package's.)
    """
    module, attribute = stage.target.split(":")
    target = getattr(import_module(module), attribute)
    if not isinstance(target, typer.Typer):
        single = typer.Typer()
        single.command(stage.name)(target)
        target = single
    command = typer.main.get_command(target)
    command.name, command.help = stage.name, stage.help
    # get_command treats the stage's app as a program of its own and adds shell-completion options;
    # only the root command has them (as it did when the stages were add_typer'ed).
    command.params = [p for p in command.params if p.name not in COMPLETION_OPTIONS]
    return command


class LazyStages(TyperGroup):
    """A group whose stage subcommands are loaded on first use; its own help lists them unloaded."""

    stages: ClassVar[dict[str, Stage]] = {stage.name: stage for stage in STAGES}

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return [*self.stages, *(name for name in super().list_commands(ctx) if name not in self.stages)]

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:
        if cmd_name in self.stages:
            if cmd_name not in self.commands:
                self.add_command(load_stage(self.stages[cmd_name]), cmd_name)
            return self.commands[cmd_name]
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: typer.Context, formatter: Any) -> None:
        rows = [(stage.name, stage.help) for stage in self.stages.values()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    cls=LazyStages,
    help="conflictnews: an annotated corpus of conflict news and an NLP benchmark.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root() -> None:
    """conflictnews: an annotated corpus of conflict news and an NLP benchmark."""


def run(command: typer.Typer, args: list[str] | None = None) -> int:
    """Run `command`; return its exit code. User-facing errors become one red line and code 1."""
    try:
        # standalone_mode=False: click returns (not raises) the code of typer.Exit / ctx.exit
        code = command(args=args, standalone_mode=False)
    except ConflictNewsError as exc:
        from rich.console import Console

        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        print("aborted", file=sys.stderr)
        return 130
    except Exception as exc:
        if not is_usage_error(exc):
            raise
        exc.show()
        return exc.exit_code
    return code if isinstance(code, int) else 0


def is_usage_error(exc: BaseException) -> bool:
    """A click ClickException (usage errors, bad parameters): it shows itself and has an exit code.

    Checked by shape: typer vendors click, so its exceptions are not the `click` package's classes.
    """
    return callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int)


def main() -> None:
    """Entry point of the `conflictnews` command."""
    sys.exit(run(app))


if __name__ == "__main__":
    main()
