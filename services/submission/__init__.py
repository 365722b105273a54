"""Recording facts: the envelope (one pydantic model for both doors), the
commands that turn it into aggregate changes, the submission service and its
group-commit writer, and the examples. Imports errors, projections, infra and
domain only."""
