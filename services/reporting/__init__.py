"""Shaping figures for publication: small-count suppression as SCB practises
it. Pure functions over the read models' answers; imports nothing of ours but
errors."""
