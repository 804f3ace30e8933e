"""plugins/module_utils/_customizations/: structured carto_* variables -> customizations.yaml values."""

import glob
import os

import pytest
import yaml

from ansible_collections.carto.selfhosted.plugins.module_utils._values import problems as values_problems
from ansible_collections.carto.selfhosted.plugins.module_utils._values import validate as values_validate
from ansible_collections.carto.selfhosted.plugins.module_utils._customizations import build as cust_build
from ansible_collections.carto.selfhosted.plugins.module_utils._customizations import common as cust_common

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".."))
BAD_STRUCTURED = sorted(glob.glob(os.path.join(ROOT, "tests", "fixtures", "bad_structured", "*.yml")))
PG = {"host": "db.example.internal", "user": "workspace_admin", "admin_user": "postgres", "database": "workspace",
      "password": "pw-user", "admin_password": "pw-admin"}
SECRET_TEXTS = ("pw-user", "pw-admin", "pw-redis", "AKIAFAKE", "fake-secret", "gmaps-key", "oauth-secret", "sa-json")


def _build(**spec):
    spec.setdefault("domain", "carto.example.com")
    return cust_build.build(spec)


def _validate(values, existing=None):
    """The produced document alone must pass carto_values' schema and rules."""
    return values_validate.validate_sources([{"name": "customizations.yaml", "content": values}], existing_secrets=existing,
                                            warn_inline_secrets=True)


def test_minimal_spec_is_domain_and_self_signed_tls():
    out = _build(tls={"mode": "self_signed"})
    assert out["problems"] == []
    assert out["values"] == {"appConfigValues": {"selfHostedDomain": "carto.example.com"},
                             "router": {"service": {"type": "ClusterIP"}},
                             "tlsCerts": {"httpsEnabled": True, "autoGenerate": True}}
    assert out["secrets"] == {} and out["external_tls_termination"] is False


@pytest.mark.parametrize("cloud,annotations", [
    ("gke", {}),
    ("aws_eks", {cust_common.AWS_TIMEOUT: "605"}),
    ("azure_aks", {cust_common.AZURE_TIMEOUT: "11"}),
])
def test_loadbalancer_cloud_presets(cloud, annotations):
    out = _build(router_service={"cloud": cloud})
    service = out["values"]["router"]["service"]
    assert service["type"] == "LoadBalancer"
    assert service.get("annotations", {}) == annotations
    assert _validate(out["values"])["errors"] == []


def test_connection_timeout_raises_annotations_and_is_checked():
    out = _build(router_service={"cloud": "aws_eks", "connection_timeout": 900, "annotations": {"x": 1}})
    assert out["values"]["router"]["service"]["annotations"] == {cust_common.AWS_TIMEOUT: "900", "x": "1"}
    out = _build(router_service={"cloud": "azure_aks", "connection_timeout": 604})
    assert [p["path"] for p in out["problems"]] == ["connection_timeout"]


def test_aws_tls_offloading():
    arn = "arn:aws:acm:eu-west-1:123456789012:certificate/abc"
    out = _build(router_service={"cloud": "aws_eks_tls_offloading", "aws_certificate_arn": arn},
                 tls={"mode": "disabled"})
    assert out["problems"] == []
    annotations = out["values"]["router"]["service"]["annotations"]
    assert annotations[cust_common.AWS_SSL_CERT] == arn and annotations[cust_common.AWS_TIMEOUT] == "605"
    assert out["values"]["tlsCerts"] == {"httpsEnabled": False}
    assert out["external_tls_termination"] is True
    assert _validate(out["values"])["errors"] == []


