"""The settings tables in docs/configuration.md are the fields' own: every setting in exactly one group,
described, and the document as scripts/settings_table.py writes it."""

from __future__ import annotations

import subprocess
import sys

from service.settings import GROUPS, PROJECT_ROOT, Settings
from service.settings_doc import default_text, settings_tables, with_tables


def test_every_setting_is_in_exactly_one_group_and_described() -> None:
    grouped = [name for names in GROUPS.values() for name in names]
    assert sorted(grouped) == sorted(Settings.model_fields) and len(grouped) == len(set(grouped))
    assert all(field.description for field in Settings.model_fields.values())


def test_the_configuration_document_shows_the_current_settings() -> None:
    document = (PROJECT_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert with_tables(document) == document, "run scripts/settings_table.py"
    assert all(f"`GOVQA_{name.upper()}`" in document for name in Settings.model_fields)


def test_the_check_fails_on_a_stale_document(tmp_path) -> None:
    script = PROJECT_ROOT / "scripts" / "settings_table.py"
    assert subprocess.run([sys.executable, script, "--check"], capture_output=True).returncode == 0
    stale = with_tables(
        "# x\n<!-- settings:begin -->\nold\n<!-- settings:end -->\n"
    ).replace("GOVQA_PORT", "GOVQA_OLD_PORT")
    assert stale != with_tables(stale) and "GOVQA_PORT" in with_tables(stale)


def test_defaults_are_written_as_a_reader_would() -> None:
    fields = Settings.model_fields
    assert default_text("index_dir", fields["index_dir"]) == "`indexes/default`"
    assert default_text("max_upload_bytes", fields["max_upload_bytes"]) == "20 MiB"
    assert default_text("extract_memory_bytes", fields["extract_memory_bytes"]) == "1 GiB"
    assert default_text("max_document_chars", fields["max_document_chars"]) == "1,000,000"
    assert (
        default_text("api_key", fields["api_key"]) == "unset"
        and default_text("query_onnx", fields["query_onnx"]) == "true"
    )
    assert settings_tables().count("| variable | default | meaning |") == len(GROUPS)
