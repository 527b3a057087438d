"""The Docker engine: connection (client), container specs (spec), up/down/status (lifecycle)."""
