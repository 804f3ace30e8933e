"""carto.selfhosted.postgres_operator on the local control plane, with PGO's real Helm chart where it is available.

The chart is PGO's own v5 chart 5.8.5 (helm/install of CrunchyData/postgres-operator-examples, the one
https://access.crunchydata.com/documentation/postgres-operator/v5/installation/helm installs) with its real CRDs,
at ../shared/pgo-chart on developer machines and in CI: every PostgresCluster the role writes is then validated by
the real CRD's OpenAPI schema on the API server. Without it, the offline test double tests/charts/pgo (same values
keys and object names, a reduced structural CRD) is installed instead; the test ids say which one
(``pgo-5.8.5`` / ``pgo-test-chart``) and the variant not run is skipped with the reason.
$CARTO_TEST_PGO_CHART picks the variant: ``auto`` (default: the real chart when present, else the double),
``real``, ``test`` or ``both``.

No operator runs on kwok nodes (kwok only marks the operator pod Running), so FakePGO plays the operator's part:
for every PostgresCluster it writes the Secrets PGO writes (<cluster>-pguser-<user>, <cluster>-cluster-cert; see
https://access.crunchydata.com/documentation/postgres-operator/latest/architecture/user-management/).
"""

import base64
import json
import os
import pathlib
import re
import secrets
import threading

import pytest

# The tests install PGO's cluster-wide CRD and ClusterRoles one after the other on the same cluster: keep the file
# on one xdist worker (--dist loadgroup); the other tests are spread one by one.
pytestmark = pytest.mark.xdist_group("postgres_operator")

REPO = pathlib.Path(__file__).resolve().parents[2]

REAL_PGO_CHART = REPO.parent / "shared" / "pgo-chart"  # PGO's chart 5.8.5: developer machines and CI only
TEST_PGO_CHART = REPO / "tests" / "charts" / "pgo"
CRD = "postgresclusters.postgres-operator.crunchydata.com"
CRD_FILE = "crds/postgres-operator.crunchydata.com_postgresclusters.yaml"
FAKE_CA = "-----BEGIN CERTIFICATE-----\nTUlJQmZha2VDQQ==\n-----END CERTIFICATE-----\n"


def _crd_version(chart):
    """The app.kubernetes.io/version label of the chart's PostgresCluster CRD (5.8.5, 5.8.5-test)."""
    with open(str(chart / CRD_FILE)) as handle:
        head = handle.read(2000)
    return re.search(r"app\.kubernetes\.io/version: *(\S+)", head).group(1)


def _chart_params():
    choice = os.environ.get("CARTO_TEST_PGO_CHART", "auto")
    if choice not in ("auto", "real", "test", "both"):
        raise pytest.UsageError("CARTO_TEST_PGO_CHART=%r: give auto, real, test or both" % choice)
    real_present = (REAL_PGO_CHART / "Chart.yaml").is_file()
    absent = ("the real PGO chart 5.8.5 is not at %s (developer machines and CI only); the test double "
              "tests/charts/pgo is tested instead" % REAL_PGO_CHART)
    real_marks, test_marks = [], []
    if not real_present:
        real_marks = [pytest.mark.skip(reason=absent)]
    elif choice == "test":
        real_marks = [pytest.mark.skip(reason="CARTO_TEST_PGO_CHART=test: the test double is tested instead")]
    if choice == "real" or (choice == "auto" and real_present):
        test_marks = [pytest.mark.skip(reason="the real PGO chart %s is tested instead "
                                              "(CARTO_TEST_PGO_CHART=test or both runs the test double)"
                                              % REAL_PGO_CHART)]
    return [pytest.param(REAL_PGO_CHART, id="pgo-5.8.5", marks=real_marks),
            pytest.param(TEST_PGO_CHART, id="pgo-test-chart", marks=test_marks)]


@pytest.fixture(scope="module", params=_chart_params())
def pgo_chart(request, local_cluster):
    """The PGO chart directory to install. Helm installs crds/ only when the CRD is missing and never deletes it,
    so a PostgresCluster CRD left by the other chart (other variant, earlier session) is deleted first: the tests
    must run against this chart's schema."""
    chart = request.param
    crd = local_cluster.get_json("crd", CRD)
    if crd and crd["metadata"].get("labels", {}).get("app.kubernetes.io/version") != _crd_version(chart):
        local_cluster.kubectl("delete", "crd", CRD, "--wait=true")
    return str(chart)


