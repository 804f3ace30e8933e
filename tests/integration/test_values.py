"""The values role on the local control plane: CARTO's examples validate and render; every bad input is
rejected with a message naming its file or inventory variable and key, and the cluster is left untouched.

All cases run in ONE ansible-playbook (tests/integration/playbooks/values_cases.yml loops over them and
records each outcome), against the session cluster, so the corpus stays fast.
"""

import glob
import json
import os
import pathlib
import re
import uuid

import pytest
import yaml

# Module-scoped fixtures (one cluster setup or artifact for the whole file): keep the file on one
# xdist worker (--dist loadgroup); the other tests are spread one by one.
pytestmark = pytest.mark.xdist_group("values")


REPO = pathlib.Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
EXAMPLES_DIR = SHARED / "carto-chart" / "customizations-examples"
EXAMPLES = sorted(glob.glob(str(EXAMPLES_DIR / "**" / "*.yaml"), recursive=True))
# CARTO's example files exist beside the checkout on developer and CI machines only; a user's clone has the
# project's own customization fixtures, which the same playbook validates and renders everywhere.
needs_shared = pytest.mark.skipif(not EXAMPLES_DIR.is_dir(), reason="CARTO's example customizations (%s) are not "
                                  "beside this checkout (developer and CI machines only)" % EXAMPLES_DIR)
OWN_EXAMPLES = [str(REPO / "tests" / "fixtures" / "customizations" / "scale-components.yaml")]
BAD_VALUES = sorted(glob.glob(str(REPO / "tests" / "fixtures" / "bad_values" / "*.yaml")))
BAD_STRUCTURED = sorted(glob.glob(str(REPO / "tests" / "fixtures" / "bad_structured" / "*.yml")))
PLAYBOOK = "tests/integration/playbooks/values_cases.yml"
RUN = uuid.uuid4().hex[:6]


def _headers(path):
    headers = {}
    with open(path) as handle:
        for line in handle:
            match = re.match(r"^#\s*([a-z_]+):\s*(.*?)\s*$", line)
            if match:
                headers[match.group(1)] = match.group(2)
            elif not line.startswith(("#", "---")):
                break
    return headers


def _example_id(path):
    if path.startswith(str(REPO) + os.sep):
        return os.path.relpath(path, str(REPO))
    return os.path.relpath(path, str(EXAMPLES_DIR))


def _case_id(path):
    return os.path.splitext(os.path.basename(path))[0]


# In a full install the CARTO installation package already sets these keys (CARTO's own GCS buckets), so the
# file alone is not wrong there; the unit tests check them without a package.
PACKAGE_PROVIDES = ("storage_gcp_missing_project", "storage_missing_imports_bucket",
                    "storage_missing_thumbnails_bucket")


# Every file of tests/fixtures/bad_values is checked by the validator itself, message and key path, in the unit
# tier (tests/unit/plugins/module_utils/_values/test_validate.py::test_bad_values_are_rejected_naming_the_key), with
# the same provenance the role gives it. Through the role and the cluster, the path is the same for every file; this
# tier runs one file for each way a problem reaches the role's failure: a file's schema type and unknown key (with
# line), a duplicate key, a key no source sets (blamed on the inventory variable), a cross-field rule, and the two
# Secret checks that read the namespace. CARTO_TEST_VALUES_CORPUS=full runs every file through the role.
ROLE_PATH_SAMPLE = ("annotation_not_string", "unknown_nested_key", "duplicate_nested_key", "domain_missing",
                    "postgres_port_unquoted", "storage_url_wrong_bucket", "secret_missing", "secret_key_missing")


def _bad_value_files():
    """The corpus files that are errors (warnings never stop a run) and stay errors on top of the package."""
    files = [p for p in BAD_VALUES if _headers(p).get("severity", "error") == "error"
             and _case_id(p) not in PACKAGE_PROVIDES]
    if os.environ.get("CARTO_TEST_VALUES_CORPUS") == "full":
        return files
    return [p for p in files if _case_id(p) in ROLE_PATH_SAMPLE]


def _host(case_id):
    return "case_" + re.sub(r"[^A-Za-z0-9_]", "_", case_id)


