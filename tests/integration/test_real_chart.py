"""The real-chart tier: playbooks/install.yml, verify and uninstall with CARTO's chart ``carto/carto`` 1.287.1.

The chart (with its Bitnami ``common`` and ``postgresql`` subcharts and CARTO's ``customizations-examples/``) is
at ../shared/carto-chart on developer machines and in CI, never on a user's machine: without it this module is
skipped. The other integration tests install the offline look-alike tests/charts/carto.

Shapes (CARTO docs: docs.carto.com, Self-Hosted, "Installation with Kubernetes" and "Customizations"):
- default: the chart's internal PostgreSQL (Bitnami StatefulSet, PVC of StorageClass ``standard``) and Valkey;
- production: inventories/prod/group_vars/all/ (external Postgres and Redis with TLS and their CA certificates, the
  router's own TLS chain, S3 buckets, LoadBalancer router Service with the AWS preset), its certificate files
  replaced by test PKI generated here (no private key is committed), plus the high-availability examples that
  inventory's scaling.yml asks for (autoscaling, standard with upgrades);
- every file of ``customizations-examples/`` (table EXAMPLES): installed and verified, or refused before any
  change for the reason the table names.

Time (CPU is what the suite's workers share): every installation is one inventory host (own namespace, release,
output directory) and ONE ``ansible-playbook playbooks/install.yml`` with forks installs all of them in parallel. A
second parallel run upgrades the default-shape installation to the production shape and installs RERUN again with
the same inputs (idempotence); then playbooks/uninstall.yml removes the production-shape installation. The other
installations are only deleted with their namespaces. They need more than the session cluster's 48 CPUs, so the
module runs them on kwok nodes of its own (the session's cordoned meanwhile) and deletes those nodes afterwards.
"""

import base64
import json
import pathlib
import re
import resource
import time
import uuid

import pytest
import yaml
from pki import Pki  # tests/tools, on sys.path through tests/conftest.py

REPO = pathlib.Path(__file__).resolve().parents[2]
CHART = REPO.parent / "shared" / "carto-chart"  # carto/carto 1.287.1, developer machines and CI only
EXAMPLES_DIR = CHART / "customizations-examples"

pytestmark = [
    pytest.mark.xdist_group("real_chart"),
    pytest.mark.skipif(not (CHART / "Chart.yaml").is_file(),
                       reason="the real chart carto/carto 1.287.1 is not at %s (developer machines and CI only); "
                              "the offline look-alike tests/charts/carto is tested instead" % CHART),
]

INSTALLED, REFUSED = "installed", "refused"
SWU = "high_availability/standard_with_upgrades/"

# Every file of customizations-examples/ (path relative to it) -> (outcome, what it does / the reason). INSTALLED:
# the installations that apply it (INSTALLATIONS, PRODUCTION_EXAMPLES) install and verify, and the release carries
# what the file asks for, key by key (_example_checks: replicas, HPAs, affinity, PDBs, router Service). REFUSED:
# the reason, asserted in the failure of an installation that applies only that file, with nothing created in the
# cluster. A file without an entry fails test_every_example_has_an_entry.
EXAMPLES = {
    "high_availability/standard/customizations.yaml": (INSTALLED, "preferred pod anti-affinity across nodes"),
    "high_availability/standard/development.yaml": (INSTALLED, "static scaling: 2 replicas"),
    "high_availability/standard/autoscaling.yaml": (INSTALLED, "HPAs 2-2 (metrics-server)"),
    SWU + "customizations.yaml": (INSTALLED, "preferred pod anti-affinity across nodes"),
    SWU + "development.yaml": (INSTALLED, "static scaling: 3 replicas"),
    SWU + "autoscaling.yaml": (INSTALLED, "HPAs 2-3 (metrics-server)"),
    "scale_components/development.yaml": (INSTALLED, "static scaling: 1 replica"),
    "scale_components/autoscaling.yaml": (INSTALLED, "HPAs with the chart's default bounds (metrics-server)"),
    "pod_disruption_budget/customizations.yaml": (INSTALLED, "a PDB for http-cache only, no disruption allowed"),
    "service_loadBalancer/config.yaml": (INSTALLED, "router Service LoadBalancer, address assigned"),
    "service_loadBalancer/aws_eks/config.yaml": (INSTALLED, "LoadBalancer with the AWS idle timeout 605 s"),
    "service_loadBalancer/azu_aks/config.yaml": (INSTALLED, "LoadBalancer with the Azure idle timeout 10 min"),
    # GKE Ingress with the user's certificate: the file points tlsCerts.existingSecret at a Secret the user creates
    # first (its own comment: kubectl create secret tls carto-tls-cert); as shipped, the values check refuses it.
    "ingress/gke/custom_cert_config.yaml":
        (REFUSED, "tlsCerts.existingSecret.name: Secret 'carto-tls-cert' is referenced but does not exist"),
    # GKE Ingress with a Google-managed certificate: BackendConfig, FrontendConfig and ManagedCertificate are GKE's
    # own kinds, which this cluster (like any non-GKE one) does not serve; the preflight's served-kinds check.
    "ingress/gke/gcp_managed_cert_config.yaml":
        (REFUSED, "served_kinds: the cluster does not serve: cloud.google.com/v1 BackendConfig "
                  "(carto-service-backend-config), brought by the GKE Ingress customization"),
}

