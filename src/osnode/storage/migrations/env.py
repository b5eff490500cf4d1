"""Alembic environment: migrations run on the engine the node hands over, never on a URL in a file."""

from alembic import context

from osnode.storage.catalog import include_object, metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection, target_metadata=metadata, render_as_batch=True, include_object=include_object
    )
    context.run_migrations()