def _run_cases(local_cluster, cases, tmp_path, carto_package):
    """One ansible-playbook run: each case is an inventory host of the group values_cases (run in parallel)."""
    hosts = {}
    for case in cases:
        host = dict(carto_package, **case["vars"])
        host.update({"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                     "carto_namespace": case["namespace"], "carto_output_dir": case["output_dir"],
                     "values_case_render": case.get("render", False), "values_case_apply": case.get("apply", True)})
        hosts[_host(case["id"])] = host
    inventory = tmp_path / "cases.yml"
    inventory.write_text(yaml.safe_dump({"values_cases": {"hosts": hosts}}))
    out = tmp_path / "results.json"
    result = local_cluster.run_playbook(PLAYBOOK, {"values_cases_out": str(out)}, timeout=1500,
                                        args=["-i", str(inventory), "--forks", "6"])
    assert result.rc == 0 and out.exists(), str(result)
    results = json.loads(out.read_text())
    return {case["id"]: results[_host(case["id"])] for case in cases}, result


@pytest.fixture(scope="module")
def example_results(local_cluster, tmp_path_factory, carto_package):
    """Each example (and each HA profile folder as a whole) through the values role + helm template."""
    tmp = tmp_path_factory.mktemp("examples")
    namespace = "t-examples-%s" % RUN
    # ingress/gke/custom_cert_config.yaml references the TLS Secret carto-tls-cert: it exists beforehand.
    local_cluster.kubectl("create", "namespace", namespace)
    local_cluster.kubectl("create", "secret", "generic", "carto-tls-cert", "-n", namespace,
                          "--from-literal=tls.crt=x", "--from-literal=tls.key=y")
    cases = [{"id": _example_id(p), "namespace": namespace, "output_dir": str(tmp / ("out%d" % i)),
              "render": True, "apply": False, "vars": {"carto_customization_files": [p]}}
             for i, p in enumerate(EXAMPLES + OWN_EXAMPLES)]
    for profile in ("standard", "standard_with_upgrades") if EXAMPLES else ():
        folder = EXAMPLES_DIR / "high_availability" / profile
        cases.append({"id": "high_availability/%s/*" % profile, "namespace": namespace, "render": True,
                      "apply": False, "output_dir": str(tmp / profile), "vars": {"carto_customization_files": [
                          str(folder / n) for n in ("customizations.yaml", "development.yaml", "autoscaling.yaml")]}})
    results, run = _run_cases(local_cluster, cases, tmp, carto_package)
    yield results, run
    local_cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


@needs_shared
def test_examples_found():
    assert len(EXAMPLES) >= 14


@pytest.mark.parametrize("example", [_example_id(p) for p in OWN_EXAMPLES])
def test_own_examples_validate_and_render(example_results, example):
    results, _run = example_results
    outcome = results[example]
    assert outcome["ok"], "%s: %s" % (example, outcome)
    assert "Deployment" in outcome["objects"], outcome


@needs_shared
@pytest.mark.parametrize("example", [_example_id(p) for p in EXAMPLES]
                         + ["high_availability/standard/*", "high_availability/standard_with_upgrades/*"])
def test_carto_examples_validate_and_render(example_results, example):
    results, run = example_results
    outcome = results[example]
    assert outcome["ok"], "%s: %s" % (example, outcome)
    assert "Deployment" in outcome["objects"], outcome
    if example.startswith("ingress/gke/"):
        assert {"Ingress", "BackendConfig", "FrontendConfig"} <= set(outcome["objects"])
    if example.endswith("autoscaling.yaml"):
        assert "HorizontalPodAutoscaler" in outcome["objects"]
    if example.startswith("pod_disruption_budget"):
        assert "PodDisruptionBudget" in outcome["objects"]


def _bad_cases(tmp):
    cases = []
    for i, path in enumerate(_bad_value_files()):
        headers = _headers(path)
        variables = {"carto_customization_files": [path]}
        if headers.get("domain") == "none":
            variables["carto_domain"] = ""
        cases.append({"id": "bad_values/" + _case_id(path), "path": path, "headers": headers,
                      "namespace": "t-bad-%s-%d" % (RUN, i), "output_dir": str(tmp / ("v%d" % i)),
                      "vars": variables})
    for i, path in enumerate(BAD_STRUCTURED):
        with open(path) as handle:
            variables = yaml.safe_load(handle)
        cases.append({"id": "bad_structured/" + _case_id(path), "path": path, "headers": _headers(path),
                      "namespace": "t-bads-%s-%d" % (RUN, i), "output_dir": str(tmp / ("s%d" % i)),
                      "vars": variables})
    return cases


