"""Personal-data rights over the case log: finding a person's cases, reading
an applicant, erasure on request and the retention purge (*gallring*); the
person as IVO's individual report names them, and the notes decrypted
(``ivo``). The key storage itself is ``infra.person_keys``. Imports errors,
projections, infra and domain only."""
