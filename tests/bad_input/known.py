"""Failures of the battery found and not fixed yet: one line per case, with its owner and what fails.

Each runs as a strict xfail (``test_bad_input.py``): fixing the library makes it
XPASS, and then its line goes. ``test_every_known_failure_is_a_case`` keeps the
table free of cases that no longer exist. The message after the owner is what the
battery saw (``KIND: message``, KIND one of OPAQUE, SILENT, UNNAMED, WRONG-TYPE, DIFFERENT).
"""

KNOWN = {}
