"""Contract between the offline look-alike tests/charts/carto and CARTO's real chart ``carto/carto`` 1.287.1.

For the same values files (a fake installation package made by tests/tools/make_package.py plus the domain the
values role always sets, alone and with each of CARTO's ``customizations-examples/``, the high-availability
profiles combined as CARTO's docs combine them), both charts, rendered with ``helm template``, give:

- the same kinds and names of workloads, Services, Secrets, HPAs, PDBs and Ingresses;
- the same container and init container names in every workload;
- the same Secret references in every pod spec (``secretKeyRef`` name and key, ``envFrom`` Secrets, Secret volumes);
- the same keys of each values file read by the templates (tests/tools/carto_chart.py: ``values_read``).

An example the real chart refuses to render is refused by the look-alike too. The real chart is beside the checkout
(``<repo>/../shared/carto-chart``) on developer machines and in CI only: without it this module is skipped; the
look-alike's own tests are in tests/unit/test_chart.py. Only ``helm template`` is needed (``$CARTO_HELM``).
"""

import functools
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tools"))
import carto_chart  # noqa: E402  pylint: disable=wrong-import-position
import make_package  # noqa: E402  pylint: disable=wrong-import-position

pytestmark = pytest.mark.skipif(
    not carto_chart.real_chart_present(),
    reason="the real chart carto/carto 1.287.1 is not at %s (developer machines and CI only); the contract between "
           "it and the offline look-alike tests/charts/carto cannot be checked here" % carto_chart.REAL_CHART)

DOMAIN = "carto.example.test"
CASES = dict({"package": []}, **carto_chart.example_combinations())
CHARTS = {"real": carto_chart.REAL_CHART, "test": carto_chart.TEST_CHART}


@pytest.fixture(scope="module")
def helm():
    candidate = os.environ.get("CARTO_HELM", "")
    if not (os.path.isfile(candidate) and os.access(candidate, os.X_OK)):
        pytest.skip("no helm binary in $CARTO_HELM (%r): python3 tools/dev.py env sets it" % candidate)
    return candidate


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """carto-values.yaml, carto-secrets.yaml and the domain file (what the values role's customizations.yaml sets)."""
    dest = tmp_path_factory.mktemp("package")
    values, secrets = make_package.make_package(dest, customer_id="contract")
    domain = dest / "domain.yaml"
    domain.write_text(yaml.safe_dump({"appConfigValues": {"selfHostedDomain": DOMAIN}}))
    return [str(values), str(secrets), str(domain)]


@functools.lru_cache(maxsize=None)
def _render(helm, package, chart, case):
    args = [helm, "template", "carto", str(CHARTS[chart]), "-n", "carto"]
    for path in list(package) + [str(carto_chart.EXAMPLES_DIR / relpath) for relpath in CASES[case]]:
        args += ["-f", path]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    docs = [d for d in yaml.safe_load_all(proc.stdout) if d] if proc.returncode == 0 else []
    return proc.returncode, docs, proc.stderr.strip()


@pytest.fixture(scope="module")
def render(helm, package):
    return lambda chart, case: _render(helm, tuple(package), chart, case)


def _set_difference(what, real, test):
    lines = []
    for item in sorted(set(real) - set(test)):
        lines.append("%s only in the real chart: %s" % (what, item))
    for item in sorted(set(test) - set(real)):
        lines.append("%s only in the test chart: %s" % (what, item))
    return lines


def test_cases_found():
    assert len(CASES) >= 19, sorted(CASES)  # the package, 14 example files, 2 combinations of each HA profile


def render_differences(render, case):
    """Every difference of the two renders of one case (plain lines)."""
    real_rc, real_docs, real_err = render("real", case)
    test_rc, test_docs, test_err = render("test", case)
    if real_rc != 0:
        return [] if test_rc != 0 else ["the real chart refuses it (%s) but the test chart renders it"
                                        % (real_err.splitlines()[-1] if real_err else real_rc)]
    if test_rc != 0:
        return ["the real chart renders it, the test chart fails: %s" % test_err]
    real, test = carto_chart.summary(real_docs), carto_chart.summary(test_docs)
    problems = _set_difference("object", real["objects"], test["objects"])
    for ident in sorted(set(real["containers"]) & set(test["containers"])):
        if real["containers"][ident] != test["containers"][ident]:
            problems.append("%s: real %s, test %s" % (ident, real["containers"][ident], test["containers"][ident]))
    return problems + _set_difference("secret reference", real["secret_refs"], test["secret_refs"])


def _differences(what, problems):
    """The failure message of ``what``: every difference, one per line ("" when the charts agree)."""
    return "%s: %d difference(s)\n%s" % (what, len(problems), "\n".join(problems)) if problems else ""


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_objects_containers_and_secret_refs(render, case):
    message = _differences(case, render_differences(render, case))
    assert not message, message


@functools.lru_cache(maxsize=None)
def _values_read(chart):
    return carto_chart.values_read(CHARTS[chart])


def _values_files():
    return ["carto-values.yaml", "carto-secrets.yaml", "domain.yaml"] + carto_chart.example_files()


@pytest.mark.parametrize("name", _values_files())
def test_same_value_keys_read(package, name):
    path = dict((os.path.basename(p), p) for p in package).get(name) or str(carto_chart.EXAMPLES_DIR / name)
    with open(path) as handle:
        values = yaml.safe_load(handle) or {}
    real = carto_chart.keys_read(values, _values_read("real"))
    test = carto_chart.keys_read(values, _values_read("test"))
    message = _differences("keys read: " + name, _set_difference("key read", real, test))
    assert not message, message
