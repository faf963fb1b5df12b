"""Interception: the server as the test's HTTP(S) proxy. The session's test CA (its key kept in a
private temporary folder), certificates issued per host for TLS inside ``CONNECT`` tunnels, and the
proxy and CA environment variables pointed at the server for a test and restored after it.
It may import _server and everything below it, never pytest and never _record (a sibling).
"""
