"""Services: the submission service, the HTTP API, the CLI and the workers."""
