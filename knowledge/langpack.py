"""The Chinese e-commerce language pack shipped with Shopbee: synonyms, broader words, question types, regions,
abbreviations and knowledge points (the standard questions every shop is asked, each in many shoppers' words).

The pack is data, not code: the tab-separated files in ``knowledge/langpack/`` (one entry a line, ``#`` comments,
a ``# version:`` header). This module reads and checks them; it imports nothing but the standard library, so
the engine, a management command or a test can use it without Django.

Every entry has a stable id (``syn:<canonical>``, ``broader:<word>``, ``qt:<type>``, ``region:<name>``,
``abbr:<domain>:<term>``, ``point:<topic>``) that a shop can switch off (question types and knowledge points
are shown but always on: the ranker relies on them). ``effective_synonyms`` applies the override rule:
switched-off pack groups drop out, and a shop's own group replaces every pack group it shares a word with.
"""

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

PACK_DIR = Path(__file__).with_name("langpack")
SYNONYMS_FILE = "synonyms.tsv"
QUESTION_TYPES_FILE = "question_types.tsv"
REGIONS_FILE = "regions.tsv"
ABBREVIATIONS_FILE = "abbreviations.tsv"
BROADER_FILE = "broader.tsv"
POINTS_FILE = "topics.tsv"

GENERAL_DOMAINS = (
    "logistics",
    "stock",
    "aftersales",
    "payment",
    "invoice",
    "promotion",
    "membership",
    "order",
    "service",
    "product",
    "colloquial",
)
INDUSTRY_DOMAINS = ("apparel", "shoes", "beauty", "digital", "home", "food", "baby")
SYNONYM_DOMAINS = frozenset(GENERAL_DOMAINS + INDUSTRY_DOMAINS)
ABBREVIATION_DOMAINS = SYNONYM_DOMAINS | {"unit", "commerce"}

REMOTE, GREATER_CHINA, OVERSEAS, MAINLAND = "偏远地区", "港澳台", "海外", "大陆普通"
REGION_CLASSES = (REMOTE, GREATER_CHINA, OVERSEAS, MAINLAND)
# Longest first: "新疆维吾尔自治区" must lose "自治区", not just "区".
_REGION_SUFFIXES = ("特别行政区", "自治区", "自治州", "地区", "省", "市", "盟", "州", "县")

CUE_KINDS = ("word", "suffix", "pattern")

# Text is matched after punctuation became spaces (knowledge.text.strip_punctuation): a word with punctuation
# or an underscore could never match, so pack words are letters and digits only. Abbreviations are reference
# data and keep the spelling people use (type-c, 3.5mm).
_WORD = re.compile(r"[^\W_]+")
_TERM = re.compile(r"(?:[^\W_]|[.+\-])+")
_TYPE_ID = re.compile(r"[a-z][a-z_]*")
_VERSION = re.compile(r"#\s*version:\s*(\S+)\s*$")


class LanguagePackError(ValueError):
    """A malformed pack file; the message names the file and the line."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path.name}, line {line}: {message}")
        self.path = path
        self.line = line


@dataclass(frozen=True)
class SynonymEntry:
    """Words a shopper uses for one thing; the engine maps each member to ``canonical``."""

    id: str
    domain: str
    canonical: str
    words: tuple[str, ...]

    @property
    def all_words(self) -> tuple[str, ...]:
        return (self.canonical, *self.words)


@dataclass(frozen=True)
class BroaderEntry:
    """A word and the narrower words that also speak of it: a shopper's 夏威夷果 is a 坚果, a 划痕 a 质量问题."""

    id: str
    domain: str
    broader: str
    narrower: tuple[str, ...]


@dataclass(frozen=True)
class QuestionType:
    """What kind of answer a question asks for, and the cues that say so."""

    id: str
    type: str
    label: str
    words: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()


