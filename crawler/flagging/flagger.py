"""Decide whether a listing looks like a sale of imported used clothing, and say why.

:func:`flag` is pure: a record and a :class:`~crawler.flagging.rules.Lexicon` in, a
:class:`Verdict` out. It reads as the specification of a verdict:

1. The record's text fields are folded (:mod:`crawler.flagging.textnorm`).
2. Legal look-alikes (negatives) are matched first; a masking one blanks its text, so that
   "bukan balpres" or "mesin press bal" is not read as the trade word inside it. One that
   the positive evidence contradicts ("sisa ekspor", new export leftovers, said of worn
   goods) counts for nothing.
3. Signals (a quantity, a foreign origin, used condition, a chat hand-off...) and the
   platform's own ``condition``/``imported`` give cues; the heaviest of each kind counts.
4. Terms of the trade are matched, longest first. An ambiguous term counts only near a
   clothing word ("cakar" is also chicken feet), and some also only with a corroborating
   cue ("bal" is also a ball).
5. Combinations of cues weigh more together than apart.
6. The score is ``1 - prod(1 - weight)`` over the positive evidence, minus the negatives.
   Look-alikes that do not say what the item is in its title or category (a seller's
   "bisa untuk donasi" in a description) take off at most ``negatives_cap`` from a
   listing that holds a piece of strong evidence.
7. Without any clothing, footwear or textile word the score is scaled below the flag
   threshold, unless a matched rule can only be about clothing ("balpres") and no
   decisive look-alike says the item is something else.

Only one thing makes it fast: each rule is tried only on the fields that hold one of the
literals it declares (:mod:`crawler.flagging.prefilter`), reading all the fields as one
text (:mod:`crawler.flagging.texts`). ``flag(..., prefilter=False)`` tries every rule on
every field alone: the reference the tests hold the fast path to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, NamedTuple

from crawler.flagging.rules import Lexicon, Term
from crawler.flagging.textnorm import fold
from crawler.flagging.texts import FieldTexts, JoinedTexts

TITLE: Final = 0
DESCRIPTION: Final = 1
CATEGORY: Final = 2
TERM_PLACES: Final = (0, 1, 2)  # title, description, category: where terms and clothing words are


class Reason(NamedTuple):
    """One piece of evidence: the rule, the (folded) text it matched, and its weight."""

    rule: str
    matched: str
    weight: float


@dataclass(frozen=True)
class Verdict:
    """The decision on one listing: flagged when the level is "strong" or "medium"."""

    flagged: bool
    score: float
    level: str
    reasons: tuple[Reason, ...]
    lexicon_version: str

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able form, for items and evidence reports."""
        return {
            "flagged": self.flagged,
            "score": self.score,
            "level": self.level,
            "reasons": [
                {"rule": r.rule, "matched": r.matched, "weight": r.weight} for r in self.reasons
            ],
            "lexicon_version": self.lexicon_version,
        }


def flag(record: Mapping[str, Any], lexicon: Lexicon, *, prefilter: bool = True) -> Verdict:
    """Score *record* (``title``, ``description``, optional ``category``, ``location``,
    ``condition``, ``imported``) against *lexicon*."""
    fields = (JoinedTexts if prefilter else FieldTexts)(record, lexicon)
    context = context_reasons(fields, lexicon)  # before masking: "bukan baju bekas" is clothing
    negatives, decisive = negative_reasons(fields, lexicon)
    signals = signal_reasons(fields, record, lexicon)
    terms = term_reasons(fields, signals, lexicon)
    positive = terms + signals
    positive += combination_reasons(positive, lexicon)
    if negatives:
        negatives, decisive = uncontradicted(negatives, decisive, positive, lexicon)
    score = combined_score(positive, negatives, decisive, lexicon)
    if not context and not any(decisive):  # a book or a machine is no clothing
        context = implied_context(positive, lexicon)
    if not context:
        score *= lexicon.scoring.without_context_factor
    score = round(min(score, 1.0), 3)
    level = level_of(score, lexicon)
    return Verdict(flagged=level in ("strong", "medium"), score=score, level=level,
                   reasons=(*positive, *negatives, *context), lexicon_version=lexicon.version)


