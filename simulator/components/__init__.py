"""Live components, one module per ``kind``: service, load_balancer, database, cache, external."""
