"""Data files the spiders ship with."""