def combined_score(positive: list[Reason], negatives: list[Reason], decisive: list[bool],
                   lexicon: Lexicon) -> float:
    """``1 - prod(1 - weight)`` over the positive evidence, minus the negatives' weights;
    those not ``decisive`` take off at most ``negatives_cap`` if a piece of the positive
    evidence is strong on its own."""
    remaining = 1.0
    for reason in positive:
        remaining *= 1.0 - reason.weight
    scoring = lexicon.scoring
    decided = -sum(reason.weight for reason, full in zip(negatives, decisive, strict=True)
                   if full)
    other = -sum(reason.weight for reason, full in zip(negatives, decisive, strict=True)
                 if not full)
    if any(reason.weight >= scoring.strong for reason in positive):
        other = min(other, scoring.negatives_cap)
    return max(0.0, 1.0 - remaining - decided - other)


def level_of(score: float, lexicon: Lexicon) -> str:
    scoring = lexicon.scoring
    for level, threshold in (("strong", scoring.strong), ("medium", scoring.medium),
                             ("weak", scoring.weak)):
        if score >= threshold and score > 0:
            return level
    return "none"


# -- legal look-alikes ----------------------------------------------------------------------

def negative_reasons(fields: FieldTexts, lexicon: Lexicon) -> tuple[list[Reason], list[bool]]:
    """Each look-alike that matches, in lexicon order, with its first match, and whether it
    decides what the item is (a decisive one, found in the title or category); a masking
    one blanks its text in every field it looks at, before the next one is tried."""
    reasons, decisive = [], []
    for number in fields.numbers("negative"):
        negative = lexicon.negatives[number]
        found = fields.first(negative.matcher, negative.places, "negative", number)
        if found is None:
            continue
        place, match = found
        reasons.append(Reason(negative.name, match.group(), -negative.weight or 0.0))
        decisive.append(negative.decisive and place in (TITLE, CATEGORY))
        if negative.mask:
            fields.mask(negative.matcher, negative.places)
    return reasons, decisive


def uncontradicted(negatives: list[Reason], decisive: list[bool], positive: list[Reason],
                   lexicon: Lexicon) -> tuple[list[Reason], list[bool]]:
    """The look-alikes that no positive evidence shows to be a cover ("koleksi pribadi",
    one's own, said of stock restocked every week), with whether each is decisive."""
    found = {reason.rule for reason in positive}
    contradicted = {negative.name for negative in lexicon.negatives
                    if negative.contradicted_by & found}
    kept = [(reason, full) for reason, full in zip(negatives, decisive, strict=True)
            if reason.rule not in contradicted]
    return [reason for reason, _ in kept], [full for _, full in kept]


# -- cues ------------------------------------------------------------------------------------

def signal_reasons(fields: FieldTexts, record: Mapping[str, Any],
                   lexicon: Lexicon) -> list[Reason]:
    """The heaviest match of each signal kind (the first, of equal weights), plus what the
    platform states."""
    best: dict[str, Reason] = {}
    for number in fields.numbers("signal"):
        signal = lexicon.signals[number]
        rule = signal.name
        if rule in best and best[rule].weight >= signal.weight:
            continue  # it could not replace what is found
        found = fields.first(signal.matcher, signal.places, "signal", number)
        if found is not None:
            offer(best, Reason(rule, found[1].group(), signal.weight))
    cues = lexicon.record
    used = fold_repeated(str(record.get("condition") or "")) in cues.used_conditions
    imported = record.get("imported") is True
    if used and imported:
        offer(best, Reason("signal:platform_used_imported",
                           f"condition={record['condition']}, imported=true",
                           cues.used_imported_weight))
    elif used:
        offer(best, Reason("signal:used", f"condition={record['condition']}", cues.used_weight))
    elif imported:
        offer(best, Reason("signal:origin", "imported=true", cues.imported_weight))
    return list(best.values())


