"""carto.selfhosted.carto_values_validate as Ansible runs it: the action plugin, in the controller process.

It validates with the schema read from the collection's values_schema.json (no schema in a module payload), masks
every secret value of the sources and the merged values in the result and the output (even with -vvv), writes
customizations.yaml 0600 and fails with every problem at once.
"""

import json

SECRET = "pg-super-secret-pw-4242"

TASKS = """
    - name: Validate
      carto.selfhosted.carto_values_validate:
        sources:
          - name: carto_domain
            content: {appConfigValues: {selfHostedDomain: "{{ domain }}"}}
          - name: customizations.yaml
            content: "{{ customizations }}"
        write:
          path: "{{ out_dir }}/customizations.yaml"
          content: "{{ customizations }}"
      register: validated
      failed_when: false
    - name: Result
      ansible.builtin.copy:
        content: "{{ validated | to_json }}"
        dest: "{{ result }}"
        mode: "0600"
"""


def _run(run_play, tmp_path, domain, customizations):
    rc, output = run_play(TASKS, {"domain": domain, "customizations": customizations, "out_dir": str(tmp_path / "out"),
                                  "result": str(tmp_path / "result.json")}, "-vvv")
    assert rc == 0, output
    return json.loads((tmp_path / "result.json").read_text()), output


def test_valid_values_are_checked_written_and_secrets_masked(run_play, tmp_path):
    text = "externalPostgresql:\n  host: db.example.internal\n  adminPassword: %s\n" % SECRET
    result, output = _run(run_play, tmp_path, "carto.example.com", text)
    assert not result.get("failed"), result
    assert result["msg"].startswith("Helm values are valid for chart carto 1.287.1")
    assert result["chart"] == "carto 1.287.1"  # the schema of values_schema.json
    assert "inline-secret" in [w["rule"] for w in result["validation_warnings"]]
    assert result["changed"] and result["written"] == str(tmp_path / "out" / "customizations.yaml")
    assert oct((tmp_path / "out" / "customizations.yaml").stat().st_mode & 0o777) == "0o600"
    # The secret is in the file written for Helm but in nothing Ansible printed or returned.
    assert SECRET not in output
    assert SECRET not in json.dumps(result)


def test_every_problem_at_once_naming_source_and_key(run_play, tmp_path):
    text = "router:\n  service:\n    typo: 1\nappConfigValues:\n  selfHostedDomain: https://x.example.com\n"
    result, output = _run(run_play, tmp_path, "carto.example.com", text)
    # (failed_when: false in the play keeps the failed result for the test)
    assert "Helm values validation failed with 2 error(s)" in result["msg"], result
    assert len(result["errors"]) == 2
    assert "customizations.yaml:3: router.service.typo" in result["msg"]
    assert "customizations.yaml:5: appConfigValues.selfHostedDomain" in result["msg"]
    assert {p["rule"] for p in result["problems"]} >= {"unknown-key", "domain-fqdn"}


def test_bad_options_are_a_failed_result_like_a_modules(run_play, tmp_path):
    tasks = """
    - name: Validate
      carto.selfhosted.carto_values_validate:
        values: {}
      register: validated
      ignore_errors: true
    - name: Result
      ansible.builtin.copy:
        content: "{{ validated | to_json }}"
        dest: "{{ result }}"
        mode: "0600"
"""
    rc, output = run_play(tasks, {"result": str(tmp_path / "result.json")})
    assert rc == 0, output
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["failed"] is True
    assert "missing required arguments: sources" in result["msg"], result
