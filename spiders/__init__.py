"""thriftwatch spiders: one small declarative spider per platform, on a shared base."""