# Installation (inventory host) of the first, parallel install -> the examples it applies, in merge order (later
# wins, as with helm -f). The examples of one installation set disjoint keys (test_installations_apply_disjoint_keys),
# so none hides another. "default" applies none: the default shape.
INSTALLATIONS = {
    "default": [],
    "ha-standard": ["high_availability/standard/customizations.yaml", "high_availability/standard/development.yaml",
                    "service_loadBalancer/config.yaml"],
    "ha-standard-hpa": ["high_availability/standard/customizations.yaml",
                        "high_availability/standard/autoscaling.yaml"],
    "ha-upgrades": [SWU + "customizations.yaml", SWU + "development.yaml", "service_loadBalancer/aws_eks/config.yaml"],
    "scale-static": ["scale_components/development.yaml", "pod_disruption_budget/customizations.yaml",
                     "service_loadBalancer/azu_aks/config.yaml"],
    "scale-hpa": ["scale_components/autoscaling.yaml"],
    "gke-custom-cert": ["ingress/gke/custom_cert_config.yaml"],
    "gke-managed-cert": ["ingress/gke/gcp_managed_cert_config.yaml"],
}
# The production shape, to which "default" is upgraded, also applies these (carto_customization_files).
PRODUCTION_EXAMPLES = [SWU + "customizations.yaml", SWU + "autoscaling.yaml"]
# Installed again with the same inputs next to the upgrade (idempotence): the default shape's internal PostgreSQL
# (StatefulSet, PVC) and Valkey, with anti-affinity and HPAs.
RERUN = "ha-standard-hpa"
FORKS = 4  # installations of one ansible-playbook run at a time
EXTRA_NODES = 4  # kwok nodes of this module (copies of kwok-node-0: 16 CPU / 64 GiB); the session's are cordoned
DOMAIN = "carto.example.com"  # the domain of inventories/prod and of the test PKI's leaf


def _examples_on_disk():
    return sorted(str(p.relative_to(EXAMPLES_DIR)) for p in EXAMPLES_DIR.rglob("*") if p.is_file())


def _load(relpath):
    return yaml.safe_load((EXAMPLES_DIR / relpath).read_text()) or {}


def _refused(host):
    return any(EXAMPLES[relpath][0] == REFUSED for relpath in INSTALLATIONS[host])


