"""One shop's view of the language pack: which entries its engine uses, and switching entries off or on.

The pack (``knowledge.langpack``) is global; a ``SwitchedOffPackEntry`` row turns one entry off for one shop, and
the shop's own synonym groups (and the operator's global ones) replace every pack group they share a word with
(``langpack.effective_synonyms``). The admin's language pack page lists the entries with that status.

Question types and knowledge points are shown but cannot be switched off: the ranker learned its weights with
every one present, and a shop without one would feed it inputs it was never trained on.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, TextChoices
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shops.models import Shop

from .langpack import MAINLAND, language_pack
from .models import SwitchedOffPackEntry, SynonymGroup, split_words
from .text import strip_punctuation
from .vocabulary import abbreviation_groups


class EntryKind(TextChoices):
    SYNONYMS = "syn", gettext_lazy("Synonym groups")
    BROADER = "broader", gettext_lazy("Broader words")
    QUESTION_TYPES = "qt", gettext_lazy("Question types")
    REGIONS = "region", gettext_lazy("Regions")
    ABBREVIATIONS = "abbr", gettext_lazy("Abbreviations and units")
    POINTS = "point", gettext_lazy("Knowledge points")


class EntryStatus(TextChoices):
    ON = "on", gettext_lazy("In use")
    OFF = "off", gettext_lazy("Switched off for this shop")
    OVERRIDDEN = "overridden", gettext_lazy("Replaced by a synonym group")
    FIXED = "fixed", gettext_lazy("Always on (the ranker relies on it)")
    INERT = "inert", gettext_lazy("Reference only (does not change answers)")


@dataclass(frozen=True)
class PackEntryRow:
    id: str
    kind: str
    domain: str
    title: str
    detail: str
    status: str
    # The shop's or the operator's synonym group that replaces this entry, when it is replaced.
    replaced_by: str = ""

    @property
    def switchable(self) -> bool:
        return self.status in (EntryStatus.ON, EntryStatus.OFF, EntryStatus.OVERRIDDEN)

    @property
    def switched_off(self) -> bool:
        return self.status == EntryStatus.OFF

    @property
    def status_label(self) -> str:
        return str(EntryStatus(self.status).label)


def _kind_of(entry_id: str) -> str:
    return entry_id.split(":", 1)[0]


def _group_words(canonical: str, words: str) -> set[str]:
    return {strip_punctuation(w) for w in (canonical, *split_words(words))} - {""}


def _replacing_groups(shop: Shop) -> list[tuple[str, set[str]]]:
    """(label, words) of the shop's own synonym groups, then the operator's global ones."""
    own, shared = [], []
    for group in SynonymGroup.objects.filter(Q(shop=shop) | Q(shop__isnull=True)).order_by("canonical"):
        words = _group_words(group.canonical, group.words)
        if group.shop_id is None:
            shared.append((_("%(word)s (global)") % {"word": group.canonical}, words))
        else:
            own.append((group.canonical, words))
    return own + shared


def _engine_abbreviation_ids() -> frozenset[str]:
    return frozenset(group.id for group in abbreviation_groups())


def shop_pack_entries(shop: Shop, kind: str = EntryKind.SYNONYMS, query: str = "") -> list[PackEntryRow]:
    """The pack's entries of ``kind`` as the shop's engine sees them; ``query`` keeps entries mentioning it."""
    pack = language_pack()
    off = set(SwitchedOffPackEntry.objects.filter(shop=shop).values_list("entry_id", flat=True))
    needle = strip_punctuation(query)
    rows: list[PackEntryRow] = []

    def add(entry_id: str, domain: str, title: str, words: Iterable[str], detail: str, status: str, by: str = ""):
        if needle and needle not in title and not any(needle in w for w in words) and needle not in detail:
            return
        if status in (EntryStatus.ON, EntryStatus.OVERRIDDEN) and entry_id in off:
            status, by = EntryStatus.OFF, ""
        rows.append(PackEntryRow(entry_id, kind, domain, title, detail, status, by))

    if kind == EntryKind.SYNONYMS:
        groups = _replacing_groups(shop)
        for entry in pack.synonyms:
            by = next((label for label, words in groups if not words.isdisjoint(entry.all_words)), "")
            status = EntryStatus.OVERRIDDEN if by else EntryStatus.ON
            add(entry.id, entry.domain, entry.canonical, entry.words, " ".join(entry.words), status, by)
    elif kind == EntryKind.BROADER:
        for broader in pack.broader:
            add(
                broader.id,
                broader.domain,
                broader.broader,
                broader.narrower,
                " ".join(broader.narrower),
                EntryStatus.ON,
            )
    elif kind == EntryKind.QUESTION_TYPES:
        for qt in pack.question_types:
            cues = (*qt.words, *qt.suffixes, *(p.pattern for p in qt.patterns))
            add(qt.id, qt.type, qt.label, cues, " ".join(cues), EntryStatus.FIXED)
    elif kind == EntryKind.REGIONS:
        for region in pack.regions:
            where = f"{region.region_class} · {region.parent}" if region.parent else region.region_class
            detail = f"{where} · {' '.join(region.aliases)}" if region.aliases else where
            status = EntryStatus.INERT if region.region_class == MAINLAND else EntryStatus.ON
            add(region.id, region.region_class, region.name, region.aliases, detail, status)
    elif kind == EntryKind.ABBREVIATIONS:
        used = _engine_abbreviation_ids()
        for abbr in pack.abbreviations:
            detail = " ".join(abbr.equivalents) + (f" · {abbr.note}" if abbr.note else "")
            status = EntryStatus.ON if abbr.id in used else EntryStatus.INERT
            add(abbr.id, abbr.domain, abbr.term, abbr.equivalents, detail, status)
    elif kind == EntryKind.POINTS:
        for point in pack.points:
            add(point.id, point.domain, point.label, point.questions, " | ".join(point.questions), EntryStatus.FIXED)
    else:
        raise ValidationError({"kind": _("Unknown kind of pack entry.")})
    return rows


def switch_pack_entry(shop: Shop, entry_id: str, *, on: bool, user=None) -> bool:
    """Switch one pack entry off (``on=False``) or back on for ``shop``; returns whether anything changed.

    Only entries the pack has and the engine can do without are switched: question types are not.
    The row's signal bumps the shop's knowledge stamp, so every process rebuilds the shop's index.
    """
    pack = language_pack()
    if entry_id not in pack.entry_ids:
        raise ValidationError({"entry_id": _("The language pack has no entry “%(id)s”.") % {"id": entry_id}})
    if _kind_of(entry_id) in (EntryKind.QUESTION_TYPES, EntryKind.POINTS):
        raise ValidationError(
            {"entry_id": _("Question types and knowledge points cannot be switched off: the ranker relies on them.")}
        )
    with transaction.atomic():
        if on:
            removed = SwitchedOffPackEntry.objects.filter(shop=shop, entry_id=entry_id).first()
            if removed is None:
                return False
            removed.delete()  # one row, so that its signal bumps the stamp
            return True
        created = SwitchedOffPackEntry.objects.get_or_create(
            shop=shop, entry_id=entry_id, defaults={"switched_off_by": user}
        )[1]
        return created
