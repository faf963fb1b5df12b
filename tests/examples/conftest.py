"""The how-to examples; ``snippets/`` holds files the tests copy into pytester runs."""

collect_ignore = ["snippets"]
