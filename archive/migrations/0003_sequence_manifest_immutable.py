"""Once a sequence's manifest digest is recorded, the database refuses to change it, or the
folder and pattern it describes (a raw scan is evidence of what was received)."""
from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION archive_sequence_manifest_fixed() RETURNS trigger AS $$
BEGIN
    IF OLD.manifest_digest <> '' AND (NEW.manifest_digest IS DISTINCT FROM OLD.manifest_digest
            OR NEW.root_path IS DISTINCT FROM OLD.root_path
            OR NEW.pattern IS DISTINCT FROM OLD.pattern
            OR NEW.manifest_path IS DISTINCT FROM OLD.manifest_path) THEN
        RAISE EXCEPTION 'archive_sequence %: the manifest of an imported sequence cannot change', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER archive_sequence_manifest_fixed BEFORE UPDATE ON archive_sequence
    FOR EACH ROW EXECUTE FUNCTION archive_sequence_manifest_fixed();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS archive_sequence_manifest_fixed ON archive_sequence;
DROP FUNCTION IF EXISTS archive_sequence_manifest_fixed();
"""
SQLITE_UP = """
CREATE TRIGGER archive_sequence_manifest_fixed BEFORE UPDATE ON archive_sequence
WHEN OLD.manifest_digest <> '' AND (NEW.manifest_digest IS NOT OLD.manifest_digest
     OR NEW.root_path IS NOT OLD.root_path OR NEW.pattern IS NOT OLD.pattern
     OR NEW.manifest_path IS NOT OLD.manifest_path)
BEGIN SELECT RAISE(ABORT, 'archive_sequence: the manifest of an imported sequence cannot change'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS archive_sequence_manifest_fixed;"


def _run(by_vendor):
    def apply(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in by_vendor:
            raise RuntimeError(f"no sequence triggers written for {vendor}")
        schema_editor.execute(by_vendor[vendor], params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [("archive", "0002_sequence")]

    operations = [
        migrations.RunPython(_run({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}),
                             _run({"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN})),
    ]
