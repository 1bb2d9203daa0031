"""An index built CONCURRENTLY on PostgreSQL, plainly elsewhere (contacts/0010, 0011).

Django's AddIndexConcurrently is PostgreSQL-only and the project also runs on SQLite. The
migration using it must say `atomic = False` (CREATE INDEX CONCURRENTLY cannot run in a
transaction). Loaded by import only: the migration loader skips modules starting with "_"."""

from django.db import migrations


class AddIndexConcurrentlyOnPostgres(migrations.AddIndex):
    """AddIndex; on PostgreSQL the index is created and dropped CONCURRENTLY."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        self._concurrently(schema_editor.add_index, app_label, schema_editor, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        self._concurrently(schema_editor.remove_index, app_label, schema_editor, from_state)

    def _concurrently(self, change, app_label, schema_editor, state) -> None:
        model = state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            change(model, self.index, concurrently=True)
