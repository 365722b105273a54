"""The ``boende`` command (``main``) and its subcommands, and the local stack
launcher. May import bootstrap, the capabilities and below; it starts the HTTP
app and the Kafka workers only through their ``run`` functions."""
