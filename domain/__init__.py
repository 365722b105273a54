"""The social housing domain: housing cases, apartments and their rules.

Pure Python on the ``eventsourcing`` aggregate base: no I/O, no framework.
"""
