"""carto.selfhosted.tls_certificate_chain as Ansible runs it: the action plugin, in the controller process.

The files are read on the controller (no module payload), every failure comes at once, and the private key, read
from a file or given inline, appears in nothing Ansible prints or returns, even with -vvv. Test PKI: generated at
test time (tests/tools/pki.py).
"""

import json

TASKS = """
    - name: Check
      carto.selfhosted.tls_certificate_chain: "{{ options }}"
      register: checked
      ignore_errors: true
    - name: Result
      ansible.builtin.copy:
        content: "{{ checked | to_json }}"
        dest: "{{ result }}"
        mode: "0600"
"""


def _run(run_play, tmp_path, options):
    rc, output = run_play(TASKS, {"options": options, "result": str(tmp_path / "result.json")}, "-vvv")
    assert rc == 0, output
    return json.loads((tmp_path / "result.json").read_text()), output


def _key_lines(pem):
    body = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    assert len(body) > 5
    return body


def test_chain_from_controller_files_passes_and_the_key_is_never_shown(run_play, tmp_path, pki):
    std = pki.std
    key_pem = pki.key_pem(std["leaf_key"])
    options = {"certificate": pki.write("chain.crt", pki.pem(std["leaf"], std["inter"])),
               "private_key": pki.write("leaf.key", key_pem),
               "ca_bundle": pki.write("root.crt", pki.pem(std["root"])), "domain": "carto.example.com"}
    result, output = _run(run_play, tmp_path, options)
    assert not result.get("failed"), result
    assert result["failures"] == [] and result["leaf"]["sans"]
    assert {c["name"]: c["status"] for c in result["checks"]}["private_key_match"] == "passed", result["checks"]
    for line in _key_lines(key_pem):
        assert line not in output and line not in json.dumps(result)


def test_every_failure_at_once_with_an_inline_key_masked(run_play, tmp_path, pki):
    std = pki.std
    other_key = pki.key_pem(pki.key("other"))
    options = {"certificate_content": pki.pem(std["inter"], std["leaf"]),
               "private_key_content": other_key, "domain": "other.example.org",
               "ca_bundle": pki.write("root.crt", pki.pem(std["root"]))}
    result, output = _run(run_play, tmp_path, options)
    assert result["failed"] is True
    failed = sorted(c["name"] for c in result["checks"] if c["status"] == "failed")
    assert len(failed) >= 2 and "private_key_match" in failed and "hostname" in failed, result["checks"]
    assert len(result["failures"]) == len(failed) and result["msg"]
    for line in _key_lines(other_key):
        assert line not in output and line not in json.dumps(result)


def test_a_missing_file_and_bad_options_are_failed_results(run_play, tmp_path):
    result, _output = _run(run_play, tmp_path, {"certificate": str(tmp_path / "none.crt")})
    assert result["failed"] is True and result["msg"].startswith("cannot read certificate %s" % (tmp_path / "none.crt"))
    result, _output = _run(run_play, tmp_path, {"domain": "carto.example.com"})
    assert result["failed"] is True and "one of the following is required: certificate, certificate_content" \
        in result["msg"], result
