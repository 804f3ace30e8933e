# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Private: the context of the cross-field rules (values, provenance, problems) and the rules of the domain,
the secret items (value or existingSecret) and the buckets.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import re

from ansible_collections.carto.selfhosted.plugins.module_utils._values.merge import _setter, _user_set
from ansible_collections.carto.selfhosted.plugins.module_utils._values.problems import (
    DOC_APPLY, DOC_AZURE, DOC_BUCKETS, DOC_DOMAIN, DOC_GCS, DOC_GMAPS, DOC_S3, ERROR, WARNING, make_problem,
)
from ansible_collections.carto.selfhosted.plugins.module_utils._values.secrets import _SECRET_SECTIONS, _get, _nonempty


# ---------------------------------------------------------------------------
# cross-field rules
# ---------------------------------------------------------------------------

_DOMAIN_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", re.I)
_STORAGE_PROVIDERS = ("gcp", "s3", "azure-blob")
_PROVIDER_ALIASES = {"aws": "s3", "amazon": "s3", "s3": "s3", "azure": "azure-blob", "azure_blob": "azure-blob",
                     "azureblob": "azure-blob", "blob": "azure-blob", "gcs": "gcp", "google": "gcp",
                     "gcp": "gcp", "azure-blob": "azure-blob"}
_PROVIDER_DOC = {"gcp": DOC_GCS, "s3": DOC_S3, "azure-blob": DOC_AZURE}
_PROVIDER_ONLY_KEYS = {
    "gcp": ("appConfigValues.googleCloudStorageProjectId", "appSecrets.googleCloudStorageServiceAccountKey"),
    "s3": ("appConfigValues.awsS3Region", "appSecrets.awsAccessKeyId", "appSecrets.awsAccessKeySecret"),
    "azure-blob": ("appConfigValues.azureStorageAccount", "appSecrets.azureStorageAccessKey"),
}
_STORAGE_TRIGGERS = ("appConfigValues.storageProvider", "appConfigValues.workspaceImportsBucket",
                     "appConfigValues.workspaceThumbnailsBucket", "appConfigValues.thumbnailsBucketExternalURL",
                     "appConfigValues.googleCloudStorageProjectId", "appConfigValues.awsS3Region",
                     "appConfigValues.azureStorageAccount", "appConfigValues.importBucket",
                     "appSecrets.googleCloudStorageServiceAccountKey", "appSecrets.awsAccessKeyId",
                     "appSecrets.awsAccessKeySecret", "appSecrets.azureStorageAccessKey")


_INLINE_SECRET_FIX = ("move it to a Kubernetes Secret and reference it with existingSecret, or keep this "
                      "file/variable encrypted with Ansible Vault")


class _Ctx(object):
    """Helper bundling the values, provenance and problem list for the rules."""

    def __init__(self, user, effective, provenance):
        self.user = user
        self.values = effective
        self.provenance = provenance
        self.problems = []

    def get(self, path, default=None):
        return _get(self.values, path, default)

    def is_set(self, path):
        return _user_set(self.provenance, tuple(path.split(".")))

    def touched(self, path):
        """True when a source set ``path`` or anything below it."""
        tpath = tuple(path.split("."))
        size = len(tpath)
        return any(key[:size] == tpath for key in self.provenance)

    def setter(self, *paths):
        """(source, line) of the first of ``paths`` set by a source."""
        for path in paths:
            tpath = tuple(path.split(".")) if isinstance(path, str) else tuple(path)
            records = self.provenance.get(tpath)
            if records:
                return records[-1]
        return _setter(self.provenance, tuple(paths[0].split(".")) if paths and isinstance(paths[0], str)
                       else ())

    def add(self, severity, path, message, fix, doc, rule, blame=None):
        blame = blame or [path]
        source, line = self.setter(*blame)
        self.problems.append(make_problem(severity, source, path, message, fix, doc, rule, line=line))


def _check_domain(ctx, domain_required):
    path = "appConfigValues.selfHostedDomain"
    domain = ctx.get(path)
    if not ctx.is_set(path):
        if domain_required:
            ctx.add(ERROR, path, "the domain is not set (the chart default '%s' is a placeholder)" % domain,
                    'set appConfigValues.selfHostedDomain: "carto.example.com" (a domain you own)', DOC_DOMAIN,
                    "domain-required")
        return
    if not isinstance(domain, str) or not domain.strip():
        ctx.add(ERROR, path, "the domain is empty", 'set appConfigValues.selfHostedDomain: "carto.example.com"',
                DOC_DOMAIN, "domain-fqdn")
        return
    text = domain.strip()
    host = text
    reasons = []
    if "://" in host:
        reasons.append("a scheme")
        host = host.split("://", 1)[1]
    if "/" in host:
        if host.split("/", 1)[1].strip("/"):
            reasons.append("a path (CARTO cannot be served under a URL path)")
        else:
            reasons.append("a trailing slash")
        host = host.split("/", 1)[0]
    if "@" in host:
        reasons.append("user info")
        host = host.rsplit("@", 1)[1]
    if re.search(r":\d*$", host):
        reasons.append("a port")
        host = re.sub(r":\d*$", "", host)
    host = host.rstrip(".")
    if reasons:
        ctx.add(ERROR, path, "'%s' is not a bare domain: it contains %s" % (text, ", ".join(reasons)),
                'set appConfigValues.selfHostedDomain: "%s"' % host.lower(), DOC_DOMAIN, "domain-fqdn")
        return
    labels = host.split(".")
    if re.match(r"^\d+(\.\d+){3}$", host):
        ctx.add(ERROR, path, "'%s' is an IP address; CARTO needs a full domain or subdomain" % text,
                "use a DNS name that resolves to the exposed router (an A record to that IP)", DOC_DOMAIN,
                "domain-fqdn")
    elif len(labels) < 2 or len(host) > 253 or not all(_DOMAIN_LABEL_RE.match(label) for label in labels) \
            or text != text.strip():
        ctx.add(ERROR, path, "'%s' is not a valid fully qualified domain name" % text,
                "use letters, digits and '-' in dot-separated labels, e.g. carto.example.com", DOC_DOMAIN,
                "domain-fqdn")


