"""work_queue: procrastinate's job tables, functions and triggers on PostgreSQL (issue #18, scale-out)

The distributed scan's queue (pharmwatch/work_queue.py) is procrastinate's schema in our database, so a
unit of crawl work and the rows it writes live in one system of record. SQLite has no queue: distributed
scans require PostgreSQL and say so. A procrastinate upgrade that changes its schema comes with a
migration of ours applying its migration files (procrastinate/sql/migrations/).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 18:00:00
"""
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    # The raw psycopg cursor: the schema is many statements, with `%` and `:` that SQLAlchemy would parse.
    op.get_bind().connection.driver_connection.cursor().execute(SchemaManager.get_schema())


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
DO $$
DECLARE object record;
BEGIN
  FOR object IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema()
                 AND tablename LIKE 'procrastinate\\_%' LOOP
    EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', object.tablename);
  END LOOP;
  FOR object IN SELECT p.oid::regprocedure AS signature FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                 WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%' LOOP
    EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', object.signature);
  END LOOP;
  FOR object IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                 WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%' AND t.typtype IN ('e', 'c') LOOP
    EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', object.typname);
  END LOOP;
END $$;
""")
