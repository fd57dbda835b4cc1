"""thriftwatch: find online sellers of illegally imported second-hand clothing in Indonesia
and keep court-grade evidence of them."""

__version__ = "0.1.0"
