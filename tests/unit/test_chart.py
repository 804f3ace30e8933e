"""Tests of the offline test double of CARTO's chart (tests/charts/carto).

The chart is rendered with the real ``helm`` binary (``$CARTO_HELM`` or the
copy the collection downloads to ~/.cache/carto-selfhosted), together with a
fake installation package written by tests/tools/make_package.py. The tests
are skipped only when no helm binary is available.
"""

import base64
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHART = ROOT / "tests" / "charts" / "carto"
FIXTURES = ROOT / "tests" / "fixtures" / "customizations"
SHARED = pathlib.Path(os.environ.get("CARTO_SHARED_DIR") or str(ROOT.parent / "shared"))  # beside the checkout
REAL_CHART = SHARED / "carto-chart"
EXAMPLES_DIR = REAL_CHART / "customizations-examples"
DEFAULT_HELM = pathlib.Path("/root/.cache/carto-selfhosted/helm-v3.18.0/helm")
DOMAIN = "carto.example.test"

sys.path.insert(0, str(ROOT / "tests" / "tools"))
import carto_chart  # noqa: E402  pylint: disable=wrong-import-position
import make_package  # noqa: E402  pylint: disable=wrong-import-position

# Deployments of CARTO's components (release "carto"), as listed by the CARTO
# install guide's "kubectl get pods" output. The default install adds the
# internal Valkey (VALKEY), which 1.287.1 runs as a Deployment.
VALKEY = "carto-valkey"
DEFAULT_DEPLOYMENTS = {
    "carto-accounts-www",
    "carto-cdn-invalidator-sub",
    "carto-http-cache",
    "carto-import-api",
    "carto-import-worker",
    "carto-lds-api",
    "carto-maps-api",
    "carto-notifier",
    "carto-router",
    "carto-sql-worker",
    "carto-workspace-api",
    "carto-workspace-subscriber",
    "carto-workspace-www",
}

# values key -> component name
COMPONENTS = {
    "accountsWww": "accounts-www",
    "cdnInvalidatorSub": "cdn-invalidator-sub",
    "httpCache": "http-cache",
    "importApi": "import-api",
    "importWorker": "import-worker",
    "ldsApi": "lds-api",
    "mapsApi": "maps-api",
    "notifier": "notifier",
    "router": "router",
    "sqlWorker": "sql-worker",
    "workspaceApi": "workspace-api",
    "workspaceSubscriber": "workspace-subscriber",
    "workspaceWww": "workspace-www",
}


def _examples():
    return carto_chart.example_files()


@pytest.fixture(scope="session")
def helm():
    candidate = os.environ.get("CARTO_HELM") or str(DEFAULT_HELM)
    if not (os.path.isfile(candidate) and os.access(candidate, os.X_OK)):
        pytest.skip("helm binary not found (set CARTO_HELM): {}".format(candidate))
    return candidate


@pytest.fixture(scope="session")
def package(tmp_path_factory):
    dest = tmp_path_factory.mktemp("package")
    values, secrets = make_package.make_package(dest, customer_id="unittest")
    return [str(values), str(secrets)]


@pytest.fixture(scope="session")
def real_values():
    path = REAL_CHART / "values.yaml"
    if not path.is_file():
        pytest.skip("real chart values not available: {}".format(path))
    with open(path) as handle:
        return yaml.safe_load(handle)


class Render:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.docs = []
        if self.rc == 0:
            self.docs = [d for d in yaml.safe_load_all(proc.stdout) if d]

    def objects(self, kind):
        return {d["metadata"]["name"]: d for d in self.docs if d["kind"] == kind}

    def get(self, kind, name):
        objs = self.objects(kind)
        assert name in objs, "{} {} not rendered; have {}".format(kind, name, sorted(objs))
        return objs[name]


def _run(helm, args):
    return subprocess.run([helm] + args, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="session")