def _b64(text):
    return base64.b64encode(text.encode()).decode()


def _secret(local_cluster, namespace, name):
    data = local_cluster.get_json("secret", name, "-n", namespace)
    return {k: base64.b64decode(v).decode() for k, v in data["data"].items()} if data else None


class FakePGO(object):
    """Plays PGO for the PostgresClusters of one namespace, in a background thread."""

    def __init__(self, local_cluster, namespace):
        self.cluster = local_cluster
        self.namespace = namespace
        self.passwords = {}
        self.seen = []  # PostgresCluster names, in the order they appeared
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)

    def _run(self):
        while not self._stop.wait(0.5):
            data = self.cluster.get_json("postgresclusters", "-n", self.namespace)
            for item in (data or {}).get("items", []):
                self.reconcile(item)

    def reconcile(self, pgcluster):
        name = pgcluster["metadata"]["name"]
        if name not in self.seen:
            self.seen.append(name)
        host = "%s-primary.%s.svc" % (name, self.namespace)
        for user in pgcluster["spec"].get("users", []):
            secret = "%s-pguser-%s" % (name, user["name"])
            if self.cluster.kubectl("get", "secret", secret, "-n", self.namespace, check=False).returncode == 0:
                continue  # PGO never overwrites an existing password
            self.passwords[user["name"]] = secrets.token_urlsafe(18)
            data = {"user": user["name"], "password": self.passwords[user["name"]], "host": host, "port": "5432"}
            if user.get("databases"):
                data["dbname"] = user["databases"][0]
            self._apply(secret, data)
        self._apply(name + "-cluster-cert", {"ca.crt": FAKE_CA, "tls.crt": "crt", "tls.key": "key"})

    def _apply(self, name, data):
        if self.cluster.kubectl("get", "secret", name, "-n", self.namespace, check=False).returncode == 0:
            return
        body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": self.namespace},
                "data": {k: _b64(v) for k, v in data.items()}}
        self.cluster.kubectl("apply", "-f", "-", stdin=json.dumps(body))

    def rotate(self, pgcluster, user):
        """What PGO does after its password is cleared: a new password in the same Secret."""
        self.passwords[user] = secrets.token_urlsafe(18)
        patch = {"data": {"password": _b64(self.passwords[user])}}
        self.cluster.kubectl("patch", "secret", "%s-pguser-%s" % (pgcluster, user), "-n", self.namespace,
                             "--type", "merge", "-p", json.dumps(patch))


def _pgo_vars(namespace, chart, **extra):
    out = {"carto_postgres_operator_enabled": True,
           "carto_postgres_operator_chart_ref": chart,
           "carto_postgres_operator_namespace": "pgo-" + namespace,
           "carto_postgres_operator_timeout": 60,
           # The test plays the operator and writes its Secrets at once: poll every second, not every 5.
           "carto_postgres_operator_poll_interval": 1}
    out.update(extra)
    return out


