"""carto.selfhosted.carto_values_render as Ansible runs it: the action plugin, in the controller process.

It validates with the schema read from the collection's values_schema.json (no schema in a module payload), returns
the merged values in a result that Ansible censors (even with -vvv), masks every secret value of the inputs in every
other key, writes customizations.yaml 0600 and fails with every problem at once, shown.
"""

import json

SECRET = "pg-super-secret-pw-4242"
REDIS_SECRET = "redis-structured-pw-77"

TASKS = """
    - name: Render
      carto.selfhosted.carto_values_render:
        package_values_file: "{{ package }}/carto-values.yaml"
        package_secrets_file: "{{ package }}/carto-secrets.yaml"
        customizations:
          domain: "{{ domain }}"
          external_redis: {host: redis.example.internal, password: "{{ redis_password }}"}
        customizations_path: "{{ out_dir }}/customizations.yaml"
        customization_files: ["{{ custom }}"]
        overrides: "{{ overrides }}"
      register: rendered
      failed_when: false
    - name: Result
      ansible.builtin.copy:
        content: "{{ rendered | to_json }}"
        dest: "{{ result }}"
        mode: "0600"
"""


def _run(run_play, tmp_path, domain, custom_text):
    package = tmp_path / "package"
    package.mkdir()
    (package / "carto-values.yaml").write_text("cartoConfigValues:\n  cartoUserToken: package-token-value-1\n")
    (package / "carto-secrets.yaml").write_text("{}\n")
    (tmp_path / "custom.yaml").write_text(custom_text)
    rc, output = run_play(TASKS, {"domain": domain, "package": str(package), "custom": str(tmp_path / "custom.yaml"),
                                  "overrides": {"externalPostgresql": {"adminPassword": SECRET}},
                                  "redis_password": REDIS_SECRET, "out_dir": str(tmp_path / "out"),
                                  "result": str(tmp_path / "result.json")}, "-vvv")
    assert rc == 0, output
    return json.loads((tmp_path / "result.json").read_text()), output


def test_valid_values_are_rendered_written_merged_and_the_result_censored(run_play, tmp_path):
    result, output = _run(run_play, tmp_path, "carto.example.com", "externalPostgresql:\n  host: db.internal\n")
    assert not result.get("failed"), result
    assert result["msg"].startswith("Helm values are valid for chart carto 1.287.1")
    assert result["chart"] == "carto 1.287.1"  # the schema of values_schema.json
    assert "inline-secret" in [w["rule"] for w in result["validation_warnings"]]
    target = tmp_path / "out" / "customizations.yaml"
    assert result["changed"] and result["written"] == str(target)
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    # The merged values, in Helm order (package, customizations.yaml, customization file, overrides), for Helm ...
    values = result["merged_values"]
    assert values["cartoConfigValues"]["cartoUserToken"] == "package-token-value-1"
    assert values["appConfigValues"]["selfHostedDomain"] == "carto.example.com"
    assert values["externalRedis"]["host"] == "redis.example.internal"
    assert values["externalPostgresql"] == {"host": "db.internal", "adminPassword": SECRET}
    assert result["managed_secrets"] and result["files"][2] == str(target)
    # ... in a result the output shows as censored, and in no other key of it.
    assert "the output has been hidden" in output
    for secret in (SECRET, REDIS_SECRET, "package-token-value-1"):
        assert secret not in output
        assert secret not in json.dumps(dict(result, merged_values=None))
    assert REDIS_SECRET not in target.read_text()  # the Secret holds it, customizations.yaml only references it


def test_every_problem_at_once_naming_source_and_key_shown(run_play, tmp_path):
    text = "router:\n  service:\n    typo: 1\nappConfigValues:\n  selfHostedDomain: https://x.example.com\n"
    result, output = _run(run_play, tmp_path, "carto.example.com", text)
    # (failed_when: false in the play keeps the failed result for the test)
    assert "Helm values validation failed with 2 error(s)" in result["msg"], result
    assert len(result["errors"]) == 2 and "merged_values" not in result
    custom = str(tmp_path / "custom.yaml")
    assert "%s:3: router.service.typo" % custom in result["msg"]
    assert "%s:5: appConfigValues.selfHostedDomain" % custom in result["msg"]
    assert {p["rule"] for p in result["problems"]} >= {"unknown-key", "domain-fqdn"}
    assert "router.service.typo" in output  # a failed result is not censored: the problems are shown
    for secret in (SECRET, REDIS_SECRET, "package-token-value-1"):
        assert secret not in output and secret not in json.dumps(result)


def test_bad_options_are_a_failed_result_like_a_modules(run_play, tmp_path):
    tasks = """
    - name: Render
      carto.selfhosted.carto_values_render:
        values: {}
      register: rendered
      ignore_errors: true
    - name: Result
      ansible.builtin.copy:
        content: "{{ rendered | to_json }}"
        dest: "{{ result }}"
        mode: "0600"
"""
    rc, output = run_play(tasks, {"result": str(tmp_path / "result.json")})
    assert rc == 0, output
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["failed"] is True
    assert "missing required arguments: customizations_path" in result["msg"], result