def render(helm, package):
    def _render(*extra, values_files=(), with_package=True, domain=DOMAIN, release="carto", kube_version=None):
        args = ["template", release, str(CHART), "--namespace", "carto"]
        if with_package:
            for path in package:
                args += ["-f", path]
        if domain is not None:
            args += ["--set-string", "appConfigValues.selfHostedDomain=" + domain]
        for path in values_files:
            args += ["-f", str(path)]
        if kube_version:
            args += ["--kube-version", kube_version]
        args += list(extra)
        return Render(_run(helm, args))

    return _render


def _ok(result):
    assert result.rc == 0, result.stderr
    return result


def _fails(result, *messages):
    assert result.rc != 0, "render unexpectedly succeeded"
    for message in messages:
        assert message in result.stderr, result.stderr
    return result


def _pod(deployment):
    return deployment["spec"]["template"]["spec"]


def _container(deployment, name, init=False):
    spec = _pod(deployment)
    containers = spec.get("initContainers" if init else "containers") or []
    for container in containers:
        if container["name"] == name:
            return container
    raise AssertionError("container {} not in {}".format(name, [c["name"] for c in containers]))


def _env(container):
    return {e["name"]: e for e in container.get("env", [])}


def _secret_ref(env_entry):
    ref = env_entry["valueFrom"]["secretKeyRef"]
    return ref["name"], ref["key"]


# --------------------------------------------------------------------------- chart metadata


def test_chart_metadata_is_a_test_double_of_the_real_chart():
    with open(CHART / "Chart.yaml") as handle:
        chart = yaml.safe_load(handle)
    assert chart["name"] == "carto"
    assert chart["version"] == "1.287.1-test"
    assert "dependencies" not in chart
    real = REAL_CHART / "Chart.yaml"
    if real.is_file():
        with open(real) as handle:
            assert chart["appVersion"] == yaml.safe_load(handle)["appVersion"]


def test_values_keep_the_real_key_space(real_values):
    with open(CHART / "values.yaml") as handle:
        ours = yaml.safe_load(handle)

    def paths(tree, prefix=""):
        for key, value in tree.items():
            yield prefix + key
            if isinstance(value, dict):
                yield from paths(value, prefix + key + ".")

    missing = set(paths(real_values)) - set(paths(ours))
    # the bitnami initdb hack only exists for the (absent) postgresql subchart
    missing = {p for p in missing if not p.startswith("internalPostgresql.primary")}
    assert not missing, sorted(missing)[:20]


# --------------------------------------------------------------------------- default render


def test_default_render_deployments(render, real_values):
    result = _ok(render())
    deployments = result.objects("Deployment")
    assert set(deployments) == DEFAULT_DEPLOYMENTS | {VALKEY}
    app_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    for key, name in COMPONENTS.items():
        dep = deployments["carto-" + name]
        image = real_values[key]["image"]
        main = _container(dep, "router-http" if name == "router" else name)
        assert main["image"] == "{}/{}:{}".format(image["registry"], image["repository"], app_version)
        assert dep["spec"]["replicas"] == real_values[key]["replicaCount"]
        assert main["resources"] == real_values[key]["resources"]
        labels = dep["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/component"] == name
        assert labels["app.kubernetes.io/instance"] == "carto"
    assert deployments["carto-maps-api"]["spec"]["replicas"] == 2
    assert deployments["carto-workspace-api"]["spec"]["replicas"] == 2


def test_workspace_api_runs_workspace_migrations_init_container(render, real_values):
    dep = _ok(render()).get("Deployment", "carto-workspace-api")
    init_names = [c["name"] for c in _pod(dep)["initContainers"]]
    assert "workspace-migrations" in init_names
    migrations = _container(dep, "workspace-migrations", init=True)
    assert migrations["image"].split(":")[0].endswith("/" + real_values["workspaceMigrations"]["image"]["repository"])
    env = _env(migrations)
    assert _secret_ref(env["POSTGRES_PASSWORD"]) == ("carto-postgresql", "postgres-password")
    assert _secret_ref(env["WORKSPACE_POSTGRES_PASSWORD"]) == ("carto-postgresql", "password")


