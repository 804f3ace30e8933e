"""carto.selfhosted.carto_values_validate as Ansible runs it: the action plugin, in the controller process.

It validates with the schema read from the collection's values_schema.json (no schema in a module payload), masks
every secret value of the sources and the merged values in the result and the output (even with -vvv), writes
customizations.yaml 0600 and fails with every problem at once.
"""

import json
import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[4]
SECRET = "pg-super-secret-pw-4242"

PLAY = """
- hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
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


def _run(tmp_path, domain, customizations):
    play = tmp_path / "play.yml"
    play.write_text(PLAY)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".ansible" / "collections"),
               ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    extra = {"domain": domain, "customizations": customizations, "out_dir": str(tmp_path / "out"),
             "result": str(tmp_path / "result.json")}
    proc = subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible-playbook"), str(play), "-i",
                           "localhost,", "-c", "local", "-vvv", "-e", json.dumps(extra)],
                          capture_output=True, text=True, env=env, cwd=str(REPO), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((tmp_path / "result.json").read_text()), proc.stdout + proc.stderr


def test_valid_values_are_checked_written_and_secrets_masked(tmp_path):
    text = "externalPostgresql:\n  host: db.example.internal\n  adminPassword: %s\n" % SECRET
    result, output = _run(tmp_path, "carto.example.com", text)
    assert not result.get("failed"), result
    assert result["msg"].startswith("Helm values are valid for chart carto 1.287.1")
    assert result["chart"] == "carto 1.287.1"  # the schema of values_schema.json
    assert "inline-secret" in [w["rule"] for w in result["validation_warnings"]]
    assert result["changed"] and result["written"] == str(tmp_path / "out" / "customizations.yaml")
    assert oct((tmp_path / "out" / "customizations.yaml").stat().st_mode & 0o777) == "0o600"
    # The secret is in the file written for Helm but in nothing Ansible printed or returned.
    assert SECRET not in output
    assert SECRET not in json.dumps(result)


def test_every_problem_at_once_naming_source_and_key(tmp_path):
    text = "router:\n  service:\n    typo: 1\nappConfigValues:\n  selfHostedDomain: https://x.example.com\n"
    result, output = _run(tmp_path, "carto.example.com", text)
    # (failed_when: false in the play keeps the failed result for the test)
    assert "Helm values validation failed with 2 error(s)" in result["msg"], result
    assert len(result["errors"]) == 2
    assert "customizations.yaml:3: router.service.typo" in result["msg"]
    assert "customizations.yaml:5: appConfigValues.selfHostedDomain" in result["msg"]
    assert {p["rule"] for p in result["problems"]} >= {"unknown-key", "domain-fqdn"}
