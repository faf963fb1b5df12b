"""The request log (append-only, locked, every entry stamped with its test, worker and time) and
which test is running. It may import _wire and _errors only.
"""
