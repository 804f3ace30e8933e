# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Private: the buckets, Google Maps, BigQuery OAuth, Redshift imports and service account sections of
``customizations.yaml``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.carto.selfhosted.plugins.module_utils._customizations.common import (
    DEFAULT_BIGQUERY_OAUTH_SECRET, DEFAULT_BUCKETS_SECRET, DEFAULT_GOOGLE_MAPS_SECRET, DEFAULT_REDSHIFT_SECRET,
    STORAGE_PROVIDERS, _given,
)


def _existing(secret, key):
    return {"existingSecret": {"name": secret, "key": key}}


def _buckets(b, spec):
    """CC "Custom Buckets" (Pre-requisites, Google Cloud Storage, AWS S3, Azure Storage)."""
    name = "buckets"
    variable = b.var(name)
    bk = spec or {}
    if not bk:
        return {}
    provider = bk.get("provider")
    if provider not in STORAGE_PROVIDERS:
        b.problem(name, "provider", "'%s' is not a storage provider" % provider,
                  "use one of %s (one provider at a time)" % ", ".join(STORAGE_PROVIDERS),
                  covers=["appConfigValues.storageProvider"])
        return {}
    config = {"storageProvider": provider}
    for key, chart in (("client_bucket", "workspaceImportsBucket"), ("thumbnails_bucket", "workspaceThumbnailsBucket")):
        if not bk.get(key):
            b.problem(name, key, "is required with custom buckets", "set %s.%s to the bucket name" % (variable, key),
                      covers=["appConfigValues." + chart])
        config[chart] = bk.get(key) or ""
    # The guides' importBucket is not a key of chart 1.287.1 (Helm would ignore it): import_bucket is accepted
    # and documented but not written.
    config["workspaceImportsPublic"] = bool(bk.get("imports_public", True))
    config["workspaceThumbnailsPublic"] = bool(bk.get("thumbnails_public", True))
    thumbs = bk.get("thumbnails_bucket") or "<thumbnails_bucket>"
    secret = bk.get("secret_name") or DEFAULT_BUCKETS_SECRET
    create = bk.get("create_secret", True)
    secrets = {}
    if provider == "gcp":
        url = "https://%s/%s/" % ("storage.googleapis.com" if config["workspaceThumbnailsPublic"]
                                  else "storage.cloud.google.com", thumbs)
        if not bk.get("gcp_project_id"):
            b.problem(name, "gcp_project_id", "is required with provider gcp", "set %s.gcp_project_id" % variable,
                      covers=["appConfigValues.googleCloudStorageProjectId"])
        config["googleCloudStorageProjectId"] = bk.get("gcp_project_id") or ""
        # Without a key the custom service account (Workload Identity) is used (CC "Google Cloud Storage" step 4).
        if _given(bk, "service_account_key", "service_account_key_file") or bk.get("secret_name"):
            secrets["googleCloudStorageServiceAccountKey"] = _existing(secret, "key")
            if create and _given(bk, "service_account_key", "service_account_key_file"):
                b.secret(secret, ["key"])
    elif provider == "s3":
        url = "https://%s.s3.amazonaws.com/" % thumbs
        if not bk.get("s3_region"):
            b.problem(name, "s3_region", "is required with provider s3", "set %s.s3_region (e.g. eu-west-1)" % variable,
                      covers=["appConfigValues.awsS3Region"])
        config["awsS3Region"] = bk.get("s3_region") or ""
        secrets["awsAccessKeyId"] = _existing(secret, "awsAccessKeyId")
        secrets["awsAccessKeySecret"] = _existing(secret, "awsSecretAccessKey")
        if create and _given(bk, "access_key_id", "secret_access_key"):
            if not (_given(bk, "access_key_id") and _given(bk, "secret_access_key")):
                b.problem(name, "secret_access_key" if _given(bk, "access_key_id") else "access_key_id",
                          "S3 credentials need both the access key id and the secret access key",
                          "set both %s.access_key_id and %s.secret_access_key (Ansible Vault)" % (variable, variable))
            b.secret(secret, ["awsAccessKeyId", "awsSecretAccessKey"])
    else:
        account = bk.get("azure_storage_account") or ""
        url = "https://%s.blob.core.windows.net/%s/" % (account or "<storage_account>", thumbs)
        if not account:
            b.problem(name, "azure_storage_account", "is required with provider azure-blob",
                      "set %s.azure_storage_account" % variable, covers=["appConfigValues.azureStorageAccount"])
        config["azureStorageAccount"] = account
        secrets["azureStorageAccessKey"] = _existing(secret, "azureStorageAccessKey")
        if create and _given(bk, "access_key"):
            b.secret(secret, ["azureStorageAccessKey"])
    config["thumbnailsBucketExternalURL"] = bk.get("thumbnails_external_url") or url
    out = {"appConfigValues": config}
    if secrets:
        out["appSecrets"] = secrets
    return out


