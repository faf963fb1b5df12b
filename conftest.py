"""Root conftest: keeps pytest out of folders that are not the test suite."""

collect_ignore = ["examples", "benchmarks", "compat", "docs", "noxfile.py"]
