"""Storage: SQLModel tables, migrations, and repositories that turn rows into domain values."""