def test_gke_ingress_own_certificate():
    out = _build(ingress={"certificate": "own", "static_ip_name": "carto-ip", "ssl_policy": "modern", "neg": True},
                 tls={"mode": "existing_secret", "secret_name": "carto-tls-cert"})
    assert out["problems"] == []
    values = out["values"]
    assert values["router"]["ingress"]["tls"] is True
    assert values["router"]["ingress"]["annotations"]["kubernetes.io/ingress.global-static-ip-name"] == "carto-ip"
    assert values["router"]["service"]["annotations"]["cloud.google.com/neg"] == '{"ingress": true}'
    assert values["tlsCerts"] == {"httpsEnabled": False, "autoGenerate": False, "existingSecret": {
        "name": "carto-tls-cert", "keyKey": "tls.key", "certKey": "tls.crt"}}
    kinds = [yaml.safe_load(o.replace("{{", "#").replace("}}", ""))["kind"] for o in values["extraDeploy"]]
    assert kinds == ["BackendConfig", "FrontendConfig"]
    assert "timeoutSec: 605" in values["extraDeploy"][0] and "sslPolicy: modern" in values["extraDeploy"][1]
    result = _validate(values, existing={"carto-tls-cert": ["tls.crt", "tls.key"]})
    assert result["errors"] == [], values_problems.format_problems(result["errors"])


def test_gke_ingress_google_managed_certificate():
    out = _build(ingress={"certificate": "google_managed", "static_ip_name": "carto-ip"})
    assert out["problems"] == []
    assert "kind: ManagedCertificate" in out["values"]["extraDeploy"][2]
    assert out["values"]["tlsCerts"] == {"httpsEnabled": False}
    assert _validate(out["values"])["errors"] == []


def test_tls_existing_secret_is_planned_only_with_certificate_and_key():
    assert _build(tls={"mode": "existing_secret"})["secrets"] == {}
    out = _build(tls={"mode": "existing_secret", "certificate_file": "a.crt", "private_key_file": "a.key"})
    assert out["secrets"] == {"carto-tls": ["tls.crt", "tls.key"]}


def test_external_postgres_and_redis_reference_secrets_never_values(pki):
    out = _build(external_postgresql=dict(PG, ssl_enabled=True, ssl_ca=pki.pem(pki.std["root"])),
                 external_redis={"host": "redis", "password": "pw-redis", "tls_enabled": True})
    values = out["values"]
    assert values["externalPostgresql"]["existingSecret"] == "carto-postgresql"
    assert values["externalPostgresql"]["port"] == "5432" and values["externalRedis"]["port"] == "6379"
    assert out["secrets"] == {"carto-postgresql": ["user-password", "admin-password"], "carto-redis": ["password"]}
    assert not any(text in yaml.safe_dump(values) for text in SECRET_TEXTS)
    result = _validate(values, existing=out["secrets"])
    assert result["errors"] == [], values_problems.format_problems(result["errors"])


def test_existing_postgres_secret_is_not_planned():
    out = _build(external_postgresql=dict(PG, password=None, admin_password=None, create_secret=False,
                                          secret_name="mine"))
    assert out["secrets"] == {}
    assert out["values"]["externalPostgresql"]["existingSecret"] == "mine"


def test_cloud_sql_proxy():
    pg = dict(PG, cloud_sql_proxy={"connection_name": "proj:europe-west1:carto", "service_account_key": "sa-json"})
    del pg["host"]
    out = _build(external_postgresql=pg)
    assert out["problems"] == []
    assert out["values"]["externalPostgresql"]["host"] == "carto-cloudsql-proxy"
    assert out["values"]["externalPostgresql"]["sslEnabled"] is False
    deployment, service = out["values"]["extraDeploy"]
    assert "-instances=proj:europe-west1:carto=tcp:0.0.0.0:5432" in deployment
    assert "secretName: carto-cloudsql-proxy-sa-key" in deployment and "kind: Service" in service
    assert out["secrets"]["carto-cloudsql-proxy-sa-key"] == ["service_account.json"]
    assert "sa-json" not in yaml.safe_dump(out["values"])