@dataclass(frozen=True)
class Region:
    id: str
    name: str
    region_class: str
    parent: str | None
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Abbreviation:
    id: str
    domain: str
    term: str
    equivalents: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class KnowledgePoint:
    """A question nearly every shop is asked (发货时间, 能否开发票), in the words shoppers use for it."""

    id: str
    topic: str
    label: str
    domain: str
    questions: tuple[str, ...]


@dataclass(frozen=True)
class LanguagePack:
    version: str
    synonyms: tuple[SynonymEntry, ...]
    question_types: tuple[QuestionType, ...]
    regions: tuple[Region, ...]
    abbreviations: tuple[Abbreviation, ...]
    _regions_by_name: Mapping[str, Region] = field(repr=False, compare=False)
    broader: tuple[BroaderEntry, ...] = ()
    points: tuple[KnowledgePoint, ...] = ()

    @property
    def entry_ids(self) -> frozenset[str]:
        groups: tuple[
            tuple[SynonymEntry | BroaderEntry | QuestionType | Region | Abbreviation | KnowledgePoint, ...], ...
        ] = (
            self.synonyms,
            self.broader,
            self.question_types,
            self.regions,
            self.abbreviations,
            self.points,
        )
        return frozenset(entry.id for group in groups for entry in group)

    def region(self, name: str) -> Region | None:
        """The place called ``name`` (a name or alias, with or without 省/市/自治区... suffix), if known.

        Full-width and case are folded here; Traditional characters are not (that needs OpenCC): pass text
        through ``knowledge.text.normalize`` first.
        """
        name = _fold(name)
        found = self._regions_by_name.get(name)
        if found is not None:
            return found
        for suffix in _REGION_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix) + 1:
                found = self._regions_by_name.get(name[: -len(suffix)])
                if found is not None:
                    return found
        return None

    def region_class(self, name: str) -> str | None:
        found = self.region(name)
        return found.region_class if found else None


def _fold(text: str) -> str:
    """The part of ``knowledge.text.normalize`` the standard library can do: half-width, lower case, trimmed."""
    return unicodedata.normalize("NFKC", text).lower().strip()


class _Version(NamedTuple):
    text: str
    line: int