def test_router_pod_service_and_internal_databases(render):
    result = _ok(render())
    router = result.get("Deployment", "carto-router")
    assert [c["name"] for c in _pod(router)["containers"]] == ["router-http", "router-metrics"]
    ports = {p["name"]: p["containerPort"] for p in _container(router, "router-http")["ports"]}
    assert ports == {"http": 8080, "https": 8443}
    svc = result.get("Service", "carto-router")
    assert svc["spec"]["type"] == "ClusterIP"
    assert {p["name"]: (p["port"], p["targetPort"]) for p in svc["spec"]["ports"]} == {
        "http": (80, "http"),
        "https": (443, "https"),
    }
    assert set(result.objects("StatefulSet")) == {"carto-postgresql"}
    assert VALKEY in result.objects("Deployment")
    assert {"carto-postgresql", VALKEY} <= set(result.objects("Service"))
    pg_secret = result.get("Secret", "carto-postgresql")
    assert set(pg_secret["data"]) == {"password", "postgres-password"}
    assert "redis-password" in result.get("Secret", VALKEY)["data"]
    cm = result.get("ConfigMap", "carto-workspace-api")["data"]
    assert cm["WORKSPACE_POSTGRES_HOST"] == "carto-postgresql"
    assert cm["REDIS_HOST"] == VALKEY
    assert cm["CARTO_SELFHOSTED_DOMAIN"] == DOMAIN
    tls = result.get("Secret", "carto-tls")
    assert tls["type"] == "kubernetes.io/tls"
    assert base64.b64decode(tls["data"]["tls.crt"]).startswith(b"-----BEGIN CERTIFICATE-----")


def test_names_follow_the_release_name(render):
    result = _ok(render(release="mycarto"))
    assert "mycarto-workspace-api" in result.objects("Deployment")
    assert "mycarto-router" in result.objects("Service")
    assert "mycarto-valkey" in result.objects("Deployment")


def test_package_values_reach_the_pods(render, package):
    with open(package[0]) as handle:
        tenant = yaml.safe_load(handle)["cartoConfigValues"]["selfHostedTenantId"]
    with open(package[1]) as handle:
        encryption = yaml.safe_load(handle)["cartoSecrets"]["encryptionSecretKey"]["value"]
    result = _ok(render())
    assert result.get("ConfigMap", "carto-workspace-api")["data"]["SELFHOSTED_TENANT_ID"] == tenant
    data = result.get("Secret", "carto-workspace-api")["data"]
    assert base64.b64decode(data["ENCRYPTION_SECRET_KEY"]).decode() == encryption


# --------------------------------------------------------------------------- CARTO's examples


