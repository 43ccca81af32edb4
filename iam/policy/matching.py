"""Wildcard patterns (``*`` and ``?``) of actions, resources and ``String*Like`` values.

Patterns become regular expressions that cannot backtrack catastrophically. A naive translation
of ``*a*a*a*`` into ``.*a.*a.*a.*`` takes polynomial time on long non-matching input (a request
resource is chosen by the caller). Glob matching needs no backtracking: every literal run between
two stars may be matched at its earliest position, so each such run becomes an atomic group
``(?>.*?run)`` and only the last run, which must end the string, is left to the engine. Matching is
then linear in the input for every pattern.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from operator import itemgetter

WILDCARD_CHARACTERS = frozenset("*?")
RESOURCE_SEGMENT_COUNT = 5  # acs:<service>:<region>:<account-id>:<relative-id>


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def _literal_run_to_regex(run: str, any_character: str) -> str:
    return any_character.join(re.escape(piece) for piece in run.split("?"))


def wildcard_to_regex(pattern: str, *, any_character: str = ".") -> str:
    """Translate one wildcard pattern into a regex meant for ``fullmatch``.

    ``any_character`` is what ``*`` and ``?`` may consume: ``.`` (with DOTALL) for free text,
    ``[^:]`` inside one segment of a resource ARN.
    """
    head, *rest = pattern.split("*")
    if not rest:
        return _literal_run_to_regex(head, any_character)
    *middle, tail = rest
    parts = [_literal_run_to_regex(head, any_character)]
    parts.extend(
        f"(?>{any_character}*?{_literal_run_to_regex(run, any_character)})" for run in middle if run
    )
    parts.append(f"{any_character}*{_literal_run_to_regex(tail, any_character)}")
    return "".join(parts)


def resource_pattern_to_regex(pattern: str) -> str:
    """Translate a resource pattern ``acs:<service>:<region>:<account-id>:<relative-id>``.

    Wildcards in the first four segments stay inside their segment (``acs:ram:*:123:role/x`` does
    not let ``*`` swallow an account id); in the relative id they may span ``/`` and ``:``. A ``*``
    region or account matches the empty segment of RAM ARNs (``acs:ram::123:role/x``) because
    ``*`` matches the empty string. A pattern that is not an ARN is matched as free text.
    """
    segments = split_resource(pattern)
    if len(segments) != RESOURCE_SEGMENT_COUNT:
        return wildcard_to_regex(pattern)
    *fixed, relative_id = segments
    fixed_parts = [wildcard_to_regex(segment, any_character="[^:]") for segment in fixed]
    return ":".join([*fixed_parts, wildcard_to_regex(relative_id)])


def split_resource(resource: str) -> list[str]:
    """The segments of a resource ARN (the relative id keeps its colons)."""
    return resource.split(":", RESOURCE_SEGMENT_COUNT - 1)


class SegmentPattern:
    """A resource pattern whose wildcards are whole segments (``acs:ecs:*:*:instance/i-web*``),
    matched segment by segment: much cheaper to build than a regex, about as fast to test.

    ``literal_segments`` maps the index of each literal segment among acs, service, region and
    account id to its text (a ``*`` segment needs no check); ``relative_id`` is None for ``*``,
    else a literal or (``relative_is_prefix``) a prefix.
    """

    __slots__ = ("expected", "picker", "relative_id", "relative_is_prefix")

    def __init__(
        self, literal_segments: dict[int, str], relative_id: str | None, relative_is_prefix: bool
    ) -> None:
        # itemgetter over the literal segments compares them all in one C call; with a single
        # index it returns the item itself, so wrap it to always produce a tuple.
        indexes = tuple(literal_segments)
        self.expected = tuple(literal_segments.values())
        if len(indexes) > 1:
            self.picker: Callable[[list[str]], object] = itemgetter(*indexes)
        elif indexes:
            self.picker = lambda segments, index=indexes[0]: (segments[index],)
        else:
            self.picker = lambda segments: ()
        self.relative_id = relative_id
        self.relative_is_prefix = relative_is_prefix

    @classmethod
    def from_pattern(cls, pattern: str) -> SegmentPattern | None:
        """The segment pattern for ``pattern``, or None when it needs a regex."""
        segments = split_resource(pattern)
        if len(segments) != RESOURCE_SEGMENT_COUNT:
            return None
        *fixed, relative_id = segments
        if any(has_wildcard(segment) and segment != "*" for segment in fixed):
            return None
        checks = {index: segment for index, segment in enumerate(fixed) if segment != "*"}
        if relative_id == "*":
            return cls(checks, None, False)
        if not has_wildcard(relative_id):
            return cls(checks, relative_id, False)
        if relative_id.endswith("*") and not has_wildcard(relative_id[:-1]):
            return cls(checks, relative_id[:-1], True)
        return None

    def matches(self, segments: list[str]) -> bool:
        """``segments``: the five segments of the resource (see split_resource)."""
        relative_id = self.relative_id
        if relative_id is not None:
            actual = segments[-1]
            if self.relative_is_prefix:
                if not actual.startswith(relative_id):
                    return False
            elif actual != relative_id:
                return False
        return self.picker(segments) == self.expected


class PatternSet:
    """Matches a value against several wildcard patterns at once.

    A lone ``*`` short-circuits to "matches everything"; literal patterns go into a set; patterns
    whose only wildcard is one trailing ``*`` (``ecs:describe*``, ``acs:ram::1:role/web-*``)
    become a prefix test (a trailing ``*`` is always in the relative id of a resource, where it
    may span ``:``, so this is exact for resources too); resource patterns whose other wildcards
    are whole segments become SegmentPatterns; the rest one regex alternation, compiled on first
    use (building a regex costs far more than testing one, and many statements of a policy are
    never consulted for the actions a principal actually calls). Case-insensitive sets are built
    from lower-cased patterns; the caller lower-cases the value.
    """

    __slots__ = (
        "literals", "matches_everything", "prefixes", "regex", "regex_source", "segment_patterns",
    )  # fmt: skip

    def __init__(self, patterns: Iterable[str], *, resource_segments: bool = False) -> None:
        literals: set[str] = set()
        prefixes: list[str] = []
        segment_patterns: list[SegmentPattern] = []
        regexes: list[str] = []
        matches_everything = False
        translate = resource_pattern_to_regex if resource_segments else wildcard_to_regex
        for pattern in patterns:
            if pattern == "*":
                matches_everything = True
            elif not has_wildcard(pattern):
                literals.add(pattern)
            elif pattern.endswith("*") and not has_wildcard(pattern[:-1]):
                prefixes.append(pattern[:-1])
            elif resource_segments and (segment_pattern := SegmentPattern.from_pattern(pattern)):
                segment_patterns.append(segment_pattern)
            else:
                regexes.append(f"(?:{translate(pattern)})")
        self.matches_everything = matches_everything
        self.literals = frozenset(literals)
        self.prefixes = tuple(prefixes)
        self.segment_patterns = tuple(segment_patterns)
        self.regex_source = "|".join(regexes) if regexes else None
        self.regex: re.Pattern[str] | None = None

    def matches(self, value: str, segments: list[str] | None = None) -> bool:
        """Whether ``value`` matches; resource callers may pass its ``split_resource`` segments
        when they test one resource against many sets."""
        if self.matches_everything or value in self.literals:
            return True
        if self.prefixes and value.startswith(self.prefixes):
            return True
        if self.segment_patterns:
            if segments is None:
                segments = split_resource(value)
            if len(segments) == RESOURCE_SEGMENT_COUNT:
                for pattern in self.segment_patterns:
                    if pattern.matches(segments):
                        return True
        if self.regex_source is None:
            return False
        if self.regex is None:  # a race only compiles it twice
            self.regex = re.compile(self.regex_source, re.DOTALL)
        return self.regex.fullmatch(value) is not None
