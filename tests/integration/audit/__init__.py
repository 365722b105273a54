"""Integration tests of the audit room: the Merkle log, tamper detection,
bundles, the access log and the purge record."""