def _check_example(result, example, real_values):
    deployments = result.objects("Deployment")
    hpas = result.objects("HorizontalPodAutoscaler")
    pdbs = result.objects("PodDisruptionBudget")
    for key, settings in example.items():
        if key not in COMPONENTS or not isinstance(settings, dict):
            continue
        name = "carto-" + COMPONENTS[key]
        dep = deployments[name]
        autoscaling = dict(real_values[key].get("autoscaling") or {}, **(settings.get("autoscaling") or {}))
        if autoscaling.get("enabled"):
            hpa = hpas[name]
            assert hpa["apiVersion"] == "autoscaling/v2"
            assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
            assert hpa["spec"]["minReplicas"] == autoscaling["minReplicas"]
            assert hpa["spec"]["maxReplicas"] == autoscaling["maxReplicas"]
        else:
            assert name not in hpas
            if "replicaCount" in settings:
                assert dep["spec"]["replicas"] == settings["replicaCount"]
        if "affinity" in settings:
            assert _pod(dep)["affinity"] == settings["affinity"]
        if "podDisruptionBudget" in settings:
            pdb_settings = settings["podDisruptionBudget"]
            if pdb_settings.get("enabled"):
                pdb = pdbs[name + "-pdb"]  # the real chart's PodDisruptionBudget names
                for field in ("maxUnavailable", "minAvailable"):
                    if field in pdb_settings:
                        assert pdb["spec"][field] == pdb_settings[field]
            else:
                assert name + "-pdb" not in pdbs
    service = (example.get("router") or {}).get("service") or {}
    router_svc = result.get("Service", "carto-router")
    if "type" in service:
        assert router_svc["spec"]["type"] == service["type"]
    for ann, value in (service.get("annotations") or {}).items():
        assert router_svc["metadata"]["annotations"][ann] == value
    ingress = (example.get("router") or {}).get("ingress") or {}
    if ingress.get("enabled"):
        ing = result.get("Ingress", "carto-router")
        assert ing["spec"]["rules"][0]["host"] == DOMAIN
        for ann, value in (ingress.get("annotations") or {}).items():
            assert ing["metadata"]["annotations"][ann] == value
        backend = ing["spec"]["rules"][0]["http"]["paths"][-1]["backend"]["service"]
        assert backend["name"] == "carto-router"
        https = (example.get("tlsCerts") or {}).get("httpsEnabled", True)
        assert backend["port"]["name"] == ("https" if https else "http")
        if ingress.get("tls"):
            assert ing["spec"]["tls"][0]["secretName"] == example["tlsCerts"]["existingSecret"]["name"]
    else:
        assert "carto-router" not in result.objects("Ingress")
    if example.get("extraDeploy"):
        extra = [d for d in result.docs if d["kind"] in {"BackendConfig", "FrontendConfig", "ManagedCertificate"}]
        assert extra, "extraDeploy objects not rendered"
        for doc in extra:
            assert doc["metadata"]["namespace"] == "carto"
            assert doc["metadata"]["labels"]["app.kubernetes.io/instance"] == "carto"
        for doc in extra:
            if doc["kind"] == "ManagedCertificate":
                assert doc["spec"]["domains"] == [DOMAIN]


@pytest.mark.parametrize("example", _examples())
def test_customization_example_renders_and_lints(helm, package, render, real_values, example):
    path = EXAMPLES_DIR / example
    result = _ok(render(values_files=[path]))
    with open(path) as handle:
        _check_example(result, yaml.safe_load(handle) or {}, real_values)
    lint = ["lint", str(CHART), "--set-string", "appConfigValues.selfHostedDomain=" + DOMAIN]
    for values_file in package + [str(path)]:
        lint += ["-f", values_file]
    proc = _run(helm, lint)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_all_customization_examples_together(render):
    examples = _examples()
    if not examples:
        pytest.skip("CARTO customization examples not available")
    # every example except the ingress ones (which disable the router's HTTPS)
    files = [EXAMPLES_DIR / e for e in examples if not e.startswith("ingress/")]
    result = _ok(render(values_files=files))
    # no example turns the internal databases off
    assert set(result.objects("Deployment")) == DEFAULT_DEPLOYMENTS | {VALKEY}


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.yaml")))
def test_fixture_customizations_render(render, fixture):
    result = _ok(render(values_files=[FIXTURES / fixture]))
    with open(FIXTURES / fixture) as handle:
        internal_redis = ((yaml.safe_load(handle) or {}).get("internalRedis") or {}).get("enabled", True)
    assert set(result.objects("Deployment")) == DEFAULT_DEPLOYMENTS | ({VALKEY} if internal_redis else set())


# --------------------------------------------------------------------------- existingSecret wiring