@pytest.fixture(scope="module")
def bad_results(local_cluster, tmp_path_factory, carto_package):
    tmp = tmp_path_factory.mktemp("bad")
    cases = _bad_cases(tmp)
    before = {}
    for case in cases:
        existing = json.loads(case["headers"].get("existing_secrets") or "{}")
        if existing:
            # The Secrets this case expects to exist are created beforehand; nothing else may appear.
            local_cluster.kubectl("create", "namespace", case["namespace"])
            for name, keys in existing.items():
                local_cluster.kubectl("create", "secret", "generic", name, "-n", case["namespace"],
                                      *["--from-literal=%s=x" % k for k in keys])
        before[case["id"]] = sorted(existing)
    for case in cases:
        case.pop("headers")
    results, run = _run_cases(local_cluster, cases, tmp, carto_package)
    releases = local_cluster.helm("list", "--all-namespaces", "--all", "-o", "json").stdout
    yield {c["id"]: c for c in cases}, results, before, releases
    for case in cases:
        if before[case["id"]]:
            local_cluster.kubectl("delete", "namespace", case["namespace"], "--wait=false", check=False)


def test_corpus_size():
    assert len(BAD_VALUES) >= 60
    assert len(BAD_STRUCTURED) >= 25
    # Every sampled case exists (a renamed fixture must not shrink the sample silently).
    assert {_case_id(p) for p in BAD_VALUES} >= set(ROLE_PATH_SAMPLE)
    assert len(_bad_value_files()) >= len(ROLE_PATH_SAMPLE)


@pytest.mark.parametrize("case_id", ["bad_values/" + _case_id(p) for p in _bad_value_files()]
                         + ["bad_structured/" + _case_id(p) for p in BAD_STRUCTURED])
def test_bad_input_is_rejected_naming_the_key_and_changes_nothing(local_cluster, bad_results, case_id):
    cases, results, before, releases = bad_results
    case = cases[case_id]
    headers = _headers(case["path"])
    outcome = results[case_id]
    assert not outcome["ok"], "%s was accepted" % case_id
    assert outcome["task"].startswith("Stop on invalid values (nothing in the cluster has changed)"), outcome
    msg = outcome["msg"]
    if case_id.startswith("bad_values/"):
        # <source>[:line]: <key.path>: ... Fix: ...
        if headers.get("domain") == "none":
            assert "inventory variable carto_domain: appConfigValues.selfHostedDomain: " in msg, msg
        else:
            assert re.search(r"%s(:\d+)?: %s: " % (re.escape(case["path"]), re.escape(headers["expect"])), msg), msg
    else:
        assert headers["expect"] in msg, msg
    assert ". Fix: " in msg
    # The cluster is untouched: no namespace (or only the Secrets the case created), no release.
    namespace = case["namespace"]
    if before[case_id]:
        secrets = local_cluster.get_json("secrets", "-n", namespace)
        assert sorted(i["metadata"]["name"] for i in secrets["items"]) == before[case_id]
    else:
        assert local_cluster.kubectl("get", "namespace", namespace, check=False).returncode != 0
    assert '"namespace":"%s"' % namespace not in releases.replace(" ", "")


def test_every_problem_is_listed_at_once(local_cluster, base_vars, namespace, tmp_path):
    """Structured-variable, file and Secret problems of one run come in one failure."""
    bad_file = tmp_path / "bad.yaml"
    bad_file.write_text("router:\n  service:\n    typo: 1\n")
    extra = dict(base_vars, carto_domain="carto.example.com:443", carto_customization_files=[str(bad_file)],
                 carto_google_maps={"create_secret": False},
                 carto_scaling={"high_availability": "standard"})
    result = local_cluster.run_playbook("playbooks/install.yml", extra)
    assert result.rc != 0, str(result)
    assert "inventory variable carto_domain: appConfigValues.selfHostedDomain" in result.output, str(result)
    assert "inventory variable carto_scaling: mode" in result.output, str(result)
    assert "%s:3: router.service.typo" % bad_file in result.output, str(result)
    assert "appSecrets.googleMapsApiKey.existingSecret.name: Secret 'carto-google-maps'" in result.output, str(result)
    assert local_cluster.kubectl("get", "namespace", namespace, check=False).returncode != 0
