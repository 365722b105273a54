"""The Kafka door: the ingest worker, the rejected topic, the relay of the log
to ``boende.events``, the event codec and the Kafka-fed read models. May
import bootstrap, the capabilities and below; never the other doors."""
