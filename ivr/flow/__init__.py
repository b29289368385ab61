"""Call flows as data: the YAML model and loader, the registry of named actions, and the engine."""
