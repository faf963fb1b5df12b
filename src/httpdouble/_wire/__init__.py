"""HTTP/1.1 as bytes: reading a request (line, fields, body, limits), splitting a whole head in
one go, the request targets a proxy gets (``CONNECT host:port``, absolute URLs), and framing
a response. It knows no handler, no matcher, no log and no report; it may
import _errors only.
"""
