"""The simulated municipality: its parameters (``behaviour``), the world
model (``world``, ``mischief``), the scenarios (``scenario``) and the player
that sends them over HTTP or Kafka (``player``). Imports infra and domain
only."""
