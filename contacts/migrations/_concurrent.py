"""An index built CONCURRENTLY on PostgreSQL, plainly elsewhere (contacts/0010, 0011).

Django's AddIndexConcurrently is PostgreSQL-only and the project also runs on SQLite. The
migration using it must say `atomic = False` (CREATE INDEX CONCURRENTLY cannot run in a
transaction). Loaded by import only: the migration loader skips modules starting with "_"."""

from django.db import migrations


class AddIndexConcurrentlyOnPostgres(migrations.AddIndex):
    """AddIndex, CONCURRENTLY where the database is PostgreSQL (Django's AddIndexConcurrently
    is PostgreSQL-only and the project also runs on SQLite)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, concurrently=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)