def test_existing_secret_references_in_workspace_api_env(render):
    result = _ok(
        render(
            "--set-string",
            "appSecrets.googleMapsApiKey.existingSecret.name=mycarto-google-maps-api-key",
            "--set-string",
            "appSecrets.googleMapsApiKey.existingSecret.key=googleMapsApiKey",
            values_files=[FIXTURES / "external-db-existing-secrets.yaml"],
        )
    )
    dep = result.get("Deployment", "carto-workspace-api")
    env = _env(_container(dep, "workspace-api"))
    assert _secret_ref(env["WORKSPACE_POSTGRES_PASSWORD"]) == ("carto-postgresql", "user-password")
    assert _secret_ref(env["REDIS_PASSWORD"]) == ("mycarto-custom-redis-secret", "password")
    assert _secret_ref(env["REACT_APP_GOOGLE_MAPS_API_KEY"]) == ("mycarto-google-maps-api-key", "googleMapsApiKey")
    migrations = _env(_container(dep, "workspace-migrations", init=True))
    assert _secret_ref(migrations["POSTGRES_PASSWORD"]) == ("carto-postgresql", "admin-password")
    assert _secret_ref(migrations["WORKSPACE_POSTGRES_PASSWORD"]) == ("carto-postgresql", "user-password")
    assert migrations["POSTGRES_ADMIN_USER"]["value"] == "postgres"
    # the chart creates no password Secret of its own, and no internal databases
    secrets = result.objects("Secret")
    assert "carto-externalpostgresql" not in secrets
    assert "carto-externalredis" not in secrets
    assert "carto-postgresql" not in secrets
    assert not result.objects("StatefulSet")
    assert "REACT_APP_GOOGLE_MAPS_API_KEY" not in secrets["carto-workspace-api"]["data"]
    cm = result.get("ConfigMap", "carto-workspace-api")["data"]
    assert cm["WORKSPACE_POSTGRES_HOST"] == "postgres.carto-test.invalid"
    assert cm["WORKSPACE_POSTGRES_USER"] == "carto_workspace_admin"
    assert cm["WORKSPACE_POSTGRES_DB"] == "carto_workspace"
    assert cm["REDIS_HOST"] == "redis.carto-test.invalid"
    assert cm["REDIS_TLS_ENABLED"] == "true"
    # every backend that talks to PostgreSQL uses the same existing Secret
    for name in ("carto-maps-api", "carto-import-worker", "carto-workspace-subscriber"):
        main = _env(_container(result.get("Deployment", name), name[len("carto-"):]))
        assert _secret_ref(main["WORKSPACE_POSTGRES_PASSWORD"]) == ("carto-postgresql", "user-password")


def test_chart_creates_password_secrets_without_existing_secret(render):
    result = _ok(render(values_files=[FIXTURES / "external-db-chart-secrets.yaml"]))
    pg = result.get("Secret", "carto-externalpostgresql")["data"]
    assert base64.b64decode(pg["db-password"]).decode() == "not-a-real-password"
    assert base64.b64decode(pg["db-admin-password"]).decode() == "not-a-real-admin-password"
    redis = result.get("Secret", "carto-externalredis")["data"]
    assert base64.b64decode(redis["redis-password"]).decode() == "not-a-real-redis-password"
    dep = result.get("Deployment", "carto-workspace-api")
    env = _env(_container(dep, "workspace-api"))
    assert _secret_ref(env["WORKSPACE_POSTGRES_PASSWORD"]) == ("carto-externalpostgresql", "db-password")
    assert _secret_ref(env["REDIS_PASSWORD"]) == ("carto-externalredis", "redis-password")
    migrations = _env(_container(dep, "workspace-migrations", init=True))
    assert _secret_ref(migrations["POSTGRES_PASSWORD"]) == ("carto-externalpostgresql", "db-admin-password")
    ca = result.get("ConfigMap", "carto-externalpostgresql")["data"]["ca.crt"]
    assert "BEGIN CERTIFICATE" in ca
    volumes = {v["name"]: v for v in _pod(dep)["volumes"]}
    assert volumes["postgresql-ssl-ca"]["configMap"]["name"] == "carto-externalpostgresql"