fold_repeated = lru_cache(maxsize=4096)(fold)  # a platform's few condition values


def offer(best: dict[str, Reason], reason: Reason) -> None:
    """Keep *reason* if it is the heaviest of its rule so far."""
    if reason.rule not in best or reason.weight > best[reason.rule].weight:
        best[reason.rule] = reason


def combination_reasons(reasons: list[Reason], lexicon: Lexicon) -> list[Reason]:
    """Combinations whose every group has a matched rule; ``matched`` joins one match per group."""
    matched = {reason.rule: reason.matched for reason in reasons}
    found = []
    for combination in lexicon.combinations:
        parts = []
        for group in combination.all_of:
            for rule in group:
                if rule in matched:
                    parts.append(matched[rule])
                    break
            else:  # no rule of this group matched
                break
        else:
            found.append(Reason(combination.name, " + ".join(parts), combination.weight))
    return found


# -- terms of the trade ----------------------------------------------------------------------

TermMatch = tuple[int, int, int, int, re.Match[str]]  # (-length, term, field, start, match)


def term_reasons(fields: FieldTexts, signals: list[Reason], lexicon: Lexicon) -> list[Reason]:
    """One reason per matched term. A term that needs corroboration counts once the listing
    is corroborated for it, by its signals or by its other terms."""
    matches, misspelt = term_matches(fields, lexicon), typos(fields, lexicon)
    titled = any(lexicon.terms[number].needs_corroboration for _, number, *_ in matches) \
        and title_names_clothing(fields, lexicon)
    terms = counted_terms(fields, matches, misspelt, lexicon, signals, titled)
    if terms and any(lexicon.terms[number].needs_corroboration for _, number, *_ in matches):
        terms = counted_terms(fields, matches, misspelt, lexicon, signals + terms, titled)
    return terms


def title_names_clothing(fields: FieldTexts, lexicon: Lexicon) -> bool:
    """Does the title hold a clothing word? The listing is then for clothing, and a term
    that needs corroboration may stand anywhere in its text ("Kemeja pria | ... kami
    reseller karungan dari luar")."""
    return any(fields.first(lexicon.context[number].matcher, (TITLE,), "context", number)
               for number in fields.numbers("context", TITLE))


def term_matches(fields: FieldTexts, lexicon: Lexicon) -> list[TermMatch]:
    """Every term match, longest first, so "bal segel" wins over the "bal" inside it; at
    equal length in lexicon order, then field order, then position."""
    found = []
    for place in TERM_PLACES:
        for number in fields.numbers("term", place):
            for match in fields.every(lexicon.terms[number].matcher, place):
                start, end = match.span()
                found.append((start - end, number, place, start, match))
    found.sort(key=lambda item: item[:4])
    return found


def counted_terms(fields: FieldTexts, matches: list[TermMatch],  # noqa: PLR0917
                  misspelt: list[tuple[int, str]], lexicon: Lexicon,
                  evidence: list[Reason], titled: bool) -> list[Reason]:
    """One reason per term; overlapping matches count once, for the longest. A term that
    needs corroboration counts only if the *evidence* corroborates it, one that needs a
    clothing context only near a clothing word, or anywhere in a listing *titled* with one
    if it also needs corroboration; one that needs no corroboration (a regional name), also
    in the title of a listing whose description or category names clothing."""
    names = {reason.rule for reason in evidence}
    reasons: dict[int, Reason] = {}
    taken: dict[int, list[tuple[int, int]]] = {place: [] for place in TERM_PLACES}
    for _, number, place, start, match in matches:
        end, term = match.end(), lexicon.terms[number]
        if any(start < other_end and other_start < end for other_start, other_end in taken[place]):
            continue
        if term.needs_corroboration and not corroborates(term, names, lexicon):
            continue
        if term.needs_clothing_context and not (
                (titled and term.needs_corroboration)
                or near_clothing(fields, place, match, lexicon)
                or (place == TITLE and not term.needs_corroboration
                    and clothing_outside_title(fields, lexicon))):
            continue
        taken[place].append((start, end))
        reasons.setdefault(number, Reason(term.name, match.group(), term.weight))
    for number, word in misspelt:
        if number not in reasons:
            term = lexicon.terms[number]
            reasons[number] = Reason(term.name, word,
                                     round(term.weight * lexicon.fuzzy.weight_factor, 3))
    return [reasons[number] for number in sorted(reasons)]


