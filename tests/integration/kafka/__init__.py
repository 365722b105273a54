"""Integration tests of the Kafka door against real Kafka-protocol brokers
on loopback (noida-db, Tansu)."""
