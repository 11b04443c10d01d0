"""Corpus statistics of a release: articles per outlet, year and split; label counts per layer and split.

Computed at build time from what the build already holds, never by reading the data files again:
label counts are the manifest's `label_counts` (counted while the rows were written: entity spans,
event trigger spans, `stance` rows including `NONE`), article counts come from the (source,
publication year, split) of each built article (`article_counts`). Coarse ACLED event types are
derived from the sub-event counts with `scheme.coarse_event_type`.

Three renderings:

* MANIFEST.json `stats`: the article counts only (label counts already are under `label_counts`).
  `stats` is outside the manifest's content view (`manifest._NOT_CONTENT`): it is a function of the
  hashed article files, and a version published before `stats` existed (0.1.0) keeps its manifest
  byte for byte when rebuilt (`manifest.as_published`). `diff_manifests` compares `stats` whenever
  both manifests have it, so `dataset diff` and `dataset verify` still see every change in it.
* Markdown tables in the card (`stats_markdown`).
* One PNG per figure in `images/` (`FIGURES`, `write_figures`), embedded in the card by relative
  links. The figures are card illustrations, NOT data files: MANIFEST.json does not hash them
  (their bytes depend on the matplotlib and FreeType versions, and the manifest's own hash is pinned
  by model results); `dataset push` uploads them with the card. They are deterministic all the
  same: an Agg canvas without pyplot, matplotlib's built-in rcParams (not the user's
  matplotlibrc), DejaVu Sans (shipped with matplotlib), fixed dpi and inch sizes that depend only
  on the tables, labels in scheme or sorted order, no `Software` or date metadata in the PNG.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from conflictnews.annotation import scheme
from conflictnews.io import atomic_write_bytes

STATS_KEY = "stats"  # the manifest key
UNKNOWN_YEAR = "unknown"
MAX_ROWS = 20  # outlets / years shown; the rest are summed into one "other" row (the manifest has all)

DPI = 100
FIGURE_WIDTH_IN = 9.0
BAR_HEIGHT_IN = 0.1  # one bar; a label's group of bars is len(columns) bars + one bar of gap
# Explicit layout in inches (one draw, no layout engine): figure title band, then per panel its
# title above and tick labels below the axes; the left margin fits the longest label.
TOP_IN = 0.45
PANEL_TITLE_IN = 0.3
PANEL_BELOW_IN = 0.35
BOTTOM_IN = 0.05
RIGHT_IN = 0.45
SPLIT_COLOURS = {"train": "#4c72b0", "validation": "#dd8452", "test": "#55a868"}
SINGLE_COLOUR = "#7f7f7f"  # one-column panels (outlets, years): not a split colour
_RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 8.5,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "x",
    "axes.axisbelow": True,
    "grid.color": "#dddddd",
    "legend.frameon": False,
}


class BuiltArticle(Protocol):
    """What `article_counts` reads of a built article (`build.ArticleInfo`)."""

    source: str
    year: str
    split: object  # manifest form: a split name, or {split: [first, end]} per paragraph block


def splits_of(split: object) -> tuple[str, ...]:
    """The splits an article has rows in (several in paragraph-block mode)."""
    return (split,) if isinstance(split, str) else tuple(split)  # type: ignore[arg-type]


def article_counts(articles: Iterable[BuiltArticle]) -> dict[str, Any]:
    """The manifest's `stats`: articles in all, per outlet (`Article.source`), per year, per split."""
    by_source: Counter[str] = Counter()
    by_year: Counter[str] = Counter()
    by_split: Counter[str] = Counter()
    n = 0
    for article in articles:
        n += 1
        by_source[article.source] += 1
        by_year[article.year or UNKNOWN_YEAR] += 1
        by_split.update(splits_of(article.split))
    return {
        "articles": n,
        "articles_by_source": dict(sorted(by_source.items())),
        "articles_by_year": dict(sorted(by_year.items())),
        "articles_by_split": dict(sorted(by_split.items())),
    }


