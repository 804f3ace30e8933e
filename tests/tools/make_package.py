#!/usr/bin/env python3
"""Write a FAKE CARTO Self-Hosted installation package for tests.

CARTO ships every customer a package made of two Helm values files,
``carto-values.yaml`` (``cartoConfigValues``, buckets ...) and
``carto-secrets.yaml`` (``cartoSecrets``: the GCP service account key,
encryption / JWT secrets ...). This script writes look-alike files, with the
same keys, for the offline test chart (tests/charts/carto) and the
collection's tests.

Nothing in the output is a real credential: identifiers are made up, and every
secret-like value is a random string generated at run time (the service account
"key" is a JSON document whose private_key is a random placeholder, not a PEM
key). Never commit the generated files.

Usage:
    make_package.py --dest DIR [--customer-id ID]
"""

import argparse
import json
import os
import pathlib
import secrets
import string
import sys
import uuid

import yaml

APP_VERSION = "2026.8.11-rc.7"  # appVersion of carto/carto 1.287.1
VALUES_FILE = "carto-values.yaml"
SECRETS_FILE = "carto-secrets.yaml"

_HEADER = (
    "# FAKE CARTO Self-Hosted installation package - generated for tests by\n"
    "# tests/tools/make_package.py. Not issued by CARTO; contains no real\n"
    "# credentials and cannot run a real CARTO installation.\n"
)


def _token(length=32, alphabet=string.ascii_letters + string.digits):
    return "".join(secrets.choice(alphabet) for _index in range(length))


def _hex(length=32):
    return secrets.token_hex(length // 2)


def _customer_id(value=None):
    if value:
        cid = value.strip().lower()
        if not cid or any(c not in string.ascii_lowercase + string.digits + "-" for c in cid):
            raise ValueError("customer id must be lowercase letters, digits and '-'")
        return cid
    return "test" + _token(6, string.ascii_lowercase + string.digits)


def build_package(customer_id=None):
    """Return (carto_values, carto_secrets) dicts of a fake package."""
    cid = _customer_id(customer_id)
    tenant = "onp-" + cid
    project = "carto-tnt-" + tenant
    region = "us-east1"
    service_account = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": _hex(40),
        # Placeholder, deliberately not a PEM block: this is not a key.
        "private_key": "FAKE-NOT-A-KEY-" + _token(48),
        "client_email": "{}@{}.iam.gserviceaccount.invalid".format("sa-" + cid, project),
        "client_id": str(secrets.randbelow(10**20)).zfill(21),
        "auth_uri": "https://accounts.google.invalid/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.invalid/token",
    }
    values = {
        "cartoConfigValues": {
            "customerPackageVersion": APP_VERSION,
            "selfHostedTenantId": tenant,
            "selfHostedGcpProjectId": project,
            "selfHostedGcpProjectRegion": region,
            "cartoAccApiDomain": "accounts.carto-test.invalid",
            "cartoAccGcpProjectId": "carto-acc-test",
            "cartoAccGcpProjectRegion": region,
            "cartoAuth0ClientId": _token(32),
            "cartoAuth0CustomDomain": "auth.carto-test.invalid",
            "cartoDoApiDomain": "do.carto-test.invalid",
            "cartoDoAssetsDomain": "do-assets.carto-test.invalid",
            "cartoSelfhostedDwLocation": "us",
            "dataObservatoryProjectId": "carto-do-test",
            "launchDarklyClientSideId": _hex(24),
        },
        "appConfigValues": {
            "storageProvider": "gcp",
            "googleCloudStorageProjectId": project,
            "workspaceImportsBucket": tenant + "-client-storage",
            "workspaceThumbnailsBucket": tenant + "-thumbnails-storage",
            "thumbnailsBucketExternalURL": "https://storage.googleapis.invalid/{}-thumbnails-storage/".format(tenant),
            "workspaceExportsBucket": tenant + "-export-storage",
        },
    }
    secret_values = {
        "cartoSecrets": {
            "defaultGoogleServiceAccount": {"value": json.dumps(service_account, indent=2) + "\n"},
            "encryptionSecretKey": {"value": _token(44)},
            "jwtApiSecret": {"value": _token(44)},
            "launchDarklySdkKey": {"value": "sdk-" + str(uuid.uuid4())},
            "varnishPurgeSecret": {"value": _token(32)},
            "varnishDebugSecret": {"value": _token(32)},
            "instanceId": {"value": str(uuid.uuid4())},
        },
    }
    return values, secret_values


def _dump(path, data, mode):
    text = _HEADER + yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=1000)
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(str(path), mode)


def make_package(dest, customer_id=None):
    """Write carto-values.yaml and carto-secrets.yaml into dest; return their paths."""
    dest = pathlib.Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    values, secret_values = build_package(customer_id)
    values_path = dest / VALUES_FILE
    secrets_path = dest / SECRETS_FILE
    _dump(values_path, values, 0o644)
    _dump(secrets_path, secret_values, 0o600)
    return values_path, secrets_path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", required=True, help="directory to write the package into (created if missing)")
    parser.add_argument("--customer-id", help="made-up customer id (lowercase, digits, '-'); random if omitted")
    args = parser.parse_args(argv)
    try:
        paths = make_package(args.dest, args.customer_id)
    except ValueError as exc:
        parser.error(str(exc))
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
