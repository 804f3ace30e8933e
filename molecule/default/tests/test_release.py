"""Verify the converged CARTO release on the local control plane (molecule verify, testinfra).

Checks the Helm release status through the helm CLI on the host, and the objects through
the Kubernetes API: Deployments Available, Secrets with the right keys and values, the
customization file applied, and no secret value written into customizations.yaml.
"""

import base64
import json
import os
import pathlib

import pytest
from kubernetes import client, config

REPO = pathlib.Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", pathlib.Path(__file__).resolve().parents[3]))
EPHEMERAL = pathlib.Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))
KUBECONFIG = os.environ.get("CARTO_LOCAL_KUBECONFIG") or str(REPO / ".cache" / "localcluster" / "kubeconfig")
NAMESPACE = "carto-molecule"
RELEASE = "carto"
HELM = os.environ.get("CARTO_HELM", "helm")


@pytest.fixture(scope="module")
def api():
    return config.new_client_from_config(config_file=KUBECONFIG)


def _generated(name):
    """A password the scenario generated with the ansible.builtin.password lookup."""
    return (EPHEMERAL / name).read_text().split()[0]


def _secret(api, name):
    secret = client.CoreV1Api(api).read_namespaced_secret(name, NAMESPACE)
    return secret, {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}


def test_release_is_deployed(host):
    status = json.loads(host.check_output("%s status %s -n %s --kubeconfig %s -o json", HELM, RELEASE, NAMESPACE,
                                          KUBECONFIG))
    assert status["info"]["status"] == "deployed"
    assert status["namespace"] == NAMESPACE


def test_every_deployment_is_available(api):
    deployments = client.AppsV1Api(api).list_namespaced_deployment(
        NAMESPACE, label_selector="app.kubernetes.io/instance=%s" % RELEASE).items
    names = {d.metadata.name for d in deployments}
    assert {"carto-router", "carto-workspace-api", "carto-maps-api", "carto-import-api"} <= names
    for deployment in deployments:
        wanted = deployment.spec.replicas
        assert deployment.status.available_replicas == wanted, deployment.metadata.name
        assert deployment.status.updated_replicas == wanted, deployment.metadata.name
        conditions = {c.type: c.status for c in deployment.status.conditions or []}
        assert conditions.get("Available") == "True", deployment.metadata.name


def test_customization_file_is_applied(api):
    """tests/fixtures/customizations/scale-components.yaml: mapsApi, workspaceApi, router at one replica."""
    apps = client.AppsV1Api(api)
    for name in ("carto-maps-api", "carto-workspace-api", "carto-router"):
        assert apps.read_namespaced_deployment(name, NAMESPACE).spec.replicas == 1, name


def test_workspace_api_has_migrations_init_container(api):
    deployment = client.AppsV1Api(api).read_namespaced_deployment("carto-workspace-api", NAMESPACE)
    assert "workspace-migrations" in [c.name for c in deployment.spec.template.spec.init_containers or []]


def test_postgres_secret_has_both_passwords(api):
    secret, data = _secret(api, "carto-postgresql")
    assert set(data) == {"user-password", "admin-password"}
    assert data["user-password"] == _generated("pg-user-password")
    assert data["admin-password"] == _generated("pg-admin-password")
    assert secret.metadata.labels["app.kubernetes.io/managed-by"] == "carto.selfhosted"


def test_redis_secret_has_password(api):
    _secret_obj, data = _secret(api, "carto-redis")
    assert data == {"password": _generated("redis-password")}


def test_tls_secret_holds_the_chain_leaf_first(api):
    secret, data = _secret(api, "carto-molecule-tls")
    assert secret.type == "kubernetes.io/tls"
    assert set(data) == {"tls.crt", "tls.key"}
    leaf = (EPHEMERAL / "pki" / "leaf.crt").read_text().strip()
    assert data["tls.crt"].strip().startswith(leaf)
    assert data["tls.crt"].count("BEGIN CERTIFICATE") == 2


def test_values_reference_the_secrets(api):
    """The chart got externalPostgresql.existingSecret and the workspace API reads the password from it."""
    deployment = client.AppsV1Api(api).read_namespaced_deployment("carto-workspace-api", NAMESPACE)
    spec = deployment.spec.template.spec
    refs = {(e.value_from.secret_key_ref.name, e.value_from.secret_key_ref.key)
            for c in (spec.containers or []) + (spec.init_containers or [])
            for e in c.env or [] if e.value_from and e.value_from.secret_key_ref}
    assert ("carto-postgresql", "user-password") in refs
    assert ("carto-postgresql", "admin-password") in refs
    assert ("carto-redis", "password") in refs


def test_customizations_file_has_no_secret_value():
    text = (REPO / ".cache" / "output" / "customizations.yaml").read_text()
    assert "existingSecret: carto-postgresql" in text
    for name in ("pg-user-password", "pg-admin-password", "redis-password"):
        assert _generated(name) not in text
