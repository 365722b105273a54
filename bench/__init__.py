"""Performance figures for Boende (``make bench`` runs ``python -m bench.run``).

Not part of ``make test``: the numbers depend on the machine. See ``bench.run``.
"""
