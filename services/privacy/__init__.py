"""Personal-data rights over the case log: finding a person's cases, reading
an applicant, erasure on request and the retention purge (*gallring*). The key
storage itself is ``infra.person_keys``. Imports errors, projections, infra
and domain only."""
