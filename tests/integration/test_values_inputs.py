"""Issue 14, values side, on the local control plane: moved keys, CA certificates of the merged values and missing
input files stop playbooks/install.yml in its first role, every problem in one failure naming the file, the key and
the fix, within seconds, and the namespace is never created.

The corpus tests/fixtures/bad_inputs runs in ONE ansible-playbook (tests/integration/playbooks/values_cases.yml, one
inventory host per case, in parallel), like tests/integration/test_values.py.
"""

import json
import pathlib
import re
import time
import uuid

import pytest
import yaml
from case_headers import read_headers  # tests/tools, on sys.path (tests/conftest.py)

pytestmark = pytest.mark.xdist_group("values_inputs")

REPO = pathlib.Path(__file__).resolve().parents[2]
BAD_INPUTS = REPO / "tests" / "fixtures" / "bad_inputs"
CORPUS = sorted(BAD_INPUTS.glob("*.yaml"))
PLAYBOOK = "tests/integration/playbooks/values_cases.yml"
STOP_TASK = "Stop on invalid values (nothing in the cluster has changed), else show the equivalent Helm arguments"
# A refused run only renders and validates on the controller; everything above this is a regression.
REFUSED_RUN_SECONDS = 60
RUN = uuid.uuid4().hex[:6]
GARBAGE_CA = "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n"


def _headers(path):
    return read_headers(path)


def _case_vars(path):
    """A missing-file-* case is inventory variables; the others are customization files."""
    if path.name.startswith("missing-file-"):
        return yaml.safe_load(path.read_text())
    return {"carto_customization_files": [str(path)]}


def _host(path):
    return "case_" + re.sub(r"[^A-Za-z0-9_]", "_", path.stem)


def _absent(local_cluster, namespace):
    return local_cluster.kubectl("get", "namespace", namespace, check=False).returncode != 0


def test_corpus_has_the_three_kinds():
    names = [p.name for p in CORPUS]
    assert any(n.startswith("moved-key-") for n in names)
    assert any(n.startswith("ca-") for n in names)
    assert any(n.startswith("missing-file-") for n in names)
    assert (BAD_INPUTS / "README.md").is_file()
    for path in CORPUS:
        assert path.name in (BAD_INPUTS / "README.md").read_text(), "%s is not described in the README" % path.name
        assert _headers(path).get("expect") and _headers(path).get("key"), path


@pytest.fixture(scope="module")
def corpus_results(local_cluster, tmp_path_factory, carto_package):
    tmp = tmp_path_factory.mktemp("bad_inputs")
    hosts = {}
    namespaces = {}
    for index, path in enumerate(CORPUS):
        namespace = "t-inputs-%s-%d" % (RUN, index)
        namespaces[path.name] = namespace
        host = dict(carto_package, **_case_vars(path))
        host.update({"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                     "carto_namespace": namespace, "carto_output_dir": str(tmp / ("out%d" % index)),
                     "carto_domain": "carto.example.com", "values_case_render": False, "values_case_apply": True})
        hosts[_host(path)] = host
    inventory = tmp / "cases.yml"
    inventory.write_text(yaml.safe_dump({"values_cases": {"hosts": hosts}}))
    out = tmp / "results.json"
    started = time.monotonic()
    result = local_cluster.run_playbook(PLAYBOOK, {"values_cases_out": str(out)}, timeout=900,
                                        args=["-i", str(inventory), "--forks", "4"])
    elapsed = time.monotonic() - started
    assert result.rc == 0 and out.exists(), str(result)
    return json.loads(out.read_text()), namespaces, elapsed


