"""Semantic versions of dataset releases (https://semver.org), parsed and ordered.

Release folders are named by the bare version (`corpus/releases/1.2.0/`) and hub tags
carry a `v` prefix (`v1.2.0`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

from conflictnews.io import ConflictNewsError

# The official semver 2.0.0 grammar (numeric identifiers without leading zeros).
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


@total_ordering
@dataclass(frozen=True)
class SemVer:
    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: str = ""

    @classmethod
    def parse(cls, text: str) -> SemVer:
        """Parse `X.Y.Z[-pre][+build]`; a leading `v` (a tag) is accepted.

        >>> SemVer.parse("v1.2.0-rc.1").prerelease
        ('rc', '1')
        """
        match = _SEMVER.match(text.removeprefix("v"))
        if not match:
            raise ConflictNewsError(
                f"version {text!r} is not a semantic version (expected MAJOR.MINOR.PATCH, e.g. 0.1.0)"
            )
        major, minor, patch, pre, build = match.groups()
        return cls(int(major), int(minor), int(patch), tuple(pre.split(".")) if pre else (), build or "")

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        if self.build:
            text += "+" + self.build
        return text

    @property
    def tag(self) -> str:
        return f"v{self}"

    def _key(self) -> tuple:
        # A pre-release sorts before its release; numeric identifiers before alphanumeric ones.
        pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.prerelease)
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, pre)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, SemVer):
            return NotImplemented
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SemVer):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


def parse_version(text: str) -> str:
    """The canonical string of a version (no `v`); raises ConflictNewsError if not semver."""
    return str(SemVer.parse(text))
