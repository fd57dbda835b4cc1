"""thriftwatch: find online sellers of illegally imported second-hand clothing in Indonesia
and keep court-grade evidence of them.

The Scrapy project. ``docs/architecture.md`` maps its packages: flagging (pure), evidence
(the SQLite store), runtime (Scrapy components), ops, replica and commands.
"""

__version__ = "0.1.0"