@pytest.mark.parametrize("name", [p.name for p in CORPUS])
def test_bad_input_is_refused_naming_key_and_file_and_changes_nothing(local_cluster, corpus_results, name):
    results, namespaces, _elapsed = corpus_results
    path = BAD_INPUTS / name
    headers = _headers(path)
    outcome = results[_host(path)]
    assert not outcome["ok"], "%s was accepted" % name
    assert outcome["task"] == STOP_TASK, outcome
    msg = outcome["msg"]
    assert headers["expect"] in msg, msg
    assert ": %s: " % headers["key"] in msg, msg
    assert ". Fix: " in msg
    if not name.startswith("missing-file-"):
        assert re.search(r"%s:\d+: %s: " % (re.escape(str(path)), re.escape(headers["key"])), msg), msg
    assert "lookup plugin" not in msg
    assert _absent(local_cluster, namespaces[name])


def test_every_input_problem_in_one_refused_install_within_seconds(local_cluster, base_vars, namespace, tmp_path):
    """A moved key, a garbage CA (customization file), a missing customization file and missing certificate files:
    one install.yml run, one failure listing all of them, before the namespace exists."""
    moved = BAD_INPUTS / "moved-key-router-ports.yaml"
    ca = BAD_INPUTS / "ca-redis-garbage.yaml"
    missing = str(tmp_path / "missing-customizations.yaml")
    extra = dict(base_vars, carto_domain="carto.example.com",
                 carto_customization_files=[str(moved), str(ca), missing],
                 carto_tls={"mode": "existing_secret", "secret_name": "carto-tls",
                            "certificate_file": str(tmp_path / "tls.crt"),
                            "private_key_file": str(tmp_path / "tls.key")})
    started = time.monotonic()
    result = local_cluster.run_playbook("playbooks/install.yml", extra)
    elapsed = time.monotonic() - started
    assert result.rc != 0, str(result)
    out = result.output
    assert "Helm values validation failed with 5 error(s)" in out, str(result)
    assert re.search(r"%s:\d+: router.ports.httpsTargetPort: .*did you mean `router.service.ports.httpsTargetPort`"
                     % re.escape(str(moved)), out), str(result)
    assert re.search(r"%s:\d+: externalRedis.tlsCA: is not a usable CA certificate" % re.escape(str(ca)), out)
    assert "%s: carto_customization_files[2]: the file %s does not exist" % (missing, missing) in out
    assert "carto_tls.certificate_file: the file %s does not exist" % (tmp_path / "tls.crt") in out
    assert "carto_tls.private_key_file: the file %s does not exist" % (tmp_path / "tls.key") in out
    assert "lookup plugin" not in out
    assert _absent(local_cluster, namespace)
    assert elapsed < REFUSED_RUN_SECONDS, "refused run took %.1f s" % elapsed
    print("refused install.yml run: %.1f s" % elapsed)


def test_missing_package_file_is_a_problem_not_a_lookup_failure(local_cluster, base_vars, namespace, tmp_path):
    """carto_package_values_file that does not exist, with a garbage CA set through carto_values_overrides: both in
    one failure (the override is named as the source of the CA)."""
    missing = str(tmp_path / "package" / "carto-values.yaml")
    extra = dict(base_vars, carto_domain="carto.example.com", carto_package_values_file=missing,
                 carto_values_overrides={"externalPostgresql": {"sslEnabled": True, "sslCA": GARBAGE_CA}})
    started = time.monotonic()
    result = local_cluster.run_playbook("playbooks/install.yml", extra)
    elapsed = time.monotonic() - started
    assert result.rc != 0, str(result)
    out = result.output
    assert "%s: carto_package_values_file: the file %s does not exist on the controller" % (missing, missing) in out
    assert "carto-values.yaml of your CARTO installation package" in out
    assert "inventory variable carto_values_overrides: externalPostgresql.sslCA: is not a usable CA certificate" in out
    assert "Helm values validation failed with 2 error(s)" in out, str(result)
    assert "lookup plugin" not in out and "File not found" not in out
    assert _absent(local_cluster, namespace)
    assert elapsed < REFUSED_RUN_SECONDS, "refused run took %.1f s" % elapsed
    print("refused install.yml run (missing package file): %.1f s" % elapsed)
