"""Flagging: from a listing's text to a verdict with reasons. Pure Python, no Scrapy.

Public: :mod:`.textnorm` (folding evasive spellings), :mod:`.lexicon` (loading the rules
from TOML), :mod:`.rules` (what a lexicon holds), :mod:`.flagger` (``flag(record, lexicon)``),
:mod:`.evaluate` (precision and recall on labelled listings), :mod:`.suggest` (new words
from flagged listings) and :mod:`.compiled` (the optional mypyc build). Modules with a
leading underscore are the flagger's internal machinery.
"""

from crawler.flagging import compiled as _compiled

# The flagger's hot modules compiled by mypyc (``make fast``), while built from this source.
_compiled.enable(__path__)