def _differences(expected, actual, path="spec"):
    """Paths where ``actual`` lacks a value of ``expected`` (dict keys and list items recursively); extra keys of
    ``actual`` (API server defaults) are fine."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [path]
        return [d for key, value in expected.items()
                for d in (_differences(value, actual[key], "%s.%s" % (path, key)) if key in actual
                          else ["%s.%s (dropped)" % (path, key)])]
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [path]
        return [d for i, value in enumerate(expected) for d in _differences(value, actual[i], "%s[%d]" % (path, i))]
    return [] if expected == actual else ["%s: %r != %r" % (path, actual, expected)]


def _cleanup(local_cluster, *namespaces):
    for ns in namespaces:
        for release in ("carto", "pgo"):
            local_cluster.helm("uninstall", release, "-n", ns, check=False)
        local_cluster.kubectl("delete", "namespace", ns, "--wait=false", check=False)


# Extra PostgresCluster fields the role merges in (carto_postgres_operator_cluster_spec): valid for PGO's schema.
EXTRA_SPEC = {"patroni": {"dynamicConfiguration": {"postgresql": {"parameters": {"max_connections": "200"}}}},
              "service": {"type": "ClusterIP"}}


def test_install_wires_carto_to_a_pgo_postgrescluster(local_cluster, base_vars, namespace, pgo_chart):
    pgo_ns = "pgo-" + namespace
    extra = dict(base_vars, **_pgo_vars(namespace, pgo_chart, carto_postgres_operator_instances=3,
                                        carto_postgres_operator_storage_size="20Gi",
                                        carto_postgres_operator_storage_class="fast-ssd",
                                        carto_postgres_operator_pgbackrest={"retention_full": 7},
                                        carto_postgres_operator_cluster_spec=EXTRA_SPEC))
    try:
        with FakePGO(local_cluster, namespace) as pgo:
            installed = local_cluster.run_playbook("playbooks/install.yml", extra)
        assert installed.rc == 0, str(installed)

        # PGO: its own namespace, the chart's namespace-mode value, the CRD of this chart established; the chart
        # names its ServiceAccount, ClusterRole(Binding) and operator Deployment pgo, after itself.
        release = json.loads(local_cluster.helm("get", "values", "pgo", "-n", pgo_ns, "-o", "json").stdout)
        assert release == {"singleNamespace": False}
        crd = local_cluster.get_json("crd", CRD)
        assert crd["metadata"]["labels"]["app.kubernetes.io/version"] == _crd_version(pathlib.Path(pgo_chart))
        assert {"type": "Established", "status": "True"}.items() <= {
            k: v for c in crd["status"]["conditions"] if c["type"] == "Established" for k, v in c.items()}.items()
        binding = local_cluster.get_json("clusterrolebinding", "pgo")
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "pgo"}
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "pgo", "namespace": pgo_ns}]
        operator = local_cluster.get_json("deployment", "pgo", "-n", pgo_ns)["spec"]["template"]["spec"]
        assert operator["serviceAccountName"] == "pgo"
        assert "PGO_TARGET_NAMESPACE" not in {e["name"] for e in operator["containers"][0]["env"]}

        # The PostgresCluster as the API server stored it (validated and pruned by the chart's CRD): everything
        # the role sent is there, nothing was dropped.
        sent = {
            "postgresVersion": 16,
            "instances": [{"name": "instance1", "replicas": 3, "dataVolumeClaimSpec": {
                "accessModes": ["ReadWriteOnce"], "storageClassName": "fast-ssd",
                "resources": {"requests": {"storage": "20Gi"}}}}],
            "backups": {"pgbackrest": {
                "global": {"repo1-retention-full": "7", "repo1-retention-full-type": "time"},
                "repos": [{"name": "repo1", "schedules": {"full": "0 1 * * 0", "differential": "0 1 * * 1-6"},
                           "volume": {"volumeClaimSpec": {"accessModes": ["ReadWriteOnce"],
                                                          "resources": {"requests": {"storage": "10Gi"}}}}}]}},
            "users": [{"name": "postgres"}, {"name": "carto", "databases": ["workspace"]}],
        }
        sent.update(EXTRA_SPEC)
        stored = local_cluster.get_json("postgrescluster", "carto-postgres", "-n", namespace)
        assert _differences(sent, stored["spec"]) == []
        assert stored["spec"]["users"] == sent["users"]
        assert stored["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "carto.selfhosted",
                                                "app.kubernetes.io/part-of": "carto"}

        # The combined Secret: both passwords under the keys the values reference.
        combined = _secret(local_cluster, namespace, "carto-postgres-operator")
        assert combined == {"user-password": pgo.passwords["carto"], "admin-password": pgo.passwords["postgres"]}

        # CARTO's values: no internal Postgres, PGO's primary Service, the combined Secret, PGO's CA.
        values = json.loads(local_cluster.helm("get", "values", "carto", "-n", namespace, "-o", "json").stdout)
        assert values["internalPostgresql"] == {"enabled": False}
        pg = values["externalPostgresql"]
        assert {k: pg[k] for k in ("host", "port", "user", "adminUser", "database", "existingSecret",
                                   "existingSecretPasswordKey", "existingSecretAdminPasswordKey", "sslEnabled")} == {
            "host": "carto-postgres-primary.%s.svc" % namespace, "port": "5432", "user": "carto", "adminUser": "postgres",
            "database": "workspace", "existingSecret": "carto-postgres-operator",
            "existingSecretPasswordKey": "user-password", "existingSecretAdminPasswordKey": "admin-password",
            "sslEnabled": True}
        assert pg["sslCA"] == FAKE_CA
        assert "carto-postgresql" not in {s["metadata"]["name"] for s in
                                          local_cluster.get_json("secrets", "-n", namespace)["items"]}
        for password in pgo.passwords.values():
            assert password not in installed.output

        # Idempotent: a second run changes nothing.
        again = local_cluster.run_playbook("playbooks/install.yml", extra)
        assert again.rc == 0, str(again)
        assert again.recap["changed"] == 0, str(again)

        # PGO rotates the CARTO user's password: the combined Secret follows, CARTO's pods roll.
        pgo.rotate("carto-postgres", "carto")
        synced = local_cluster.run_playbook("playbooks/postgres_operator.yml", extra)
        assert synced.rc == 0, str(synced)
        combined = _secret(local_cluster, namespace, "carto-postgres-operator")
        assert combined["user-password"] == pgo.passwords["carto"]
        version = local_cluster.get_json("secret", "carto-postgres-operator", "-n", namespace)["metadata"]["resourceVersion"]
        deployments = local_cluster.get_json("deployments", "-n", namespace)["items"]
        assert deployments
        for deployment in deployments:
            annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
            assert annotations.get("carto.selfhosted/postgres-secret-version") == version, deployment["metadata"]["name"]
        assert pgo.passwords["carto"] not in synced.output
        settled = local_cluster.run_playbook("playbooks/postgres_operator.yml", extra)
        assert settled.rc == 0 and settled.recap["changed"] == 0, str(settled)

        # Uninstall keeps the data: the PostgresCluster, the CRD and the combined Secret stay.
        removed = local_cluster.run_playbook("playbooks/postgres_operator.yml",
                                             dict(extra, carto_postgres_operator_state="absent"))
        assert removed.rc == 0, str(removed)
        assert local_cluster.helm("status", "pgo", "-n", pgo_ns, check=False).returncode != 0
        assert local_cluster.get_json("postgrescluster", "carto-postgres", "-n", namespace) is not None
        assert local_cluster.get_json("crd", CRD) is not None
        assert _secret(local_cluster, namespace, "carto-postgres-operator") is not None

        # ...unless explicitly asked.
        purged = local_cluster.run_playbook("playbooks/postgres_operator.yml", dict(
            extra, carto_postgres_operator_state="absent", carto_postgres_operator_delete_cluster=True))
        assert purged.rc == 0, str(purged)
        assert local_cluster.get_json("postgrescluster", "carto-postgres", "-n", namespace) is None
        assert _secret(local_cluster, namespace, "carto-postgres-operator") is None
    finally:
        _cleanup(local_cluster, namespace, pgo_ns)


def test_single_namespace_mode(local_cluster, namespace, pgo_chart):
    """PGO watches only its namespace: the PostgresCluster lives there, the combined Secret in CARTO's."""
    pgo_ns = "pgo-" + namespace
    extra = _pgo_vars(namespace, pgo_chart, carto_namespace=namespace, carto_postgres_operator_single_namespace=True,
                      carto_postgres_operator_cluster_namespace=pgo_ns,
                      carto_postgres_operator_user="carto-app", carto_postgres_operator_instances=1)
    try:
        with FakePGO(local_cluster, pgo_ns) as pgo:
            result = local_cluster.run_playbook("playbooks/postgres_operator.yml", extra)
        assert result.rc == 0, str(result)
        binding = local_cluster.get_json("rolebinding", "pgo", "-n", pgo_ns)
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pgo"}
        assert local_cluster.get_json("role", "pgo", "-n", pgo_ns) is not None
        assert local_cluster.get_json("serviceaccount", "pgo", "-n", pgo_ns) is not None
        operator = local_cluster.get_json("deployment", "pgo", "-n", pgo_ns)["spec"]["template"]["spec"]
        assert "PGO_TARGET_NAMESPACE" in {e["name"] for e in operator["containers"][0]["env"]}
        assert pgo.seen == ["carto-postgres"]
        assert _secret(local_cluster, namespace, "carto-postgres-operator") == {
            "user-password": pgo.passwords["carto-app"], "admin-password": pgo.passwords["postgres"]}
    finally:
        _cleanup(local_cluster, namespace, pgo_ns)