def _secret_item_state(ctx, base):
    """(has_value, existing_name, existing_key) of an appSecrets/cartoSecrets item."""
    conf = ctx.get(base) or {}
    if not isinstance(conf, dict):
        return False, None, None
    existing = conf.get("existingSecret") if isinstance(conf.get("existingSecret"), dict) else {}
    return _nonempty(conf.get("value")), existing.get("name"), existing.get("key")


def _check_secret_items(ctx):
    for section in _SECRET_SECTIONS:
        items = ctx.get(section) or {}
        if not isinstance(items, dict):
            continue
        for item in sorted(items):
            base = "%s.%s" % (section, item)
            has_value, name, key = _secret_item_state(ctx, base)
            if _nonempty(name) and not _nonempty(key):
                ctx.add(ERROR, base + ".existingSecret.key",
                        "existingSecret.name '%s' is set without the key holding the value" % name,
                        "set %s.existingSecret.key to the data key inside the Secret" % base, DOC_GMAPS
                        if item == "googleMapsApiKey" else DOC_APPLY, "secret-item-key",
                        blame=[base + ".existingSecret.name"])
            elif _nonempty(key) and not _nonempty(name) and ctx.is_set(base + ".existingSecret.key"):
                ctx.add(ERROR, base + ".existingSecret.name",
                        "existingSecret.key '%s' is set without the Secret name" % key,
                        "set %s.existingSecret.name" % base, DOC_APPLY, "secret-item-name",
                        blame=[base + ".existingSecret.key"])
            if has_value and _nonempty(name):
                ctx.add(WARNING, base + ".existingSecret.name",
                        "both value and existingSecret are set: the chart uses value and ignores the Secret",
                        "keep only one of %s.value or %s.existingSecret" % (base, base), DOC_APPLY,
                        "secret-item-both", blame=[base + ".value"])


def _credential_ok(ctx, base):
    has_value, name, key = _secret_item_state(ctx, base)
    return has_value or (_nonempty(name) and _nonempty(key))


