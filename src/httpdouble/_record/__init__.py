"""Recording: forwarding requests no handler matches to the real upstream while recording,
cassettes (one readable, scrubbed file per test) and turning a cassette back into expectations
or into ``expect_request(...)`` code. It may import _server and everything below it, never
pytest and never _intercept (a sibling): an intercepted request carries its own scheme and host.
"""