def test_the_crd_schema_refuses_a_bad_postgrescluster(local_cluster, namespace, pgo_chart):
    """The chart's CRD schema is active on the API server: a value out of its bounds is refused (nothing is
    written); an unknown field is pruned, and the role stops on it before waiting for PGO."""
    pgo_ns = "pgo-" + namespace
    try:
        # spec.port: the CRD's minimum is 1024.
        refused = local_cluster.run_playbook("playbooks/postgres_operator.yml", _pgo_vars(
            namespace, pgo_chart, carto_namespace=namespace, carto_postgres_operator_cluster_spec={"port": 80}))
        assert refused.rc != 0, str(refused)
        assert "The API server refused the PostgresCluster %s/carto-postgres" % namespace in refused.output, str(refused)
        assert "spec.port: Invalid value: 80: spec.port in body should be greater than or equal to 1024" \
            in refused.output, str(refused)
        assert local_cluster.get_json("postgresclusters", "-n", namespace)["items"] == []

        # A misspelt top-level key (patrony for patroni): pruned by the API server, refused by the role.
        misspelt = {"patrony": {"dynamicConfiguration": {"postgresql": {"parameters": {"max_connections": "200"}}}}}
        dropped = local_cluster.run_playbook("playbooks/postgres_operator.yml", _pgo_vars(
            namespace, pgo_chart, carto_namespace=namespace, carto_postgres_operator_cluster_spec=misspelt))
        assert dropped.rc != 0, str(dropped)
        assert ("The API server dropped spec.patrony.dynamicConfiguration.postgresql.parameters.max_connections "
                "from the PostgresCluster %s/carto-postgres" % namespace) in dropped.output, str(dropped)
        assert "Wait for PGO's user Secrets" not in dropped.output, str(dropped)
        stored = local_cluster.get_json("postgrescluster", "carto-postgres", "-n", namespace)
        assert "patrony" not in stored["spec"] and stored["spec"]["postgresVersion"] == 16
    finally:
        _cleanup(local_cluster, namespace, pgo_ns)


