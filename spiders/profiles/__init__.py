"""Site profiles shipped with thriftwatch: one TOML file per site, crawled by the ``profile`` spider."""