def _check_storage(ctx):
    triggers = [p for p in _STORAGE_TRIGGERS if ctx.touched(p)]
    if not triggers:
        return
    blame = ["appConfigValues.storageProvider"] + triggers
    raw = ctx.get("appConfigValues.storageProvider")
    provider = raw if raw in _STORAGE_PROVIDERS else None
    if provider is None:
        guess = _PROVIDER_ALIASES.get(str(raw).strip().lower()) if raw is not None else None
        if guess is None:
            close = difflib.get_close_matches(str(raw), _STORAGE_PROVIDERS, n=1, cutoff=0.4)
            guess = close[0] if close else None
        ctx.add(ERROR, "appConfigValues.storageProvider",
                "storage provider '%s' is not supported (valid: gcp, s3, azure-blob)" % raw,
                'set appConfigValues.storageProvider: "%s"' % (guess or "gcp|s3|azure-blob"), DOC_BUCKETS,
                "storage-provider", blame=blame)
        provider = guess
        if provider is None:
            return
    doc = _PROVIDER_DOC[provider]
    required = [
        ("appConfigValues.workspaceImportsBucket", "the import (client) bucket name"),
        ("appConfigValues.workspaceThumbnailsBucket", "the thumbnails bucket name"),
        ("appConfigValues.thumbnailsBucketExternalURL", "the external URL of the thumbnails bucket"),
    ]
    if provider == "gcp":
        required.append(("appConfigValues.googleCloudStorageProjectId", "the GCP project id of the buckets"))
    elif provider == "s3" and not _nonempty(ctx.get("appConfigValues.s3Endpoint")):
        required.append(("appConfigValues.awsS3Region", "the AWS region of the buckets"))
    elif provider == "azure-blob":
        required.append(("appConfigValues.azureStorageAccount", "the Azure storage account name"))
    for path, what in required:
        if not _nonempty(ctx.get(path)):
            ctx.add(ERROR, path, "missing with custom buckets (storageProvider %s): %s is required" % (provider, what),
                    "set %s" % path, doc, "storage-required", blame=blame)
    # one provider at a time
    for other, keys in sorted(_PROVIDER_ONLY_KEYS.items()):
        if other == provider:
            continue
        for path in keys:
            value = ctx.get(path)
            active = _nonempty(value) if not isinstance(value, dict) else (
                _nonempty(value.get("value")) or _nonempty((value.get("existingSecret") or {}).get("name")
                                                           if isinstance(value.get("existingSecret"), dict) else None))
            if not active or not ctx.touched(path):
                continue
            fix = "remove it (only one storage provider can be set at a time) or set storageProvider: %s" % other
            if provider == "azure-blob" and path == "appSecrets.awsAccessKeyId":
                fix = ("move the existingSecret/value to appSecrets.azureStorageAccessKey (the Azure Storage "
                       "guide's existing-secret example uses awsAccessKeyId by mistake)")
            leaf = path + (".value" if path.startswith("appSecrets") and _nonempty(value.get("value"))
                           else ".existingSecret.name" if path.startswith("appSecrets") else "")
            ctx.add(ERROR, leaf, "is a %s setting but storageProvider is %s" % (other, provider), fix, DOC_BUCKETS,
                    "storage-one-provider", blame=[leaf, path])
    # credentials
    if provider == "s3" and not ctx.get("appConfigValues.awsEksPodIdentityBucketsEnabled"):
        for item in ("awsAccessKeyId", "awsAccessKeySecret"):
            if not _credential_ok(ctx, "appSecrets." + item):
                ctx.add(ERROR, "appSecrets.%s" % item, "S3 buckets need %s (by value or existingSecret)" % item,
                        "set appSecrets.%s.existingSecret.name and .key (Secret created beforehand) or "
                        "appSecrets.%s.value from Ansible Vault" % (item, item), DOC_S3, "storage-credentials",
                        blame=blame)
    if provider == "azure-blob" and not _credential_ok(ctx, "appSecrets.azureStorageAccessKey"):
        ctx.add(ERROR, "appSecrets.azureStorageAccessKey",
                "Azure Storage buckets need the storage account access key (by value or existingSecret)",
                "set appSecrets.azureStorageAccessKey.existingSecret.name and .key, or .value from Ansible Vault",
                DOC_AZURE, "storage-credentials", blame=blame)
    _check_thumbnails_url(ctx, provider, doc)


def _check_thumbnails_url(ctx, provider, doc):
    path = "appConfigValues.thumbnailsBucketExternalURL"
    url = ctx.get(path)
    bucket = ctx.get("appConfigValues.workspaceThumbnailsBucket")
    if not isinstance(url, str) or not url.strip() or not isinstance(bucket, str) or not bucket:
        return
    match = re.match(r"^(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*)://(?P<host>[^/?#]+)(?P<path>[^?#]*)", url.strip())
    custom_endpoint = provider == "s3" and _nonempty(ctx.get("appConfigValues.s3Endpoint"))
    if provider == "gcp":
        expected = "https://storage.googleapis.com/%s/ (public) or https://storage.cloud.google.com/%s/" % (
            bucket, bucket)
    elif provider == "s3":
        expected = "https://%s.s3.amazonaws.com/" % bucket
    else:
        expected = "https://%s.blob.core.windows.net/%s/" % (ctx.get("appConfigValues.azureStorageAccount")
                                                             or "<storage_account>", bucket)
    if not match:
        ctx.add(ERROR, path, "'%s' is not a URL" % url, "set it to %s" % expected, doc, "storage-url")
        return
    if match.group("scheme").lower() != "https" and not custom_endpoint:
        ctx.add(ERROR, path, "the thumbnails URL must use https", "set it to %s" % expected, doc, "storage-url")
        return
    if custom_endpoint:
        return
    host = match.group("host").lower()
    segments = [s for s in match.group("path").split("/") if s]
    good = False
    if provider == "gcp":
        good = host in ("storage.googleapis.com", "storage.cloud.google.com") and segments[:1] == [bucket]
    elif provider == "s3":
        region = ctx.get("appConfigValues.awsS3Region") or ""
        virtual = (host == "%s.s3.amazonaws.com" % bucket.lower() or
                   (region and host in ("%s.s3.%s.amazonaws.com" % (bucket.lower(), region),
                                        "%s.s3-%s.amazonaws.com" % (bucket.lower(), region))))
        path_style = host in ("s3.amazonaws.com",) or (region and host == "s3.%s.amazonaws.com" % region)
        good = bool(virtual or (path_style and segments[:1] == [bucket]))
    else:
        account = (ctx.get("appConfigValues.azureStorageAccount") or "").lower()
        good = host == "%s.blob.core.windows.net" % account and segments[:1] == [bucket]
    if not good:
        ctx.add(ERROR, path, "'%s' does not point at the %s thumbnails bucket '%s'" % (url, provider, bucket),
                "set it to %s" % expected, doc, "storage-url")
    elif not url.endswith("/"):
        ctx.add(WARNING, path, "the thumbnails URL should end with '/'", "set it to %s/" % url, doc, "storage-url")
