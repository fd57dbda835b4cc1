"""Item pipelines: normalise, flag, store. Each is a thin shell around a pure core."""
