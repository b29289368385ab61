"""The SQLite database: connections, the schema and its migrations, and the call log's verbs."""
