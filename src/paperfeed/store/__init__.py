"""The store: engines, migrations and the queries that write and read papers."""
