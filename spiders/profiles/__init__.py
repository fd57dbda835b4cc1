"""Site profiles shipped with thriftwatch: one TOML file per site, for the ``profile`` spider."""