def _kebab(key):
    """Values key of a component -> the suffix of its objects' names (accountsWww -> accounts-www)."""
    return re.sub(r"(?<!^)([A-Z])", r"-\1", key).lower()


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Runs(object):
    """The module's installations: one inventory (a host per installation) and the ansible-playbook runs on it."""

    def __init__(self, cluster, workdir, hosts, helm):
        self.cluster = cluster
        self.workdir = workdir
        self.hosts = hosts
        self.group_vars = yaml.safe_load((REPO / "inventories/local/group_vars/all/main.yml").read_text())
        self.group_vars["carto_chart_ref"] = str(CHART)
        # The newest Helm major the suite tests with (the newest_helm fixture): Helm 4 on the current stack of
        # tools/dev.py test.
        self.group_vars["carto_helm_binary"] = helm
        self.seconds, self.cpu, self.results = {}, {}, {}

    def namespace(self, host):
        return self.hosts[host]["carto_namespace"]

    def report(self, host):
        return json.loads((pathlib.Path(self.hosts[host]["carto_output_dir"]) / "verify-report.json").read_text())

    def run(self, name, playbook, hosts, extra=None):
        """ansible-playbook ``playbook`` on ``hosts`` in parallel; keep (result, {host: first failure message},
        {host: recap counts}) as ``results[name]``."""
        inventory = self.workdir / ("%s.yml" % name)
        inventory.write_text(yaml.safe_dump({"all": {"vars": self.group_vars, "children": {"carto": {"hosts": {
            host: self.hosts[host] for host in hosts}}}}}))
        # At most FORKS installations at once: with all 8 at once on 2 cores the API server answered the Services'
        # server-side applies with "Timeout: request did not complete within requested timeout" (>60 s) twice.
        args = ["-f", str(min(FORKS, len(hosts)))] + (["-e", json.dumps(extra)] if extra else [])
        started, cpu = time.monotonic(), _children_cpu()
        result = self.cluster.run_playbook(playbook, inventory=str(inventory), args=args, timeout=1200,
                                           env={"ANSIBLE_CALLBACK_RESULT_FORMAT": "json"})
        self.seconds[name], self.cpu[name] = time.monotonic() - started, _children_cpu() - cpu
        self.results[name] = (result, result.failures(), result.recaps)
        return self.results[name]

    def assert_installed(self, host, run="install"):
        """The host's run passed and its verify report says so; return the report."""
        result, messages, recaps = self.results[run]
        # Plain-string messages: pytest prints them whole (a tuple's repr is cut in the summary).
        assert host not in messages, "%s: %s run failed: %s" % (host, run, messages.get(host))
        assert recaps.get(host, {}).get("failed") == 0, "%s: recap %s\n%s" % (host, recaps.get(host), result)
        report = self.report(host)
        failed = [c for c in report["checks"] if c["status"] == "failed"]
        assert report["verdict"] == "passed", "%s: verify checks failed:\n%s" % (host, json.dumps(failed, indent=1))
        return report


def _host_vars(carto_package, workdir, host):
    out = dict(carto_package, ansible_connection="local", ansible_python_interpreter="{{ ansible_playbook_python }}",
               carto_namespace="rc-%s-%s" % (host, uuid.uuid4().hex[:6]), carto_output_dir=str(workdir / host),
               carto_deploy_timeout=300,
               carto_customization_files=[str(EXAMPLES_DIR / relpath) for relpath in INSTALLATIONS[host]])
    if _refused(host):
        out["carto_support_bundle_on_failure"] = False
    return out


def _production_vars(key_pool, workdir):
    """inventories/prod/group_vars/all/ (databases, exposure, storage) with its controller files replaced by PKI
    generated here, its vault variables by test values, and PRODUCTION_EXAMPLES."""
    workdir.mkdir(parents=True, exist_ok=True)
    pki = Pki(key_pool, workdir)
    std = pki.std
    prod = {}
    for name in ("databases.yml", "exposure.yml", "storage.yml"):
        prod.update(yaml.safe_load((REPO / "inventories/prod/group_vars/all" / name).read_text()))
    prod["carto_external_postgresql"]["ssl_ca"] = pki.pem(pki.ca("Test Postgres CA", pki.key("postgres-ca")))
    prod["carto_external_redis"]["tls_ca"] = pki.pem(pki.ca("Test Redis CA", pki.key("redis-ca")))
    prod["carto_tls"].update(certificate_file=pki.write("fullchain.pem", pki.pem(std["leaf"], std["inter"])),
                             private_key_file=pki.write("privkey.pem", pki.key_pem(std["leaf_key"])),
                             ca_bundle_file=pki.write("root.pem", pki.pem(std["root"])))
    prod.update(vault_carto_postgres_password="pg-user-" + uuid.uuid4().hex,
                vault_carto_postgres_admin_password="pg-admin-" + uuid.uuid4().hex,
                vault_carto_redis_password="redis-" + uuid.uuid4().hex,
                vault_carto_s3_access_key_id="AKIA" + uuid.uuid4().hex[:16].upper(),
                vault_carto_s3_secret_access_key="s3-" + uuid.uuid4().hex)
    assert prod["carto_domain"] == DOMAIN
    prod["carto_customization_files"] = [str(EXAMPLES_DIR / relpath) for relpath in PRODUCTION_EXAMPLES]
    return prod, std, pki


