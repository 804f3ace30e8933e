"""tools/gen_role_docs.py: the role READMEs are generated from meta/argument_specs.yml and never drift."""

import pathlib
import shutil
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import gen_role_docs  # noqa: E402  pylint: disable=wrong-import-position

ROLES = list(gen_role_docs.role_dirs(ROOT))


def _load(path):
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_every_role_readme_is_current(capsys):
    rc = gen_role_docs.main(["--check"])
    assert rc == 0, capsys.readouterr().err


def test_roles_are_found():
    names = {p.name for p in ROLES}
    assert {"values", "prerequisites", "secrets", "deploy", "verify"} <= names


@pytest.mark.parametrize("role_dir", [p for p in ROLES if (p / "meta" / "argument_specs.yml").is_file()],
                         ids=lambda p: p.name)
def test_readme_documents_every_option_with_its_default(role_dir):
    text = gen_role_docs.render(role_dir)
    specs = _load(role_dir / "meta" / "argument_specs.yml")["argument_specs"]
    defaults_file = role_dir / "defaults" / "main.yml"
    defaults = (_load(defaults_file) or {}) if defaults_file.is_file() else {}
    assert "# carto.selfhosted.%s" % role_dir.name in text
    main_section = text.split("\n## Variables\n", 1)[1].split("\n## ", 1)[0]
    for name, spec in (specs["main"].get("options") or {}).items():
        rows = [line for line in main_section.splitlines() if line.startswith("| `%s` |" % name)]
        assert len(rows) == 1, name
        if name in defaults and isinstance(defaults[name], str) and "carto_" in defaults[name]:
            inventory_var = gen_role_docs.CARTO_VAR.findall(defaults[name])[0]
            assert "`%s`" % inventory_var in rows[0], (name, rows[0])
        if spec.get("required"):
            assert "| yes |" in rows[0]
        for child in (spec.get("options") or {}):
            assert "| `%s.%s` |" % (name, child) in main_section


def _scratch_collection(tmp_path, role="deploy"):
    root = tmp_path / "collection"
    shutil.copytree(ROOT / "roles" / role, root / "roles" / role)
    return root


def test_check_fails_when_the_spec_changes_and_generation_fixes_it(tmp_path, capsys):
    root = _scratch_collection(tmp_path)
    assert gen_role_docs.main(["--root", str(root)]) == 0
    assert gen_role_docs.main(["--root", str(root), "--check"]) == 0

    spec_file = root / "roles" / "deploy" / "meta" / "argument_specs.yml"
    spec = _load(spec_file)
    spec["argument_specs"]["main"]["options"]["deploy_brand_new_option"] = {
        "description": "Added after the README was generated.", "type": "int", "default": 7}
    spec_file.write_text(yaml.safe_dump(spec), encoding="utf-8")
    assert gen_role_docs.main(["--root", str(root), "--check"]) == 1
    assert "roles/deploy/README.md" in capsys.readouterr().err

    assert gen_role_docs.main(["--root", str(root)]) == 0
    readme = (root / "roles" / "deploy" / "README.md").read_text(encoding="utf-8")
    assert "| `deploy_brand_new_option` | int | no | `7` |" in readme
    assert gen_role_docs.main(["--root", str(root), "--check"]) == 0


def test_check_fails_when_a_readme_is_hand_edited_or_missing(tmp_path):
    root = _scratch_collection(tmp_path)
    assert gen_role_docs.main(["--root", str(root)]) == 0
    readme = root / "roles" / "deploy" / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nhand-written line\n", encoding="utf-8")
    assert gen_role_docs.main(["--root", str(root), "--check"]) == 1
    readme.unlink()
    assert gen_role_docs.main(["--root", str(root), "--check"]) == 1


def test_a_new_role_directory_is_documented(tmp_path):
    root = tmp_path / "collection"
    (root / "roles" / "backup" / "meta").mkdir(parents=True)
    (root / "roles" / "backup" / "defaults").mkdir()
    (root / "roles" / "backup" / "meta" / "argument_specs.yml").write_text(yaml.safe_dump({
        "argument_specs": {
            "main": {
                "short_description": "Back up C(carto) with I(care)",
                "options": {
                    "backup_mode": {"description": "Mode | pipe.", "choices": ["full", "incr"],
                                    "default": "full"},
                    "backup_target": {"description": "Where.", "type": "dict", "required": True,
                                      "options": {"bucket": {"description": "Bucket.", "type": "str"}}},
                },
            },
            "restore": {"short_description": "Restore", "options": {}},
        }}), encoding="utf-8")
    (root / "roles" / "backup" / "defaults" / "main.yml").write_text(
        "backup_mode: \"{{ carto_backup_mode | default('full') }}\"\nbackup_extra: 1\n", encoding="utf-8")
    assert gen_role_docs.main(["--root", str(root)]) == 0
    text = (root / "roles" / "backup" / "README.md").read_text(encoding="utf-8")
    assert text.startswith(gen_role_docs.HEADER)
    assert "# carto.selfhosted.backup" in text
    assert "Back up `carto` with *care*." in text
    assert ("| `backup_mode` | str | no | `{{ carto_backup_mode \\| default('full') }}` | `carto_backup_mode` | "
            "Mode \\| pipe. Choices: `full`, `incr`. |") in text
    assert "| `backup_target` | dict | yes |" in text
    assert "| `backup_target.bucket` | str | no |" in text
    assert "## Variables of entry point `restore`" in text
    assert "`backup_extra`" in text.split("## Other defaults", 1)[1]