def test_existing_secrets_of_package_values(render):
    result = _ok(
        render(
            "--set-string",
            "cartoSecrets.defaultGoogleServiceAccount.existingSecret.name=carto-sa",
            "--set-string",
            "cartoSecrets.defaultGoogleServiceAccount.existingSecret.key=sa.json",
            "--set-string",
            "cartoSecrets.encryptionSecretKey.existingSecret.name=carto-enc",
            "--set-string",
            "cartoSecrets.encryptionSecretKey.existingSecret.key=key",
        )
    )
    assert "carto-gcp-default-service-account" not in result.objects("Secret")
    dep = result.get("Deployment", "carto-workspace-api")
    volumes = {v["name"]: v for v in _pod(dep)["volumes"]}
    sa = volumes["gcp-default-service-account-key"]["secret"]
    assert sa["secretName"] == "carto-sa"
    assert sa["items"] == [{"key": "sa.json", "path": "key.json"}]
    env = _env(_container(dep, "workspace-api"))
    assert _secret_ref(env["ENCRYPTION_SECRET_KEY"]) == ("carto-enc", "key")
    assert "ENCRYPTION_SECRET_KEY" not in result.get("Secret", "carto-workspace-api")["data"]


def test_custom_tls_secret_is_mounted_in_the_router(render):
    result = _ok(render(values_files=[FIXTURES / "custom-tls-loadbalancer.yaml"]))
    assert "carto-tls" not in result.objects("Secret")
    router = result.get("Deployment", "carto-router")
    volumes = {v["name"]: v for v in _pod(router)["volumes"]}
    assert volumes["router-tls"]["secret"]["secretName"] == "mycarto-custom-tls-certificate"
    svc = result.get("Service", "carto-router")["spec"]
    assert svc["type"] == "LoadBalancer"
    assert svc["loadBalancerIP"] == "203.0.113.10"
    assert svc["loadBalancerSourceRanges"] == ["198.51.100.0/24"]


# --------------------------------------------------------------------------- failing renders


def test_missing_package_fails(render):
    result = _fails(
        render(with_package=False),
        "Missing CARTO installation package values",
        "cartoConfigValues.selfHostedTenantId",
        "cartoSecrets.defaultGoogleServiceAccount",
    )
    assert "carto-values.yaml" in result.stderr


def test_missing_secrets_file_fails(helm, package, render):
    proc = _run(
        helm,
        ["template", "carto", str(CHART), "-f", package[0], "--set-string", "appConfigValues.selfHostedDomain=" + DOMAIN],
    )
    assert proc.returncode != 0
    assert "cartoSecrets.encryptionSecretKey" in proc.stderr
    assert "cartoConfigValues.selfHostedTenantId" not in proc.stderr


def test_missing_domain_fails(render):
    _fails(render(domain=""), "Missing selfHostedDomain", "appConfigValues.selfHostedDomain")


@pytest.mark.parametrize("host", ["", "localhost"])
def test_external_postgres_without_host_fails(render, host):
    _fails(
        render("--set", "internalPostgresql.enabled=false", "--set-string", "externalPostgresql.host=" + host),
        "Missing PostgreSQL",
        "externalPostgresql.host",
    )


def test_external_postgres_default_host_fails(render):
    _fails(render("--set", "internalPostgresql.enabled=false"), "Missing PostgreSQL")


def test_external_redis_without_host_fails(render):
    _fails(
        render("--set", "internalRedis.enabled=false", "--set-string", "externalRedis.host="),
        "Missing Redis",
        "externalRedis.host",
    )


def test_invalid_log_level_fails(render):
    _fails(render("--set-string", "appConfigValues.logLevel=verbose"), "Invalid logLevel")


def test_https_without_certificate_fails(render):
    _fails(render("--set", "tlsCerts.autoGenerate=false"), "Missing TLS certificate")


@pytest.mark.parametrize("version", ["1.27.4", "1.28.0", "v1.28.15-gke.100"])
def test_kubernetes_older_than_1_29_fails(render, version):
    _fails(render(kube_version=version), "Unsupported Kubernetes version", ">= 1.29")


@pytest.mark.parametrize("version", ["1.29.0", "1.30.2", "1.33.0"])
def test_kubernetes_1_29_and_later_renders(render, version):
    _ok(render(kube_version=version))


# --------------------------------------------------------------------------- scaling / exposure