@pytest.fixture(scope="module")
def own_nodes(local_cluster):
    """EXTRA_NODES kwok nodes of the module's own, copies of kwok-node-0 (labels, annotations, capacity), while the
    session's nodes are cordoned: the installations neither count what earlier tests left on those nodes nor leave
    anything there; afterwards the module's nodes are deleted (with the pods on them) and the session's uncordoned,
    so the tests that count nodes or free capacity see the session cluster as it was."""
    template = local_cluster.get_json("node", "kwok-node-0")
    session = [n["metadata"]["name"] for n in local_cluster.get_json("nodes")["items"]]
    names = ["kwok-node-%d" % index for index in range(len(session), len(session) + EXTRA_NODES)]
    for index, name in enumerate(names):
        labels = dict(template["metadata"].get("labels") or {})
        labels.update({"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": "zone-%d" % (index % 3)})
        # kwok's annotations, e.g. the node's own resource-metrics path (metrics.k8s.io/resource-metrics-path)
        annotations = {key: value.replace("kwok-node-0", name)
                       for key, value in (template["metadata"].get("annotations") or {}).items()}
        node = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": labels, "annotations": annotations}}
        local_cluster.kubectl("create", "-f", "-", stdin=json.dumps(node))
        # The status is dropped on create; kwok keeps the capacity that is already there.
        status = {key: template["status"][key] for key in ("capacity", "allocatable")}
        local_cluster.kubectl("patch", "node", name, "--subresource=status", "--type=merge",
                              "-p", json.dumps({"status": status}))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        items = local_cluster.get_json("nodes")["items"]
        ready = [n["metadata"]["name"] for n in items for c in n["status"].get("conditions", [])
                 if c["type"] == "Ready" and c["status"] == "True"]
        if set(names) <= set(ready):
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the module's kwok nodes did not become Ready")
    try:
        local_cluster.kubectl("cordon", *session)
        yield names
    finally:
        local_cluster.kubectl("delete", "node", *names, "--wait=false", check=False)
        local_cluster.kubectl("uncordon", *session, check=False)


@pytest.fixture(scope="module")
def runs(local_cluster, carto_package, own_nodes, newest_helm, tmp_path_factory):  # pylint: disable=unused-argument
    """Every installation of INSTALLATIONS in ONE parallel ansible-playbook of playbooks/install.yml."""
    workdir = tmp_path_factory.mktemp("real-chart")
    hosts = {host: _host_vars(carto_package, workdir, host) for host in INSTALLATIONS}
    runs = Runs(local_cluster, workdir, hosts, newest_helm)
    runs.run("install", "playbooks/install.yml", list(INSTALLATIONS))
    yield runs
    for host in hosts:
        local_cluster.kubectl("delete", "namespace", runs.namespace(host), "--ignore-not-found", "--wait=false",
                              check=False)


@pytest.fixture(scope="module")
def upgraded(runs, key_pool):
    """One parallel install.yml of the second round: the default-shape installation upgraded in place (same release
    and namespace) to the production shape, and RERUN installed again with the same inputs (idempotence)."""
    prod, std, pki = _production_vars(key_pool, runs.workdir / "pki")
    runs.hosts["default"].update(prod)
    runs.run("upgrade", "playbooks/install.yml", ["default", RERUN])
    return prod, std, pki


@pytest.fixture(scope="module")
def uninstalled(runs, upgraded):  # pylint: disable=unused-argument
    """playbooks/uninstall.yml on the production-shape installation, with the Secrets this collection created.
    (Deleting the namespace too, carto_uninstall_delete_namespace, waits for the namespace controller and is
    tested with the offline chart in test_install_uninstall.py; the module's namespaces are deleted afterwards.)"""
    return runs.run("uninstall", "playbooks/uninstall.yml", ["default"], extra={"carto_uninstall_delete_secrets": True})


def _checks(report):
    return dict((c["name"], c) for c in report["checks"])


# --------------------------------------------------------------------------- the tables


def test_every_example_has_an_entry():
    """The table covers exactly the files CARTO ships: a new example must get an entry (and an installation)."""
    on_disk = _examples_on_disk()
    missing = {"without an entry": sorted(set(on_disk) - set(EXAMPLES)),
               "no longer shipped": sorted(set(EXAMPLES) - set(on_disk))}
    assert sorted(EXAMPLES) == on_disk, missing
    applied = set(PRODUCTION_EXAMPLES).union(*INSTALLATIONS.values())
    assert not set(EXAMPLES) - applied, "examples no installation applies: %s" % sorted(set(EXAMPLES) - applied)
    for host, files in INSTALLATIONS.items():
        if _refused(host):
            assert len(files) == 1, "a refused example is applied alone (%s: %s)" % (host, files)


