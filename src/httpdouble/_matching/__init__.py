"""Request matching: what a request must look like and, field by field, why it did not; the richer
checks, composites, ranking of near misses, query and URI matchers, and the masking of secrets
in what a mismatch shows. It may import _wire and _errors only: no sockets, no report, no app.
"""