def _app_secret(b, name, spec, value_key, chart_item, default_secret, default_key, config=None):
    """One appSecrets item referenced through existingSecret (CC "Google Maps", "Enable BigQuery OAuth")."""
    conf = spec or {}
    secret = conf.get("secret_name") or default_secret
    key = conf.get("secret_key") or default_key
    if conf.get("create_secret", True) and _given(conf, value_key):
        b.secret(secret, [key])
    out = {"appSecrets": {chart_item: _existing(secret, key)}}
    if config:
        out["appConfigValues"] = config
    return out


def _google_maps(b, spec):
    if not spec:
        return {}
    return _app_secret(b, "google_maps", spec, "api_key", "googleMapsApiKey", DEFAULT_GOOGLE_MAPS_SECRET,
                       "googleMapsApiKey")


def _bigquery_oauth(b, spec):
    if not spec:
        return {}
    if not spec.get("client_id"):
        b.problem("bigquery_oauth", "client_id", "is required to enable BigQuery OAuth connections",
                  "set %s.client_id to the web client id of the OAuth credentials" % b.var("bigquery_oauth"),
                  covers=["appConfigValues.bigqueryOauth2ClientId"])
    return _app_secret(b, "bigquery_oauth", spec, "client_secret", "bigqueryOauth2ClientSecret",
                       DEFAULT_BIGQUERY_OAUTH_SECRET, "bigqueryOauth2ClientSecret",
                       {"bigqueryOauth2ClientId": spec.get("client_id") or ""})


def _redshift_imports(b, spec):
    """CC "Redshift imports"."""
    name = "redshift_imports"
    conf = spec or {}
    if not conf:
        return {}
    arn = conf.get("role_arn") or ""
    if not arn.startswith("arn:aws:iam::"):
        b.problem(name, "role_arn", "'%s' is not an IAM ARN" % arn, "set %s.role_arn: arn:aws:iam::<account>:..."
                  % b.var(name), covers=["appConfigValues.importAwsRoleArn"])
    secret = conf.get("secret_name") or DEFAULT_REDSHIFT_SECRET
    if conf.get("create_secret", True) and _given(conf, "access_key_id", "secret_access_key"):
        if not (_given(conf, "access_key_id") and _given(conf, "secret_access_key")):
            b.problem(name, "secret_access_key" if _given(conf, "access_key_id") else "access_key_id",
                      "the import user needs both the access key id and the secret access key",
                      "set both %s.access_key_id and %s.secret_access_key (Ansible Vault)" % (b.var(name), b.var(name)))
        b.secret(secret, ["importAwsAccessKeyId", "importAwsSecretAccessKey"])
    return {"appConfigValues": {"importAwsRoleArn": arn},
            "appSecrets": {"importAwsAccessKeyId": _existing(secret, "importAwsAccessKeyId"),
                           "importAwsSecretAccessKey": _existing(secret, "importAwsSecretAccessKey")}}


def _service_account(b, spec):
    """CC "Custom Service Account": the backend ServiceAccount, with GKE Workload Identity."""
    conf = spec or {}
    if not conf:
        return {}
    out = {}
    if "create" in conf:
        out["create"] = bool(conf["create"])
    if conf.get("name"):
        out["name"] = conf["name"]
    annotations = dict(conf.get("annotations") or {})
    email = conf.get("gcp_service_account_email")
    if email:
        if not re.match(r"^[^@\s]+@[^@\s]+\.iam\.gserviceaccount\.com$", email):
            b.problem("service_account", "gcp_service_account_email", "'%s' is not a GCP service account email" % email,
                      "use <name>@<project>.iam.gserviceaccount.com")
        annotations["iam.gke.io/gcp-service-account"] = email
        out["enableGCPWorkloadIdentity"] = True
    if conf.get("workload_identity") is not None:
        out["enableGCPWorkloadIdentity"] = bool(conf["workload_identity"])
    if out.get("create") is False and not out.get("name"):
        b.problem("service_account", "name", "create is false but no existing ServiceAccount is named",
                  "set %s.name" % b.var("service_account"))
    if annotations:
        out["annotations"] = annotations
    return {"commonBackendServiceAccount": out}