@pytest.mark.parametrize("provider,extra,secret_keys", [
    ("gcp", {"gcp_project_id": "proj", "service_account_key": "sa-json"}, ["key"]),
    ("s3", {"s3_region": "eu-west-1", "access_key_id": "AKIAFAKE", "secret_access_key": "fake-secret"},
     ["awsAccessKeyId", "awsSecretAccessKey"]),
    ("azure-blob", {"azure_storage_account": "cartoacct", "access_key": "fake-secret"}, ["azureStorageAccessKey"]),
])
def test_buckets(provider, extra, secret_keys):
    spec = dict({"provider": provider, "import_bucket": "i", "client_bucket": "c", "thumbnails_bucket": "t",
                 "thumbnails_public": False, "imports_public": False}, **extra)
    out = _build(buckets=spec)
    assert out["problems"] == []
    config = out["values"]["appConfigValues"]
    assert config["storageProvider"] == provider and "importBucket" not in config
    assert config["workspaceImportsBucket"] == "c" and config["workspaceThumbnailsPublic"] is False
    assert out["secrets"] == {"carto-buckets": secret_keys}
    assert not any(text in yaml.safe_dump(out["values"]) for text in SECRET_TEXTS)
    result = _validate(out["values"], existing=out["secrets"])
    assert result["errors"] == [], values_problems.format_problems(result["errors"])


def test_gcp_buckets_without_key_use_the_service_account():
    out = _build(buckets={"provider": "gcp", "client_bucket": "c", "thumbnails_bucket": "t", "gcp_project_id": "p"},
                 service_account={"gcp_service_account_email": "carto@proj.iam.gserviceaccount.com"})
    assert "appSecrets" not in out["values"] and out["secrets"] == {}
    account = out["values"]["commonBackendServiceAccount"]
    assert account["enableGCPWorkloadIdentity"] is True
    assert account["annotations"] == {"iam.gke.io/gcp-service-account": "carto@proj.iam.gserviceaccount.com"}
    assert _validate(out["values"])["errors"] == []


def test_google_maps_bigquery_redshift():
    out = _build(google_maps={"api_key": "gmaps-key"},
                 bigquery_oauth={"client_id": "cid.apps.googleusercontent.com", "client_secret": "oauth-secret"},
                 redshift_imports={"role_arn": "arn:aws:iam::123456789012:role/carto", "access_key_id": "AKIAFAKE",
                                   "secret_access_key": "fake-secret"})
    assert out["problems"] == []
    secrets = out["values"]["appSecrets"]
    assert secrets["googleMapsApiKey"] == {"existingSecret": {"name": "carto-google-maps", "key": "googleMapsApiKey"}}
    assert secrets["bigqueryOauth2ClientSecret"]["existingSecret"]["name"] == "carto-bigquery-oauth"
    assert secrets["importAwsSecretAccessKey"]["existingSecret"]["key"] == "importAwsSecretAccessKey"
    assert out["values"]["appConfigValues"]["bigqueryOauth2ClientId"] == "cid.apps.googleusercontent.com"
    assert sorted(out["secrets"]) == ["carto-bigquery-oauth", "carto-google-maps", "carto-redshift-imports"]
    assert not any(text in yaml.safe_dump(out["values"]) for text in SECRET_TEXTS)
    result = _validate(out["values"], existing=out["secrets"])
    assert result["errors"] == [], values_problems.format_problems(result["errors"])


