"""Files derived from the scheme: the Label Studio config and the guideline label tables.

`conflictnews annotate render` rewrites them; tests fail when the committed copies drift.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import quoteattr

from conflictnews.annotation import scheme

TABLES_BEGIN = "<!-- BEGIN GENERATED LABEL TABLES (conflictnews annotate render) -->"
TABLES_END = "<!-- END GENERATED LABEL TABLES -->"


def render_label_config() -> str:
    """The Label Studio labeling config for all three layers.

    Entities and event triggers are two `<Labels>` controls on the same text, so an event
    trigger may overlap an entity. Stance is a `<Relations>` control between regions.
    """
    entity_labels = "\n".join(
        f"    <Label value={quoteattr(t.code)} background={quoteattr(t.color)} hint={quoteattr(t.description)}/>"
        for t in scheme.ENTITY_TYPES
    )
    event_labels = "\n".join(
        f"    <Label value={quoteattr(t.code)} background=\"#f4a261\" hint={quoteattr(t.acled_name)}/>"
        for t in scheme.SUB_EVENT_TYPES
    )
    relations = "\n".join(f"    <Relation value={quoteattr(t.code)}/>" for t in scheme.STANCE_LABELS)
    return f"""<View>
  <!-- Generated from conflictnews.annotation.scheme v{scheme.SCHEME_VERSION}; do not edit by hand. -->
  <Header value="Entities"/>
  <Labels name="{scheme.ENTITY_CONTROL}" toName="{scheme.TEXT_OBJECT}">
{entity_labels}
  </Labels>
  <Header value="Event triggers (ACLED sub-event types)"/>
  <Labels name="{scheme.EVENT_CONTROL}" toName="{scheme.TEXT_OBJECT}">
{event_labels}
  </Labels>
  <Header value="Stance: relate holder to target"/>
  <Relations>
{relations}
  </Relations>
  <Text name="{scheme.TEXT_OBJECT}" value="$text"/>
</View>
"""


def render_label_tables() -> str:
    """Markdown tables of every label, for GUIDELINES.md and the dataset card."""
    lines = ["### Entity labels", "", "| label | definition | OntoNotes equivalent |", "| --- | --- | --- |"]
    lines += [f"| `{t.code}` | {t.description} | {t.ontonotes} |" for t in scheme.ENTITY_TYPES]
    lines += ["", "### Event trigger labels (ACLED)", "", "| label | ACLED sub-event type | ACLED event type |",
              "| --- | --- | --- |"]
    coarse = {t.code: t.acled_name for t in scheme.EVENT_TYPES}
    lines += [f"| `{t.code}` | {t.acled_name} | {coarse[t.event_type]} |" for t in scheme.SUB_EVENT_TYPES]
    lines += ["", "### Stance labels", "", "| label | definition |", "| --- | --- |"]
    lines += [f"| `{t.code}` | {t.description} |" for t in scheme.STANCE_LABELS]
    lines += [f"| `{scheme.STANCE_NONE}` | (dataset only) an actor pair with no annotated relation. |"]
    return "\n".join(lines) + "\n"


def splice_tables(document: str, tables: str) -> str:
    """Replace the generated block between the markers in a Markdown document."""
    pattern = re.compile(re.escape(TABLES_BEGIN) + r".*?" + re.escape(TABLES_END), re.S)
    if not pattern.search(document):
        raise ValueError(f"markers {TABLES_BEGIN!r} ... {TABLES_END!r} not found")
    return pattern.sub(lambda _m: f"{TABLES_BEGIN}\n{tables}{TABLES_END}", document)


def write_rendered(annotation_dir: Path) -> list[Path]:
    """Rewrite `label_config.xml` and the tables in `GUIDELINES.md`; return the paths written."""
    from conflictnews.io import atomic_write_text

    config_path = annotation_dir / "label_config.xml"
    atomic_write_text(config_path, render_label_config())
    guidelines = annotation_dir / "GUIDELINES.md"
    atomic_write_text(guidelines, splice_tables(guidelines.read_text(encoding="utf-8"), render_label_tables()))
    return [config_path, guidelines]
