"""Generated blocks inside hand-written Markdown (guidelines, README, dataset card).

A block is delimited by `<!-- BEGIN name -->` and `<!-- END name -->`; tools rewrite only what lies
between the markers, and drift tests compare it with what the tool would write.
"""

from __future__ import annotations

import re


def block_markers(name: str) -> tuple[str, str]:
    return f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"


def _pattern(name: str, capture: bool = False) -> re.Pattern[str]:
    begin, end = block_markers(name)
    body = r"\n(.*?)" if capture else r".*?"
    return re.compile(re.escape(begin) + body + re.escape(end), re.DOTALL)


def read_block(text: str, name: str) -> str:
    """The content of the one `name` block of `text`; ValueError if there is not exactly one."""
    found = _pattern(name, capture=True).findall(text)
    if len(found) != 1:
        begin, end = block_markers(name)
        raise ValueError(f"expected one block between the markers {begin} and {end}, found {len(found)}")
    return found[0]


def splice_block(text: str, name: str, content: str) -> str:
    """Replace what lies between `<!-- BEGIN name -->` and `<!-- END name -->` with `content`.

    >>> splice_block("a\\n<!-- BEGIN x -->\\nold\\n<!-- END x -->\\nb", "x", "new")
    'a\\n<!-- BEGIN x -->\\nnew\\n<!-- END x -->\\nb'
    """
    read_block(text, name)  # exactly one block, or a clear error
    begin, end = block_markers(name)
    body = content if content.endswith("\n") else content + "\n"
    return _pattern(name).sub(lambda _m: f"{begin}\n{body}{end}", text)
