"""Stand-ins for the external providers (real HTTP servers, used by the local stack and tests)."""
