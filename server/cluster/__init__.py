"""One space across processes: each process owns the avatars of its connections,
publishes their state on the Redis bus per region and tick, and shows the other
processes' avatars as read-only replicas (`server.cluster.replication`)."""