def test_bad_settings_stop_before_any_change(local_cluster, namespace, pgo_chart):
    extra = _pgo_vars(namespace, pgo_chart, carto_namespace=namespace, carto_postgres_operator_postgres_version=10,
                      carto_postgres_operator_user="workspace_admin", carto_postgres_operator_single_namespace=True)
    result = local_cluster.run_playbook("playbooks/postgres_operator.yml", extra)
    assert result.rc != 0, str(result)
    for expected in ("postgres_operator_postgres_version: 10 is below 11",
                     "postgres_operator_user: workspace_admin is not a DNS label",
                     "postgres_operator_cluster_namespace: %s differs from the PGO namespace" % namespace):
        assert expected in result.output, str(result)
    assert local_cluster.kubectl("get", "namespace", "pgo-" + namespace, check=False).returncode != 0


def test_operator_failure_shows_its_logs_and_events(local_cluster, namespace, pgo_chart):
    pgo_ns = "pgo-" + namespace
    # The chart's affinity value: a node affinity no node matches keeps the operator pod Pending, never Available.
    nowhere = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "carto.selfhosted/no-such-node", "operator": "In", "values": ["true"]}]}]}}}
    extra = _pgo_vars(namespace, pgo_chart, carto_namespace=namespace, carto_postgres_operator_timeout=10,
                      carto_postgres_operator_chart_values={"affinity": nowhere})
    try:
        result = local_cluster.run_playbook("playbooks/postgres_operator.yml", extra)
        assert result.rc != 0, str(result)
        assert "Installing PGO (release pgo, namespace %s" % pgo_ns in result.output, str(result)
        assert "deployment/pgo in %s:" % pgo_ns in result.output, str(result)
        assert "FailedScheduling" in result.output, str(result)
        # Nothing was asked of the PostgresCluster.
        assert local_cluster.get_json("postgresclusters", "-n", namespace)["items"] == []
    finally:
        _cleanup(local_cluster, namespace, pgo_ns)
