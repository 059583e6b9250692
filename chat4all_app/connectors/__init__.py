"""Channel connectors: the provider API client and the circuit breaker around it."""
