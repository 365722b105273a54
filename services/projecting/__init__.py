"""Running the read models: the projection runner (tracking position and view
change in one transaction), the follower, rebuilds, and answering a query at a
log position. A room of its own because both the store-fed follower
(bootstrap) and the Kafka feed drive the same runners. Imports errors,
projections, infra and domain only."""