def test_hpa_rendered_when_autoscaling_enabled(render):
    result = _ok(
        render(
            "--set",
            "workspaceApi.autoscaling.enabled=true",
            "--set",
            "workspaceApi.autoscaling.minReplicas=3",
            "--set",
            "workspaceApi.autoscaling.maxReplicas=5",
        )
    )
    hpas = result.objects("HorizontalPodAutoscaler")
    assert set(hpas) == {"carto-workspace-api"}
    hpa = hpas["carto-workspace-api"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["minReplicas"] == 3
    assert hpa["spec"]["maxReplicas"] == 5
    assert hpa["spec"]["metrics"] == [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 75}}}
    ]
    assert result.get("Deployment", "carto-workspace-api")["spec"]["replicas"] == 3


def test_no_hpa_by_default(render):
    assert not _ok(render()).objects("HorizontalPodAutoscaler")


def test_router_service_load_balancer(render):
    result = _ok(
        render(
            "--set",
            "router.service.type=LoadBalancer",
            "--set-string",
            "router.service.annotations.service\\.beta\\.kubernetes\\.io/aws-load-balancer-connection-idle-timeout=605",
        )
    )
    svc = result.get("Service", "carto-router")
    assert svc["spec"]["type"] == "LoadBalancer"
    assert svc["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout"] == "605"
    assert sorted(p["port"] for p in svc["spec"]["ports"]) == [80, 443]


def test_pod_labels_annotations_and_common_metadata(render):
    result = _ok(
        render(
            "--set-string",
            "commonLabels.team=gis",
            "--set-string",
            "commonAnnotations.owner=platform",
            "--set-string",
            "mapsApi.podLabels.tier=api",
            "--set-string",
            "mapsApi.podAnnotations.prometheus\\.io/scrape=true",
        )
    )
    dep = result.get("Deployment", "carto-maps-api")
    assert dep["metadata"]["labels"]["team"] == "gis"
    assert dep["metadata"]["annotations"]["owner"] == "platform"
    template = dep["spec"]["template"]["metadata"]
    assert template["labels"]["tier"] == "api"
    assert template["labels"]["team"] == "gis"
    assert template["annotations"]["prometheus.io/scrape"] == "true"
    assert result.get("Service", "carto-router")["metadata"]["labels"]["team"] == "gis"


def test_only_run_router(render):
    result = _ok(render("--set", "cartoConfigValues.onlyRunRouter=true"))
    # onlyRunRouter stops CARTO's components, not the internal databases
    assert set(result.objects("Deployment")) == {"carto-router", VALKEY}


def test_http_cache_can_be_disabled(render):
    result = _ok(render("--set", "appConfigValues.httpCacheEnabled=false"))
    assert set(result.objects("Deployment")) == (DEFAULT_DEPLOYMENTS | {VALKEY}) - {"carto-http-cache"}


# --------------------------------------------------------------------------- make_package.py


def test_make_package_writes_fresh_fake_secrets(tmp_path):
    first = make_package.make_package(tmp_path / "a", customer_id="acme")
    second = make_package.make_package(tmp_path / "b", customer_id="acme")
    values = yaml.safe_load(first[0].read_text())
    assert values["cartoConfigValues"]["selfHostedTenantId"] == "onp-acme"
    secrets_a = yaml.safe_load(first[1].read_text())["cartoSecrets"]
    secrets_b = yaml.safe_load(second[1].read_text())["cartoSecrets"]
    assert secrets_a["encryptionSecretKey"]["value"] != secrets_b["encryptionSecretKey"]["value"]
    assert oct(first[1].stat().st_mode & 0o777) == "0o600"
    for path in first:
        assert "PRIVATE KEY" not in path.read_text()


def test_make_package_cli(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "tools" / "make_package.py"), "--dest", str(tmp_path), "--customer-id", "x1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "carto-values.yaml").is_file()
    assert (tmp_path / "carto-secrets.yaml").is_file()
    bad = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "tools" / "make_package.py"), "--dest", str(tmp_path), "--customer-id", "Bad Id"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode != 0