def corroborates(term: Term, names: set[str], lexicon: Lexicon) -> bool:
    """Does evidence with these rule *names* let an ambiguous *term* ("bal", "karungan")
    count: a rule of its ``corroborated_by`` (or [scoring]'s), or a strong or medium term
    that needs no corroboration?"""
    corroborated_by = term.corroborated_by or lexicon.scoring.corroborated_by
    return not names.isdisjoint(corroborated_by) \
        or not names.isdisjoint(lexicon.corroborating_terms)


def near_clothing(fields: FieldTexts, place: int, match: re.Match[str], lexicon: Lexicon) -> bool:
    """Is a clothing word within ``context_window`` words of *match*, in its field?"""
    start, end = word_window(*fields.string(place), match, lexicon.scoring.context_window)
    groups = lexicon.context
    return any(fields.within(groups[number].matcher, place, start, end)
               for number in fields.numbers("context", place))


def clothing_outside_title(fields: FieldTexts, lexicon: Lexicon) -> bool:
    """Does the description or the category hold a clothing word? A regional name that
    titles a listing ("Cakar Makassar") names what is sold; its description says it is
    clothing."""
    groups = lexicon.context
    return any(fields.first(groups[number].matcher, (DESCRIPTION, CATEGORY), "context", number)
               for number in fields.numbers("context"))


def word_window(text: str, field_start: int, field_end: int,
                match: re.Match[str], count: int) -> tuple[int, int]:
    """Where, in the field between ``field_start`` and ``field_end`` of *text*, the *count*
    words before *match* start and the *count* words after it end."""
    start, end = match.span()
    if not count:
        return start, end
    words = words_pattern(count)
    # The words before, read backwards: the same words, reversed.
    size = len(text)
    before = words.match(text[::-1], size - start, size - field_start)
    after = words.match(text, end, field_end)
    return size - before.end() if before else start, after.end() if after else end


@lru_cache(maxsize=8)
def words_pattern(count: int) -> re.Pattern[str]:
    """One to *count* words and the separators before them."""
    return re.compile(rf"(?:[\W_]*[^\W_]+){{1,{count}}}")


def typos(fields: FieldTexts, lexicon: Lexicon) -> list[tuple[int, str]]:
    """Words of title then description a typo or two away from a strong, unambiguous
    term ("ballpers", "blapres"), guarded against ordinary words; each with its term."""
    return lexicon.typos.in_texts(fields.field(TITLE), fields.field(DESCRIPTION))


# -- clothing words --------------------------------------------------------------------------

def implied_context(positive: list[Reason], lexicon: Lexicon) -> list[Reason]:
    """A rule that can only be about clothing ("balpres", a bale of used clothes) stands
    for a clothing word: the first such piece of evidence, as a context reason."""
    for reason in positive:
        if reason.rule in lexicon.clothing_rules:
            return [Reason("context:implied", reason.matched, 0.0)]
    return []


def context_reasons(fields: FieldTexts, lexicon: Lexicon) -> list[Reason]:
    """The first clothing (footwear, textile...) word of each group, in title, description,
    category."""
    reasons = []
    for number in fields.numbers("context"):
        group = lexicon.context[number]
        found = fields.first(group.matcher, TERM_PLACES, "context", number)
        if found is not None:
            reasons.append(Reason(group.name, found[1].group(), 0.0))
    return reasons
