"""Storage: SQLAlchemy 2 models, sessions, Alembic migrations, the content-addressed evidence blob store."""
