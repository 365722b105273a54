"""What auditors check: the Merkle log of the case log and its tree cache,
signed tree heads and their signer, the access log's table, the purge record
and day paging of those tables. Imports errors, projections, infra and domain
only; the routes are in ``services.http``."""