@pytest.mark.parametrize("profile,mode,expected", [
    ("standard", "static", {"replicaCount": 2}),
    ("standard_with_upgrades", "static", {"replicaCount": 3}),
    ("standard", "autoscaling", {"autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 2}}),
    ("standard_with_upgrades", "autoscaling", {"autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 3}}),
    ("high_traffic", "autoscaling", {"autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 6}}),
])
def test_high_availability_profiles_match_carto_examples(profile, mode, expected):
    out = _build(scaling={"mode": mode, "high_availability": profile})
    assert out["problems"] == []
    assert sorted(k for k in out["values"] if k in cust_common.SCALED_COMPONENTS) == sorted(cust_common.SCALED_COMPONENTS)
    maps = out["values"]["mapsApi"]
    for key, value in expected.items():
        assert maps[key] == value
    term = maps["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["podAffinityTerm"]["labelSelector"]["matchExpressions"][0]["values"] == ["maps-api"]
    assert _validate(out["values"])["errors"] == []


def test_scaling_overrides_and_pdbs():
    out = _build(scaling={"mode": "autoscaling", "min_replicas": 1, "max_replicas": 2, "target_cpu": 70,
                          "components": {"mapsApi": {"min_replicas": 2, "max_replicas": 4}},
                          "pod_disruption_budgets": {"httpCache": {"max_unavailable": 0}, "router": {"enabled": False}}})
    assert out["problems"] == []
    values = out["values"]
    assert values["mapsApi"]["autoscaling"] == {"enabled": True, "minReplicas": 2, "maxReplicas": 4,
                                                "targetCPUUtilizationPercentage": 70}
    assert values["router"]["autoscaling"]["maxReplicas"] == 2
    assert values["httpCache"] == {"podDisruptionBudget": {"enabled": True, "maxUnavailable": 0}}
    assert values["router"]["podDisruptionBudget"] == {"enabled": False}
    assert "affinity" not in values["mapsApi"]


def test_all_problems_at_once_name_variable_key_and_fix():
    out = _build(domain="https://carto.example.com", router_service={"type": "Ingress"},
                 external_postgresql={"host": ""}, buckets={"provider": "s3"})
    sources = {(p["source"], p["path"]) for p in out["problems"]}
    assert ("inventory variable carto_domain", "appConfigValues.selfHostedDomain") in sources
    assert ("inventory variable carto_router_service", "type") in sources
    assert ("inventory variable carto_external_postgresql", "host") in sources
    assert ("inventory variable carto_buckets", "s3_region") in sources
    assert all(p["fix"] and p["doc"] and p["severity"] == "error" for p in out["problems"])
    docs = ("https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md",
            "https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md#access-to-carto-from-outside-the-cluster")
    assert all(p["doc"].split("#")[0] in docs for p in out["problems"])


def test_build_customizations_keeps_its_contract():
    values, problems = cust_build.build_customizations({"domain": "carto.example.com"})
    assert problems == [] and values["appConfigValues"]["selfHostedDomain"] == "carto.example.com"
    _values, problems = cust_build.build_customizations({"domain": ""})
    assert str(problems[0]).startswith("values_domain: appConfigValues.selfHostedDomain: the domain is empty")


def test_structured_corpus_size():
    assert len(BAD_STRUCTURED) >= 25


@pytest.mark.parametrize("path", BAD_STRUCTURED, ids=os.path.basename)
def test_structured_corpus_file_is_one_documented_case(path):
    with open(path) as handle:
        text = handle.read()
    assert "# expect: " in text
    data = yaml.safe_load(text)
    assert data and all(key.startswith("carto_") for key in data)


def test_validation_dedupes_problems_the_variables_explain():
    out = _build(domain="carto.example.com:8443")
    problems = [dict(p, covers_source="customizations.yaml") for p in out["problems"]]
    result = values_validate.validate_sources([{"name": "customizations.yaml", "content": out["values"]}],
                                              extra_problems=problems)
    assert not [p for p in result["errors"] if p["source"] == "customizations.yaml"]
    assert [p["source"] for p in result["errors"]] == ["inventory variable carto_domain"]


def test_package_sources_are_warnings(tmp_path):
    package = tmp_path / "carto-values.yaml"
    package.write_text("cartoConfigValues:\n  notAKey: 1\ncartoSecrets:\n  jwtSecret:\n    value: abcdefgh\n")
    result = values_validate.validate_sources([{"name": str(package), "path": str(package), "package": True},
                                              {"name": "c", "content": {"appConfigValues": {"selfHostedDomain": "a.example.com"}}}])
    assert result["errors"] == []
    assert result["warnings"] and {p["rule"] for p in result["warnings"]} == {"unknown-key"}
    assert all("installation package" in p["message"] for p in result["warnings"])


def test_customizations_build_reports_instead_of_raising():
    out = cust_build.build({"domain": "https://carto.example.com", "google_maps": {"api_key": "k-123"}})
    assert [(p["source"], p["path"]) for p in out["problems"]] == [
        ("inventory variable carto_domain", "appConfigValues.selfHostedDomain")]
    assert out["secrets"] == {"carto-google-maps": ["googleMapsApiKey"]}
    assert "k-123" not in str(out["values"])
