"""thriftwatch: find online sellers of illegally imported second-hand clothing in Indonesia
and keep court-grade evidence of them."""

from crawler import compiled as _compiled

__version__ = "0.1.0"

# The flagger's hot modules compiled by mypyc (``make fast``), while built from this source.
_compiled.enable(__path__)
