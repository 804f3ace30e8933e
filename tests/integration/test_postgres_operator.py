"""carto.selfhosted.postgres_operator on the local control plane.

No operator runs on kwok nodes, so tests/charts/pgo (the PostgresCluster CRD and an operator
Deployment) stands in for PGO's chart and FakePGO plays the operator's part: for every
PostgresCluster it writes the Secrets PGO writes (<cluster>-pguser-<user>, <cluster>-cluster-cert).
"""

import base64
import json
import pathlib
import secrets
import threading

import pytest

# The tests install PGO's cluster-wide CRD and ClusterRoles one after the other on the same cluster: keep the file
# on one xdist worker (--dist loadgroup); the other tests are spread one by one.
pytestmark = pytest.mark.xdist_group("postgres_operator")

REPO = pathlib.Path(__file__).resolve().parents[2]

PGO_CHART = str(REPO / "tests" / "charts" / "pgo")
CRD = "postgresclusters.postgres-operator.crunchydata.com"
FAKE_CA = "-----BEGIN CERTIFICATE-----\nTUlJQmZha2VDQQ==\n-----END CERTIFICATE-----\n"


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


def _pgo_vars(namespace, **extra):
    out = {"carto_postgres_operator_enabled": True,
           "carto_postgres_operator_chart_ref": PGO_CHART,
           "carto_postgres_operator_namespace": "pgo-" + namespace,
           "carto_postgres_operator_timeout": 60,
           # The test plays the operator and writes its Secrets at once: poll every second, not every 5.
           "carto_postgres_operator_poll_interval": 1}
    out.update(extra)
    return out


def _cleanup(local_cluster, *namespaces):
    for ns in namespaces:
        for release in ("carto", "pgo"):
            local_cluster.helm("uninstall", release, "-n", ns, check=False)
        local_cluster.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def test_install_wires_carto_to_a_pgo_postgrescluster(local_cluster, base_vars, namespace):
    pgo_ns = "pgo-" + namespace
    extra = dict(base_vars, **_pgo_vars(namespace, carto_postgres_operator_instances=3,
                                        carto_postgres_operator_storage_size="20Gi",
                                        carto_postgres_operator_storage_class="fast-ssd",
                                        carto_postgres_operator_pgbackrest={"retention_full": 7}))
    try:
        with FakePGO(local_cluster, namespace) as pgo:
            installed = local_cluster.run_playbook("playbooks/install.yml", extra)
        assert installed.rc == 0, str(installed)

        # PGO: its own namespace, pinned release with the RBAC / namespace-mode values, CRD established.
        release = json.loads(local_cluster.helm("get", "values", "pgo", "-n", pgo_ns, "-o", "json").stdout)
        assert release == {"singleNamespace": False, "rbac": {"create": True}, "serviceAccount": {"create": True}}
        crd = local_cluster.get_json("crd", CRD)
        assert {"type": "Established", "status": "True"}.items() <= {
            k: v for c in crd["status"]["conditions"] if c["type"] == "Established" for k, v in c.items()}.items()
        assert local_cluster.get_json("clusterrole", "pgo-pgo") is not None

        # The PostgresCluster: version, instances, storage, pgBackRest, superuser + CARTO user and database.
        spec = local_cluster.get_json("postgrescluster", "carto-postgres", "-n", namespace)["spec"]
        assert spec["postgresVersion"] == 16
        assert spec["instances"][0]["replicas"] == 3
        assert spec["instances"][0]["dataVolumeClaimSpec"] == {
            "accessModes": ["ReadWriteOnce"], "storageClassName": "fast-ssd", "resources": {"requests": {"storage": "20Gi"}}}
        repo = spec["backups"]["pgbackrest"]
        assert repo["global"] == {"repo1-retention-full": "7", "repo1-retention-full-type": "time"}
        assert repo["repos"][0]["name"] == "repo1"
        assert repo["repos"][0]["schedules"] == {"full": "0 1 * * 0", "differential": "0 1 * * 1-6"}
        assert repo["repos"][0]["volume"]["volumeClaimSpec"]["resources"]["requests"]["storage"] == "10Gi"
        assert spec["users"] == [{"name": "postgres"}, {"name": "carto", "databases": ["workspace"]}]

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


def test_single_namespace_mode_and_own_service_account(local_cluster, namespace):
    """PGO watches only its namespace: the PostgresCluster lives there, the combined Secret in CARTO's."""
    pgo_ns = "pgo-" + namespace
    local_cluster.kubectl("create", "namespace", pgo_ns)
    local_cluster.kubectl("create", "serviceaccount", "my-pgo", "-n", pgo_ns)
    extra = _pgo_vars(namespace, carto_namespace=namespace, carto_postgres_operator_single_namespace=True,
                      carto_postgres_operator_cluster_namespace=pgo_ns,
                      carto_postgres_operator_service_account_create=False,
                      carto_postgres_operator_service_account_name="my-pgo",
                      carto_postgres_operator_user="carto-app", carto_postgres_operator_instances=1)
    try:
        with FakePGO(local_cluster, pgo_ns) as pgo:
            result = local_cluster.run_playbook("playbooks/postgres_operator.yml", extra)
        assert result.rc == 0, str(result)
        assert local_cluster.get_json("role", "pgo-pgo", "-n", pgo_ns) is not None
        assert local_cluster.get_json("serviceaccount", "pgo", "-n", pgo_ns) is None
        deployment = local_cluster.get_json("deployment", "pgo", "-n", pgo_ns)
        assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "my-pgo"
        assert pgo.seen == ["carto-postgres"]
        assert _secret(local_cluster, namespace, "carto-postgres-operator") == {
            "user-password": pgo.passwords["carto-app"], "admin-password": pgo.passwords["postgres"]}
    finally:
        _cleanup(local_cluster, namespace, pgo_ns)


def test_bad_settings_stop_before_any_change(local_cluster, namespace):
    extra = _pgo_vars(namespace, carto_namespace=namespace, carto_postgres_operator_service_account_create=False,
                      carto_postgres_operator_user="workspace_admin", carto_postgres_operator_single_namespace=True)
    result = local_cluster.run_playbook("playbooks/postgres_operator.yml", extra)
    assert result.rc != 0, str(result)
    for expected in ("postgres_operator_service_account_name: is empty",
                     "Fix: set carto_postgres_operator_service_account_name",
                     "postgres_operator_user: workspace_admin is not a DNS label",
                     "postgres_operator_cluster_namespace: %s differs from the PGO namespace" % namespace):
        assert expected in result.output, str(result)
    assert local_cluster.kubectl("get", "namespace", "pgo-" + namespace, check=False).returncode != 0


def test_operator_failure_shows_its_logs_and_events(local_cluster, namespace):
    pgo_ns = "pgo-" + namespace
    extra = _pgo_vars(namespace, carto_namespace=namespace, carto_postgres_operator_timeout=10,
                      carto_postgres_operator_chart_values={"testUnschedulable": True})
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