def coarse_event_counts(sub_event_counts: Mapping[str, int]) -> dict[str, int]:
    """Sub-event type counts summed per coarse ACLED event type (an unknown code keeps its name)."""
    coarse: Counter[str] = Counter()
    for label, n in sub_event_counts.items():
        try:
            coarse[scheme.coarse_event_type(label)] += n
        except KeyError:
            coarse[label] += n
    return dict(sorted(coarse.items()))


@dataclass(frozen=True)
class CountTable:
    """Counts of labels (rows, in display order) per column (splits, or one count column)."""

    title: str
    label_header: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[int, ...]], ...]
    total_column: bool = False  # a row's sum over the columns (splits partition the rows)
    total_row: bool = False  # a column's sum over the labels
    code_labels: bool = False  # labels are scheme codes: `code` in Markdown

    def totals(self) -> tuple[int, ...]:
        return tuple(sum(values[i] for _label, values in self.rows) for i in range(len(self.columns)))

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {label: dict(zip(self.columns, values, strict=False)) for label, values in self.rows}

    def markdown(self) -> str:
        header = [self.label_header, *self.columns] + (["total"] if self.total_column else [])
        lines = [
            "| " + " | ".join(header) + " |",
            "| --- |" + " ---: |" * (len(header) - 1),
        ]
        for label, values in self.rows:
            cells = [f"`{label}`" if self.code_labels else _md_escape(label), *map(str, values)]
            lines.append("| " + " | ".join(cells + ([str(sum(values))] if self.total_column else [])) + " |")
        if self.total_row:
            totals = self.totals()
            cells = ["**total**", *map(str, totals)] + ([str(sum(totals))] if self.total_column else [])
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def label_table(title: str, label_header: str, counts: Mapping[str, Mapping[str, int]],
                labels: Sequence[str], splits: Sequence[str]) -> CountTable:
    """Label x split counts: every scheme label in scheme order (zeros too), then any other label sorted."""
    seen = {label for per_split in counts.values() for label in per_split}
    order = [*labels, *sorted(seen - set(labels))]
    rows = tuple((label, tuple(int(counts.get(s, {}).get(label, 0)) for s in splits)) for label in order)
    return CountTable(title, label_header, tuple(splits), rows, total_column=True, total_row=True, code_labels=True)


def ranked_table(title: str, label_header: str, counts: Mapping[str, int], order: Literal["count", "name"],
                 noun: str) -> CountTable:
    """One count column; by descending count (then name) or by name with `unknown` last; at most MAX_ROWS rows."""
    if order == "count":
        items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    else:
        items = sorted(counts.items(), key=lambda kv: (kv[0] == UNKNOWN_YEAR, kv[0]))
    if len(items) > MAX_ROWS:
        kept, rest = items[: MAX_ROWS - 1], items[MAX_ROWS - 1 :]
        items = [*kept, (f"other ({len(rest)} {noun})", sum(n for _label, n in rest))]
    rows = tuple((label, (int(n),)) for label, n in items)
    return CountTable(title, label_header, ("articles",), rows, total_row=True)


@dataclass(frozen=True)
class FigureSpec:
    """One figure of the card: its file in the release folder and the tables it plots."""

    name: str
    file: str
    heading: str
    alt: str
    note: str
    log_scale: bool = False


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("articles", "images/articles.png", "Articles", "Articles per outlet, publication year and split",
               "Outlet is the article's `source`; the year is its publication date's (`unknown` when not recorded). "
               "In paragraph-block mode an article has rows in every split it has a block in."),
    FigureSpec("entities", "images/entities.png", "Entities", "Entity spans per label and split",
               "Gold entity spans (one per mention), counted in the split of the sentence that holds them."),
    FigureSpec("events", "images/events.png", "Event triggers", "Event triggers per ACLED event type and split",
               "Gold trigger spans per ACLED sub-event type, and summed per coarse ACLED event type "
               "(`scheme.coarse_event_type`). Types without any trigger in this release are listed with 0."),
    FigureSpec("stance", "images/stance.png", "Stance", "Stance rows per class and split (log scale)",
               f"Rows of the `stance` config: one per ordered actor pair in context; `{scheme.STANCE_NONE}` is a "
               "pair without an annotated relation. The figure uses a log scale, since "
               f"`{scheme.STANCE_NONE}` outnumbers the relation classes.", log_scale=True),
)