def _leaves(values, prefix=()):
    for key, value in values.items():
        if isinstance(value, dict) and value:
            yield from _leaves(value, prefix + (key,))
        else:
            yield prefix + (key,)


@pytest.mark.parametrize("files", list(INSTALLATIONS.values()) + [PRODUCTION_EXAMPLES],
                         ids=list(INSTALLATIONS) + ["production"])
def test_installations_apply_disjoint_keys(files):
    """No example of an installation sets a key another one of it sets, so each example's effect is visible."""
    seen = {}
    for relpath in files:
        for leaf in _leaves(_load(relpath)):
            assert leaf not in seen, (".".join(leaf), seen.get(leaf), relpath)
            seen[leaf] = relpath


# --------------------------------------------------------------------------- default shape


def test_default_shape_installed_and_verified(runs, local_cluster):
    checks = _checks(runs.assert_installed("default"))
    namespace = runs.namespace("default")
    for name in ("statefulset carto-postgresql", "pods carto-postgresql", "deployment carto-valkey",
                 "workspace_migrations"):
        assert checks[name]["status"] == "passed", checks.get(name)
    claims = local_cluster.get_json("pvc", "-n", namespace)["items"]
    assert [c["metadata"]["name"] for c in claims] == ["data-carto-postgresql-0"]
    assert all(c["status"]["phase"] == "Bound" and c["spec"]["storageClassName"] == "standard" for c in claims), \
        [(c["metadata"]["name"], c["status"]) for c in claims]
    releases = json.loads(local_cluster.helm("list", "-n", namespace, "-o", "json").stdout)
    assert [(r["name"], r["chart"], r["status"]) for r in releases] == [("carto", "carto-1.287.1", "deployed")]


# --------------------------------------------------------------------------- the examples


def _objects(cluster, namespace, kind):
    return {o["metadata"]["name"]: o for o in (cluster.get_json(kind, "-n", namespace) or {}).get("items", [])}


def _chart_default(component, key):
    if not hasattr(_chart_default, "values"):
        _chart_default.values = yaml.safe_load((CHART / "values.yaml").read_text())
    return _chart_default.values[component]["autoscaling"][key]


def _disruptions_allowed(cluster, namespace, name):
    """status.disruptionsAllowed of a PDB once the disruption controller has seen it (up to 20 s)."""
    deadline = time.monotonic() + 20
    while True:
        status = cluster.get_json("pdb", name, "-n", namespace).get("status") or {}
        if status.get("observedGeneration") or time.monotonic() > deadline:
            return status.get("disruptionsAllowed")
        time.sleep(1)


def _check_pdb(cluster, namespace, pdbs, name, value):
    if not value.get("enabled"):
        assert name + "-pdb" not in pdbs, name
        return
    spec = pdbs[name + "-pdb"]["spec"]
    if "maxUnavailable" in value:
        # carto/carto 1.287.1 writes maxUnavailable only when truthy (Go's `if`), so 0 is dropped and the PDB has
        # neither bound; Kubernetes' disruption controller then allows no disruption either, as 0 asks.
        assert spec.get("maxUnavailable", 0) == value["maxUnavailable"], spec
        if value["maxUnavailable"] == 0:
            assert _disruptions_allowed(cluster, namespace, name + "-pdb") == 0
    if "minAvailable" in value:
        assert spec["minAvailable"] == value["minAvailable"], spec