def _rows(path: Path, min_fields: int, max_fields: int) -> tuple[_Version, list[tuple[int, list[str]]]]:
    """The file's version and its entry lines (line number, tab-separated fields)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LanguagePackError(path, 0, "the file is missing") from None
    except UnicodeDecodeError as error:
        raise LanguagePackError(path, _line_of(path, error.start), "not UTF-8") from None
    version = None
    rows: list[tuple[int, list[str]]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        # Only spaces come off the end: a trailing tab marks an empty last field, which the checks report.
        line = raw.rstrip(" ")
        if line.startswith("#"):
            match = _VERSION.match(line)
            if match and version is None:
                version = _Version(match.group(1), number)
            continue
        if not line:
            continue
        fields = line.split("\t")
        if not min_fields <= len(fields) <= max_fields:
            expected = str(min_fields) if min_fields == max_fields else f"{min_fields} to {max_fields}"
            raise LanguagePackError(path, number, f"{len(fields)} tab-separated fields, expected {expected}")
        rows.append((number, [f.strip() for f in fields]))
    if version is None:
        raise LanguagePackError(path, 1, "no '# version: ...' header line")
    return version, rows


def _line_of(path: Path, offset: int) -> int:
    return path.read_bytes()[:offset].count(b"\n") + 1


def _words(path: Path, line: int, text: str, what: str, pattern: re.Pattern[str] = _WORD) -> tuple[str, ...]:
    """Space-separated words, each already normalised; a repeated word is an error."""
    words = tuple(text.split(" ")) if text else ()
    seen: set[str] = set()
    for word in words:
        _check_word(path, line, word, what, pattern)
        if word in seen:
            raise LanguagePackError(path, line, f"'{word}' appears twice in the same {what}")
        seen.add(word)
    return words


def _check_word(path: Path, line: int, word: str, what: str, pattern: re.Pattern[str] = _WORD) -> None:
    if not word:
        raise LanguagePackError(path, line, f"an empty word in the {what} (two spaces in a row?)")
    if _fold(word) != word:
        raise LanguagePackError(path, line, f"'{word}' is not normalised: write it as '{_fold(word)}'")
    if not pattern.fullmatch(word):
        raise LanguagePackError(path, line, f"'{word}' has punctuation or spaces, which text matching drops")


def _check_domain(path: Path, line: int, domain: str) -> None:
    if domain not in SYNONYM_DOMAINS:
        raise LanguagePackError(path, line, f"unknown domain '{domain}'; known: {', '.join(sorted(SYNONYM_DOMAINS))}")


def _load_synonyms(path: Path) -> tuple[_Version, tuple[SynonymEntry, ...]]:
    version, rows = _rows(path, 3, 3)
    entries: list[SynonymEntry] = []
    canonical_line: dict[str, int] = {}
    owner: dict[tuple[str, str], tuple[str, int]] = {}  # (domain, word) -> (canonical, line)
    for line, (domain, canonical, members) in rows:
        _check_domain(path, line, domain)
        _check_word(path, line, canonical, "group")
        if canonical in canonical_line:
            raise LanguagePackError(
                path, line, f"a group for '{canonical}' already exists (line {canonical_line[canonical]})"
            )
        words = _words(path, line, members, "group")
        if not words:
            raise LanguagePackError(path, line, f"the group '{canonical}' is empty: it needs at least one member")
        if canonical in words:
            raise LanguagePackError(path, line, f"'{canonical}' appears twice in the same group")
        for word in (canonical, *words):
            other = owner.get((domain, word))
            if other is not None:
                raise LanguagePackError(
                    path,
                    line,
                    f"'{word}' is already in the {domain} group '{other[0]}' (line {other[1]}); "
                    "a word maps to one canonical word per domain",
                )
            owner[(domain, word)] = (canonical, line)
        canonical_line[canonical] = line
        entries.append(SynonymEntry(f"syn:{canonical}", domain, canonical, words))
    return version, tuple(entries)


def _load_broader(path: Path) -> tuple[_Version, tuple[BroaderEntry, ...]]:
    version, rows = _rows(path, 3, 3)
    entries: list[BroaderEntry] = []
    broader_line: dict[str, int] = {}
    owner: dict[str, tuple[str, int]] = {}  # narrower word -> (broader word, line)
    for line, (domain, broader, members) in rows:
        _check_domain(path, line, domain)
        _check_word(path, line, broader, "entry")
        if broader in broader_line:
            raise LanguagePackError(
                path, line, f"an entry for '{broader}' already exists (line {broader_line[broader]})"
            )
        words = _words(path, line, members, "entry")
        if not words:
            raise LanguagePackError(path, line, f"the entry '{broader}' has no narrower words")
        if broader in words:
            raise LanguagePackError(path, line, f"'{broader}' cannot be narrower than itself")
        for word in words:
            other = owner.get(word)
            if other is not None:
                raise LanguagePackError(path, line, f"'{word}' is already narrower than '{other[0]}' (line {other[1]})")
            owner[word] = (broader, line)
        broader_line[broader] = line
        entries.append(BroaderEntry(f"broader:{broader}", domain, broader, words))
    return version, tuple(entries)


def _load_question_types(path: Path) -> tuple[_Version, tuple[QuestionType, ...]]:
    version, rows = _rows(path, 4, 4)
    labels: dict[str, str] = {}
    cues: dict[str, dict[str, tuple]] = {}
    cue_owner: dict[str, tuple[str, int]] = {}
    for line, (type_id, label, kind, text) in rows:
        if not _TYPE_ID.fullmatch(type_id):
            raise LanguagePackError(path, line, f"the type '{type_id}' must be lower-case letters and _")
        if not label:
            raise LanguagePackError(path, line, f"the type '{type_id}' has no label")
        if labels.setdefault(type_id, label) != label:
            raise LanguagePackError(path, line, f"the type '{type_id}' is labelled '{labels[type_id]}' elsewhere")
        if kind not in CUE_KINDS:
            raise LanguagePackError(path, line, f"unknown cue kind '{kind}'; known: {', '.join(CUE_KINDS)}")
        kinds = cues.setdefault(type_id, {})
        if kind in kinds:
            raise LanguagePackError(path, line, f"a second '{kind}' line for '{type_id}': put the cues on one line")
        if kind == "pattern":
            compiled = []
            for source in text.split(" ") if text else ():
                try:
                    compiled.append(re.compile(source))
                except re.error as error:
                    raise LanguagePackError(
                        path, line, f"the pattern '{source}' is not a valid regex: {error}"
                    ) from None
            kinds[kind] = tuple(compiled)
        else:
            words = _words(path, line, text, "cue list")
            for word in words:
                other = cue_owner.get(word)
                if other is not None:
                    raise LanguagePackError(
                        path, line, f"the cue '{word}' already belongs to '{other[0]}' (line {other[1]})"
                    )
                cue_owner[word] = (type_id, line)
            kinds[kind] = words
        if not kinds[kind]:
            raise LanguagePackError(path, line, f"the '{kind}' line of '{type_id}' has no cues")
    types = tuple(
        QuestionType(
            f"qt:{type_id}",
            type_id,
            labels[type_id],
            kinds.get("word", ()),
            kinds.get("suffix", ()),
            kinds.get("pattern", ()),
        )
        for type_id, kinds in cues.items()
    )
    return version, types


def _load_regions(path: Path) -> tuple[_Version, tuple[Region, ...], dict[str, Region]]:
    version, rows = _rows(path, 3, 4)
    regions: list[Region] = []
    by_name: dict[str, Region] = {}
    defined_at: dict[str, int] = {}
    for line, (name, region_class, parent, *rest) in rows:
        _check_word(path, line, name, "region")
        if region_class not in REGION_CLASSES:
            raise LanguagePackError(
                path, line, f"unknown region class '{region_class}'; known: {', '.join(REGION_CLASSES)}"
            )
        parent_name = None if parent == "-" else parent
        if parent_name is not None:
            above = by_name.get(parent_name)
            if above is None or above.name != parent_name or above.parent is not None:
                raise LanguagePackError(
                    path, line, f"the parent '{parent_name}' is not a province or country defined above"
                )
            if above.region_class != region_class:
                raise LanguagePackError(
                    path,
                    line,
                    f"'{name}' is {region_class} but its parent '{parent_name}' is {above.region_class}",
                )
        aliases = _words(path, line, rest[0] if rest else "", "region")
        region = Region(f"region:{name}", name, region_class, parent_name, aliases)
        for key in (name, *aliases):
            if key in defined_at:
                raise LanguagePackError(path, line, f"the place name '{key}' is already used (line {defined_at[key]})")
            defined_at[key] = line
            by_name[key] = region
        regions.append(region)
    return version, tuple(regions), by_name


def _load_abbreviations(path: Path) -> tuple[_Version, tuple[Abbreviation, ...]]:
    version, rows = _rows(path, 3, 4)
    entries: list[Abbreviation] = []
    defined_at: dict[tuple[str, str], int] = {}
    for line, (domain, term, text, *rest) in rows:
        if domain not in ABBREVIATION_DOMAINS:
            raise LanguagePackError(
                path, line, f"unknown domain '{domain}'; known: {', '.join(sorted(ABBREVIATION_DOMAINS))}"
            )
        _check_word(path, line, term, "abbreviation", _TERM)
        if (domain, term) in defined_at:
            raise LanguagePackError(
                path, line, f"'{term}' is already defined for {domain} (line {defined_at[domain, term]})"
            )
        equivalents = _words(path, line, text, "abbreviation", _TERM)
        if not equivalents:
            raise LanguagePackError(path, line, f"'{term}' has no equivalents")
        if term in equivalents:
            raise LanguagePackError(path, line, f"'{term}' appears twice in the same abbreviation")
        defined_at[domain, term] = line
        entries.append(Abbreviation(f"abbr:{domain}:{term}", domain, term, equivalents, rest[0] if rest else ""))
    return version, tuple(entries)


def _load_points(path: Path) -> tuple[_Version, tuple[KnowledgePoint, ...]]:
    version, rows = _rows(path, 4, 4)
    points: dict[str, KnowledgePoint] = {}
    owner: dict[str, tuple[str, int]] = {}  # question -> (topic, line)
    for line, (topic, label, domain, questions) in rows:
        if not _TYPE_ID.fullmatch(topic):
            raise LanguagePackError(path, line, f"'{topic}' is not a topic id (lower-case letters and _)")
        _check_domain(path, line, domain)
        asked = tuple(_fold(q) for q in questions.split("|"))
        for question in asked:
            if not question:
                raise LanguagePackError(path, line, "an empty question (two | in a row?)")
            other = owner.get(question)
            if other is not None:
                raise LanguagePackError(
                    path, line, f"'{question}' is already a question of '{other[0]}' (line {other[1]})"
                )
            owner[question] = (topic, line)
        known = points.get(topic)
        if known is not None:
            if (known.label, known.domain) != (label, domain):
                raise LanguagePackError(path, line, f"'{topic}' has another label or domain on an earlier line")
            asked = known.questions + asked
        points[topic] = KnowledgePoint(f"point:{topic}", topic, label, domain, asked)
    return version, tuple(points.values())


def load_pack(directory: Path = PACK_DIR) -> LanguagePack:
    """Read and check the six pack files; raises ``LanguagePackError`` naming the file and line of a fault.

    The pack is released as one: every file carries the same version.
    """
    versions: dict[str, _Version] = {}
    versions[SYNONYMS_FILE], synonyms = _load_synonyms(directory / SYNONYMS_FILE)
    versions[BROADER_FILE], broader = _load_broader(directory / BROADER_FILE)
    versions[QUESTION_TYPES_FILE], question_types = _load_question_types(directory / QUESTION_TYPES_FILE)
    versions[REGIONS_FILE], regions, by_name = _load_regions(directory / REGIONS_FILE)
    versions[ABBREVIATIONS_FILE], abbreviations = _load_abbreviations(directory / ABBREVIATIONS_FILE)
    versions[POINTS_FILE], points = _load_points(directory / POINTS_FILE)
    version = versions[SYNONYMS_FILE].text
    for name, other in versions.items():
        if other.text != version:
            raise LanguagePackError(
                directory / name, other.line, f"version '{other.text}' differs from {SYNONYMS_FILE}'s '{version}'"
            )
    return LanguagePack(
        version, synonyms, question_types, regions, abbreviations, MappingProxyType(by_name), broader, points
    )


@cache
def language_pack() -> LanguagePack:
    """The shipped pack, read once per process."""
    return load_pack(PACK_DIR)


def effective_synonyms(
    pack_groups: Iterable[SynonymEntry],
    shop_groups: Iterable[tuple[str, Iterable[str]]],
    switched_off: Iterable[str] = (),
) -> tuple[SynonymEntry, ...]:
    """The synonym groups a shop's engine uses: the pack's, then the shop's own.

    ``shop_groups``: (canonical, members) of the shop's groups, normalised like the engine's text.
    ``switched_off``: pack entry ids the shop turned off; ids no longer in the pack are ignored, so a pack
    upgrade that drops or renames an entry never breaks a shop.

    A pack group drops out when it is switched off, or when it shares any word (canonical or member) with one
    of the shop's groups: the shop has said what that word means, and half a pack group next to it would map
    the rest of its words somewhere the shop did not choose.
    """
    off = frozenset(switched_off)
    own = tuple(
        SynonymEntry(f"shop:{canonical}", "shop", canonical, tuple(w for w in dict.fromkeys(words) if w != canonical))
        for canonical, words in ((_fold(c), [_fold(w) for w in ws]) for c, ws in shop_groups)
    )
    taken = {word for group in own for word in group.all_words}
    kept = tuple(group for group in pack_groups if group.id not in off and taken.isdisjoint(group.all_words))
    return kept + own