INTRO = (
    "Counted by the build from the rows it wrote: label counts are `label_counts` in `MANIFEST.json`, "
    "article counts its `stats` (a version published before `stats` existed keeps its manifest as "
    "published). The figures in `images/` draw these tables; they are not data files and "
    "`MANIFEST.json` does not hash them."
)


@dataclass(frozen=True)
class CorpusStats:
    """Every statistics table of a release, grouped by figure (`FIGURES` names)."""

    articles: int
    tables: dict[str, tuple[CountTable, ...]]


def corpus_stats(
    label_counts: Mapping[str, Mapping[str, Mapping[str, int]]], articles: Mapping[str, Any]
) -> CorpusStats:
    """Tables from a manifest's `label_counts` and `article_counts(...)` (cheap: counts in, counts out)."""
    from conflictnews.dataset.features import SPLITS

    sub_events = label_counts.get("events", {})
    tables = {
        "articles": (
            ranked_table("Articles per outlet", "outlet", articles["articles_by_source"], "count", "outlets"),
            ranked_table("Articles per publication year", "year", articles["articles_by_year"], "name", "years"),
            CountTable("Articles per split", "", tuple(SPLITS),
                       (("articles", tuple(int(articles["articles_by_split"].get(s, 0)) for s in SPLITS)),)),
        ),
        "entities": (
            label_table("Entity spans per label", "label", label_counts.get("entities", {}),
                        scheme.entity_labels(), SPLITS),
        ),
        "events": (
            label_table("Event triggers per coarse ACLED event type", "event type",
                        {s: coarse_event_counts(c) for s, c in sub_events.items()}, scheme.event_type_labels(), SPLITS),
            label_table("Event triggers per ACLED sub-event type", "sub-event type", sub_events,
                        scheme.sub_event_labels(), SPLITS),
        ),
        "stance": (
            label_table("Stance rows per class", "class", label_counts.get("stance", {}),
                        scheme.stance_classes(), SPLITS),
        ),
    }
    return CorpusStats(int(articles["articles"]), tables)


def stats_markdown(stats: CorpusStats) -> str:
    """The card's statistics: per figure a heading, the embedded PNG, a note and its tables."""
    parts = [INTRO]
    for spec in FIGURES:
        parts.append(f"### {spec.heading}")
        parts.append(f"![{spec.alt}]({spec.file})")
        parts.append(spec.note)
        parts += [f"{table.title}:\n\n{table.markdown()}" for table in stats.tables[spec.name]]
    return "\n\n".join(parts) + "\n"


# ---- figures -------------------------------------------------------------------------------------


@contextmanager
def _plot_style() -> Iterator[None]:
    """matplotlib's built-in defaults plus ours, whatever the user's matplotlibrc; restored after."""
    import matplotlib as mpl

    with mpl.rc_context():
        mpl.rcdefaults()
        mpl.rcParams.update(_RC)
        yield


def _axes_height(table: CountTable) -> float:
    return len(table.rows) * (len(table.columns) + 1) * BAR_HEIGHT_IN