def _example_checks(cluster, namespace, report, relpath):
    """Assert that the release carries what the example asks for, key by key; an unknown key fails (write its
    check)."""
    deployments = _objects(cluster, namespace, "deployments")
    hpas = _objects(cluster, namespace, "hpa")
    pdbs = _objects(cluster, namespace, "pdb")
    for component, spec in _load(relpath).items():
        name = "carto-" + _kebab(component)
        for key, value in spec.items():
            if key == "replicaCount":
                assert deployments[name]["spec"]["replicas"] == value, (name, deployments[name]["spec"])
                assert deployments[name]["status"].get("readyReplicas") == value, (name, deployments[name]["status"])
            elif key == "autoscaling":
                hpa = hpas[name]["spec"]
                assert hpa["scaleTargetRef"]["name"] == name
                assert hpa["minReplicas"] == value.get("minReplicas", _chart_default(component, "minReplicas"))
                assert hpa["maxReplicas"] == value.get("maxReplicas", _chart_default(component, "maxReplicas"))
                assert deployments[name]["status"].get("readyReplicas", 0) >= hpa["minReplicas"]
            elif key == "affinity":
                assert deployments[name]["spec"]["template"]["spec"]["affinity"] == value, name
            elif key == "podDisruptionBudget":
                _check_pdb(cluster, namespace, pdbs, name, value)
            elif (component, key) == ("router", "service"):
                service = cluster.get_json("service", name, "-n", namespace)
                assert service["spec"]["type"] == value["type"]
                annotations = service["metadata"].get("annotations") or {}
                assert dict(annotations, **value.get("annotations", {})) == annotations, annotations
                assert _checks(report)["load_balancer"]["status"] == "passed", _checks(report)["load_balancer"]
                assert service["status"]["loadBalancer"]["ingress"][0]["ip"].startswith("127.0.0.")
            else:
                raise AssertionError("%s: no check for %s.%s" % (relpath, component, key))


@pytest.mark.parametrize("relpath", sorted(EXAMPLES))
def test_example(runs, local_cluster, request, relpath):
    outcome, reason = EXAMPLES[relpath]
    hosts = [h for h, files in INSTALLATIONS.items() if relpath in files]
    if outcome == REFUSED:
        result, messages, _recaps = runs.results["install"]
        message = messages.get(hosts[0], "")
        assert reason in message, (reason, message or result.output[-3000:])
        assert local_cluster.get_json("namespace", runs.namespace(hosts[0])) is None
        return
    for host in hosts:
        report = runs.assert_installed(host)
        _example_checks(local_cluster, runs.namespace(host), report, relpath)
    if relpath in PRODUCTION_EXAMPLES:
        request.getfixturevalue("upgraded")
        report = runs.assert_installed("default", run="upgrade")
        _example_checks(local_cluster, runs.namespace("default"), report, relpath)


# --------------------------------------------------------------------------- idempotence, upgrade, uninstall


def test_second_run_changes_nothing(runs, upgraded, local_cluster):  # pylint: disable=unused-argument
    result, _messages, recaps = runs.results["upgrade"]
    runs.assert_installed(RERUN, run="upgrade")
    assert recaps[RERUN]["changed"] == 0, (recaps, str(result))
    history = json.loads(local_cluster.helm("history", "carto", "-n", runs.namespace(RERUN), "-o", "json").stdout)
    assert [h["revision"] for h in history] == [1]


def test_upgrade_to_production_shape(runs, upgraded, local_cluster):
    prod, std, pki = upgraded
    result = runs.results["upgrade"][0]
    checks = _checks(runs.assert_installed("default", run="upgrade"))
    namespace = runs.namespace("default")
    assert checks["load_balancer"]["status"] == "passed", checks["load_balancer"]
    # Same release, next revision; the internal databases are gone (the internal PostgreSQL's claim stays: Kubernetes
    # does not delete the volumes of a StatefulSet's claim templates).
    history = json.loads(local_cluster.helm("history", "carto", "-n", namespace, "-o", "json").stdout)
    assert [(h["revision"], h["status"]) for h in history] == [(1, "superseded"), (2, "deployed")]
    assert "statefulset carto-postgresql" not in checks and "deployment carto-valkey" not in checks
    assert local_cluster.get_json("statefulset", "carto-postgresql", "-n", namespace) is None
    assert local_cluster.get_json("pvc", "data-carto-postgresql-0", "-n", namespace)["status"]["phase"] == "Bound"
    values = json.loads(local_cluster.helm("get", "values", "carto", "-n", namespace, "-o", "json").stdout)
    postgres, redis = prod["carto_external_postgresql"], prod["carto_external_redis"]
    assert values["internalPostgresql"]["enabled"] is False and values["internalRedis"]["enabled"] is False
    assert values["externalPostgresql"]["host"] == postgres["host"] and values["externalPostgresql"]["sslEnabled"]
    assert values["externalPostgresql"]["sslCA"].strip() == postgres["ssl_ca"].strip()
    assert values["externalRedis"]["host"] == redis["host"] and values["externalRedis"]["tlsEnabled"]
    assert values["externalRedis"]["tlsCA"].strip() == redis["tls_ca"].strip()
    assert values["appConfigValues"]["storageProvider"] == "s3"
    assert values["appConfigValues"]["selfHostedDomain"] == DOMAIN
    router = local_cluster.get_json("service", "carto-router", "-n", namespace)
    assert router["spec"]["type"] == "LoadBalancer"
    assert router["metadata"]["annotations"][
        "service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout"] == "605"
    assert router["spec"]["loadBalancerSourceRanges"] == ["0.0.0.0/0"]
    # The Secrets the values refer to survived the upgrade, with the inventory's content: carto-postgresql and
    # carto-tls are also the names of Secrets the chart rendered in revision 1 (internal PostgreSQL, self-signed
    # certificate), which Helm deletes on this upgrade unless they carry helm.sh/resource-policy: keep.
    tls = local_cluster.get_json("secret", "carto-tls", "-n", namespace)
    assert tls and tls["type"] == "kubernetes.io/tls", "the router TLS Secret carto-tls is gone"
    assert base64.b64decode(tls["data"]["tls.crt"]).decode() == pki.pem(std["leaf"], std["inter"])
    secret = local_cluster.get_json("secret", "carto-postgresql", "-n", namespace)
    assert secret, "the Postgres Secret carto-postgresql is gone"
    assert base64.b64decode(secret["data"]["user-password"]).decode() == prod["vault_carto_postgres_password"]
    for name in ("carto-redis", "carto-buckets"):
        assert local_cluster.get_json("secret", name, "-n", namespace), name
    # No secret value reaches the output.
    for key in ("vault_carto_postgres_password", "vault_carto_postgres_admin_password", "vault_carto_redis_password",
                "vault_carto_s3_secret_access_key"):
        assert prod[key] not in result.output, key


