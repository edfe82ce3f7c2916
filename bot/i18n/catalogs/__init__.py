"""One module per feature, each with ZH and EN dicts."""