def _draw_panel(ax: Any, table: CountTable, log_scale: bool) -> None:
    """Horizontal bars: one group per label (top to bottom in table order), one bar per column."""
    from matplotlib.ticker import MaxNLocator, StrMethodFormatter

    n_cols = len(table.columns)
    labels = [label for label, _values in table.rows]
    bar = 1.0 / (n_cols + 1)  # in label units: the group plus one bar of gap fills 1
    peak = max((v for _label, values in table.rows for v in values), default=0)
    for j, column in enumerate(table.columns):
        colour = SPLIT_COLOURS.get(column, SINGLE_COLOUR) if n_cols > 1 else SINGLE_COLOUR
        offsets = [i - 0.5 + bar * (j + 1) for i in range(len(labels))]
        values = [values[j] for _label, values in table.rows]
        ax.barh(offsets, values, height=bar, color=colour)
        for y, v in zip(offsets, values, strict=True):
            if v:  # the count at the bar's end (no text for empty bars)
                ax.annotate(f"{v:,}", (v, y), xytext=(2, 0), textcoords="offset points", va="center", fontsize=7)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)  # first row at the top
    ax.tick_params(axis="y", length=0)
    ax.set_title(table.title, loc="left")
    if log_scale:
        ax.set_xscale("log", nonpositive="clip")
        ax.set_xlim(0.8, max(peak, 1) * 4)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.set_xlim(0, max(peak, 1) * 1.15)


def _label_width_in(canvas: Any, labels: Iterable[str]) -> float:
    """Width of the longest tick label, measured with the Agg renderer's font metrics (no draw)."""
    from matplotlib.font_manager import FontProperties

    renderer = canvas.get_renderer()
    prop = FontProperties(size=_RC["font.size"])
    widths = [renderer.get_text_width_height_descent(label, prop, ismath=False)[0] for label in labels]
    return max(widths, default=0.0) / DPI


def render_png(spec: FigureSpec, tables: Sequence[CountTable]) -> bytes:
    """One figure as PNG bytes: a panel per table, stacked; its size a function of the tables only."""
    with _plot_style():
        fig = _figure(spec, tables)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _figure(spec: FigureSpec, tables: Sequence[CountTable]) -> Any:
    """The matplotlib Figure (on an Agg canvas, no pyplot): panels placed in inches, top to bottom."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    heights = [_axes_height(t) for t in tables]
    total = TOP_IN + sum(h + PANEL_TITLE_IN + PANEL_BELOW_IN for h in heights) + BOTTOM_IN
    fig = Figure(figsize=(FIGURE_WIDTH_IN, total), dpi=DPI)
    canvas = FigureCanvasAgg(fig)
    left = 0.15 + _label_width_in(canvas, (label for t in tables for label, _v in t.rows))
    top = total - TOP_IN
    for table, height in zip(tables, heights, strict=True):
        top -= PANEL_TITLE_IN
        rect = (left / FIGURE_WIDTH_IN, (top - height) / total,
                (FIGURE_WIDTH_IN - left - RIGHT_IN) / FIGURE_WIDTH_IN, height / total)
        _draw_panel(fig.add_axes(rect), table, spec.log_scale)
        top -= height + PANEL_BELOW_IN
    fig.text(0.1 / FIGURE_WIDTH_IN, 1 - 0.12 / total, spec.alt, ha="left", va="top", fontsize=11)
    columns = next((t.columns for t in tables if len(t.columns) > 1), ())
    if columns:  # one legend for the figure, in the title band (never over a bar)
        handles = [Patch(color=SPLIT_COLOURS.get(c, SINGLE_COLOUR), label=c) for c in columns]
        fig.legend(handles=handles, loc="upper right", bbox_to_anchor=(1 - 0.1 / FIGURE_WIDTH_IN, 1 - 0.05 / total),
                   ncols=len(columns), fontsize=8)
    return fig


def write_figures(stats: CorpusStats, folder: Path) -> list[str]:
    """Write every figure of `FIGURES` under `folder`; returns their relative paths."""
    written = []
    for spec in FIGURES:
        atomic_write_bytes(Path(folder) / spec.file, render_png(spec, stats.tables[spec.name]))
        written.append(spec.file)
    return written