def _current_metrics(cluster, namespace):
    hpas = (cluster.get_json("horizontalpodautoscalers.v2.autoscaling", "-n", namespace) or {}).get("items", [])
    return {h["metadata"]["name"]: (h.get("status") or {}).get("currentMetrics") for h in hpas}


def test_autoscaling_examples_report_current_metrics(runs, upgraded, local_cluster):  # pylint: disable=unused-argument
    """The HPAs of the autoscaling examples get metrics (metrics-server, fed by kwok): status.currentMetrics."""
    installations = [(h, "install") for h, files in INSTALLATIONS.items() if any("autoscaling" in f for f in files)]
    installations.append(("default", "upgrade"))
    deadline = time.monotonic() + 60
    for host, run in installations:
        runs.assert_installed(host, run=run)
        while True:
            current = _current_metrics(local_cluster, runs.namespace(host))
            assert len(current) == 7, (host, sorted(current))
            if all(current.values()) or time.monotonic() > deadline:
                break
            time.sleep(2)
        assert all(current.values()), (host, current)


def test_uninstall(runs, uninstalled, local_cluster):
    result, messages, recaps = uninstalled
    assert not messages and recaps["default"]["failed"] == 0, str(result)
    namespace = runs.namespace("default")
    assert local_cluster.helm("status", "carto", "-n", namespace, check=False).returncode != 0
    # helm uninstall --wait: every workload of the release is gone; so are the Secrets of carto.selfhosted.secrets
    # (label app.kubernetes.io/managed-by=carto.selfhosted), Helm's own (release records) too.
    for kind in ("deployments", "statefulsets", "pods", "hpa", "services", "secrets"):
        assert not local_cluster.get_json(kind, "-n", namespace)["items"], kind
    # Left for the operator: the internal PostgreSQL's claim (Kubernetes keeps a StatefulSet's volumes).
    claims = local_cluster.get_json("pvc", "-n", namespace)["items"]
    assert [c["metadata"]["name"] for c in claims] == ["data-carto-postgresql-0"]


def test_time_report(runs, uninstalled, record_property):  # pylint: disable=unused-argument
    """Where the module's time goes: each ansible-playbook's wall time and CPU (with its children: modules, helm,
    kubectl), printed with -s and kept as a JUnit property. CPU is what the suite's workers share."""
    report = ", ".join("%s %.0f s / %.0f CPU-s" % (name, runs.seconds[name], runs.cpu[name]) for name in runs.seconds)
    record_property("real_chart_runs", report)
    print("real-chart runs (wall / CPU): " + report)
    assert list(runs.seconds) == ["install", "upgrade", "uninstall"]
