"""The database itself refuses UPDATE and DELETE on the event log.

QuerySet.update(), raw SQL and a database console all bypass the model, so the refusal lives in
triggers. (TRUNCATE and dropping the triggers stay possible for the database owner; the hash
chain checked by `verify_history` reports what they did.)
"""
from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION workflow_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'workflow_event is append-only: % refused on event %', TG_OP, OLD.id
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER workflow_event_no_update BEFORE UPDATE ON workflow_event
    FOR EACH ROW EXECUTE FUNCTION workflow_event_append_only();
CREATE TRIGGER workflow_event_no_delete BEFORE DELETE ON workflow_event
    FOR EACH ROW EXECUTE FUNCTION workflow_event_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS workflow_event_no_update ON workflow_event;
DROP TRIGGER IF EXISTS workflow_event_no_delete ON workflow_event;
DROP FUNCTION IF EXISTS workflow_event_append_only();
"""
SQLITE_UP = [
    """CREATE TRIGGER workflow_event_no_update BEFORE UPDATE ON workflow_event
       BEGIN SELECT RAISE(ABORT, 'workflow_event is append-only: UPDATE refused'); END;""",
    """CREATE TRIGGER workflow_event_no_delete BEFORE DELETE ON workflow_event
       BEGIN SELECT RAISE(ABORT, 'workflow_event is append-only: DELETE refused'); END;""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS workflow_event_no_update;",
    "DROP TRIGGER IF EXISTS workflow_event_no_delete;",
]


def _run(statements_by_vendor):
    def apply(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements_by_vendor:
            raise RuntimeError(f"no append-only triggers written for {vendor}")
        statements = statements_by_vendor[vendor]
        for sql in [statements] if isinstance(statements, str) else statements:
            schema_editor.execute(sql, params=None)  # the SQL holds literal % signs

    return apply


class Migration(migrations.Migration):
    dependencies = [("workflow", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}),
            _run({"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}),
        )
    ]
