#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: carto_values_render
short_description: Render customizations.yaml, validate every CARTO Self-Hosted Helm values source and merge them
version_added: 0.1.0
author:
  - carto.selfhosted maintainers (@carto-selfhosted)
description:
  - "One pass over the CARTO Helm values, before anything changes in the cluster: builds C(customizations.yaml) from
    the structured variables (I(customizations); section I(How to apply the configurations) of
    U(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md); credentials are only
    referenced, as C(existingSecret)), writes it (mode C(0600)), checks every file the run reads, loads the package
    files, C(customizations.yaml), the customization files and the overrides, merges them in Helm order
    (C(helm -f a -f b); later wins, maps merge, lists and scalars replace, C(null) deletes a key), validates the
    merge and returns it (RV(merged_values)) for Helm."
  - "Runs on the controller, as an action plugin (C(plugins/action/carto_values_render.py)): the sources, the
    files it checks and writes and the chart's JSON Schema (C(plugins/module_utils/values_schema.json), shipped once
    as data) are all there, and no module payload is built per task. Secret values of the inputs and of the merged
    values are removed from the result and the output, as a module's C(no_log) values are; the result of a valid run,
    which carries the merged values, is censored as a C(no_log) result is, at every verbosity."
  - Reports B(all) problems at once, each with its severity, the source (file or inventory variable, with the
    line when known), the dotted key path, a message, the fix and the section of CARTO's guides it comes from.
  - "Checks: YAML duplicate keys (with both line numbers; section I(Tips for creating the customization Yaml
    file) of U(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md)); the generated JSON Schema of the chart key
    space (unknown keys with the
    closest valid key, wrong types with the expected type); and the cross-field rules of CARTO's documentation
    listed below."
  - "Moved keys: a key that CARTO's examples or earlier chart versions used at another path (for example
    C(router.ports.httpsTargetPort), read as C(router.service.ports.httpsTargetPort) by chart 1.287.1) is an
    error naming the new path (rule C(moved-key)); any other unknown key comes with the closest key of the whole
    key space (the message ends with C(did you mean) and that key path)."
  - "CA certificates: C(externalPostgresql.sslCA) and C(externalRedis.tlsCA) of the merged values, whichever source
    set them, must be PEM X.509 CA certificates (U(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md) I(Configure
    Postgres SSL with custom
    CA), I(Configure Redis TLS)); the error names the source that set the key (rule C(ca-certificate))."
  - "Domain: C(appConfigValues.selfHostedDomain) is a bare FQDN, no scheme, path or port
    (U(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md) I(Configure the domain of your Self Hosted))."
  - "Custom buckets: exactly one C(storageProvider) (C(gcp), C(s3), C(azure-blob)) with its buckets, its project
    id / region / storage account, its credentials by value or C(existingSecret), and a
    C(thumbnailsBucketExternalURL) shaped for the provider (U(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md)
    I(Custom Buckets),
    I(Google Cloud Storage), I(AWS S3), I(Azure Storage))."
  - "External Postgres / Redis: with C(internalPostgresql.enabled=false) / C(internalRedis.enabled=false) a host
    and credentials (password, or C(existingSecret) with its key names) are required; Azure users with C(@) need
    C(internalUser) / C(internalAdminUser); ports are quoted strings
    (U(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md) I(Configure
    external Postgres), I(Setup Azure Postgres), I(Configure external Redis); U(https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes)
    I(External database))."
  - "TLS and exposure: C(tlsCerts.autoGenerate=false) needs an existing TLS Secret; C(tlsCerts.httpsEnabled=false)
    only when TLS terminates in front (GKE Ingress, LoadBalancer with TLS offloading annotations, Gateway API, or
    I(external_tls_termination)); the Ingress only on GKE; load balancer idle timeout annotations of at least
    605 s (AWS, seconds) or 10 minutes (Azure, CARTO's documented value)
    (U(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md)
    I(Configure TLS termination in the CARTO router service), I(Use your own TLS certificate);
    U(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md#access-to-carto-from-outside-the-cluster) I(Access to CARTO
    from outside the cluster))."
  - "Warnings: a component with both C(replicaCount) and autoscaling enabled (autoscaling wins;
    U(https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md) I(Enable static scaling)); secret values written inline
    (use C(existingSecret) or
    Ansible Vault); keys shown in the guides that this chart version ignores; empty (null) sections."
  - Returns the Secrets referenced by the values (name, keys, key paths, sources) and, with I(existing_secrets),
    checks that they exist and have those keys.
  - Changes nothing but the one file I(customizations_path). Secret values are returned only in RV(merged_values), whose
    result is censored; RV(merged_values_redacted) is the same merge with them replaced.
requirements:
  - PyYAML
  - jsonschema >= 4.0 (Draft 2020-12)
  - kubernetes (Python client) >= 24.2.0, for I(secrets_namespace)
extends_documentation_fragment:
  - carto.selfhosted.cluster
options:
  package_values_file:
    description:
      - Path of C(carto-values.yaml) of the CARTO installation package (on the controller); Helm gets it first
        (U(https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes)).
      - "Empty is an error of the run (C(inventory variable <prefix>package_values_file: is empty ...)), reported
        with the other problems."
      - Its problems are warnings (the operator does not edit it) and its inline secrets, by design, are not
        reported.
    type: str
    default: ""
  package_secrets_file:
    description:
      - Path of C(carto-secrets.yaml) of the installation package; Helm gets it second. Like I(package_values_file).
    type: str
    default: ""
  customizations:
    description:
      - The structured variables, by name without their prefix; C(customizations.yaml) is built from them.
      - "Keys (each a dict but C(domain), a str; see the argument specs of the C(carto.selfhosted.values) role for
        their keys): C(domain), C(router_service), C(ingress), C(tls), C(external_postgresql), C(external_redis),
        C(buckets), C(google_maps), C(bigquery_oauth), C(redshift_imports), C(service_account), C(scaling). Another
        key fails the module."
      - Their problems are errors of the same list, with C(source) the inventory variable (C(<prefix><key>)) and
        C(path) the key inside it; the chart keys such a problem makes wrong are not reported a second time.
      - Passwords and keys here are only checked for presence and never written to C(customizations.yaml); the
        Secrets that hold them (RV(managed_secrets)) are created by the C(carto.selfhosted.secrets) role.
    type: dict
    default: {}
  variable_prefix:
    description: Prefix of the inventory variables named in messages (C(carto_domain), C(carto_tls.mode), ...).
    type: str
    default: carto_
  customizations_path:
    description:
      - Where C(customizations.yaml) is written on the controller, before the checks name it. The file gets mode
        C(0600) and a missing directory mode C(0700); the write is atomic and skipped when the file already has this
        content and mode. It is written even when the values are invalid, so that the problems name a file that
        exists.
      - C(changed) is true when the file was (or, in check mode, would be) written. Nothing is written in check
        mode. In diff mode RV(diff) shows the file before and after with every secret value redacted.
    type: path
    required: true
  customization_files:
    description: Extra values files (paths on the controller), merged after C(customizations.yaml) in this order.
    type: list
    elements: str
    default: []
  overrides:
    description: Raw values merged last, like C(helm --set); named C(inventory variable <prefix>values_overrides).
    type: dict
    default: {}
  schema:
    description:
      - Path of a JSON Schema generated by C(tools/gen_values_schema.py) for another chart version.
      - Defaults to the schema bundled with the collection (chart carto 1.287.1).
    type: path
  strict:
    description:
      - Treat warnings as errors.
    type: bool
    default: false
  existing_secrets:
    description:
      - Secrets that exist in the namespace or that another role of the play creates before Helm runs, as a dict of
        Secret name to the list of its data keys. The Secrets built from I(customizations) (RV(managed_secrets)) are
        added to it.
      - When set (or with I(secrets_namespace)), every Secret referenced by the values must be in it, with the
        referenced keys. When both are omitted, references are only returned in RV(referenced_secrets).
    type: dict
  secrets_namespace:
    description:
      - Also list the Secrets of this namespace in the cluster (their names and data key names; values are never
        read into the result) and add them to I(existing_secrets), which then defaults to empty. A namespace that
        does not exist yet has no Secrets.
      - The cluster is read only when the values reference a Secret or a key that I(existing_secrets) does not
        have; values that reference none (or only Secrets the play creates) are validated without a cluster call.
      - The cluster is reached with I(kubeconfig) / I(context) (or I(host) / I(api_key)), the options of the
        C(carto.selfhosted.cluster) action group, like kubernetes.core.k8s_info.
      - U(https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes) I(External database) creates these
        Secrets before C(helm install).
    type: str
  warn_inline_secrets:
    description:
      - Warn about secret values (passwords, API keys, service account keys) written inline in the sources.
    type: bool
    default: true
notes:
  - Runs on the controller; every path is read and written there.
  - "Every file the run reads must exist, be a regular file and be readable (the package and customization files,
    the certificate, key, extra certificate and CA bundle files of I(customizations.tls), the service account key
    files of I(customizations.buckets) and I(customizations.external_postgresql)); each that is not is one error
    C(<path>: <variable>: the file ... does not exist on the controller. Fix: set <variable> to ...), reported with
    the other problems. Only the first byte is read."
  - "With I(secrets_namespace), a cluster that cannot be read fails the module with C(Could not list the Secrets of
    namespace <ns>: <error>. Fix: check carto_kubeconfig / carto_kube_context ...)."
  - "Other failures: C(Invalid value of option customizations: unknown key(s) ...); C(Could not write <path>: <error>.
    Fix: make its directory writable or set carto_output_dir ...); a missing PyYAML or jsonschema."
  - Supports check mode (nothing is written; RV(merged_values) is still returned).
  - The standard C(warnings) return value lists the warnings as text; structured ones are in
    RV(validation_warnings).
seealso:
  - name: CARTO customizations guide
    description: Helm customizations of CARTO Self-Hosted (https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md).
    link: https://github.com/CartoDB/carto-selfhosted-helm/tree/main/customizations
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Nothing is written in check mode; the values are still validated, merged and returned.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The diff of customizations.yaml, secret values redacted (censored with the rest of a valid result).
"""

EXAMPLES = r"""
- name: Render, validate and merge the Helm values before installing
  carto.selfhosted.carto_values_render:
    package_values_file: "{{ carto_package_dir }}/carto-values.yaml"
    package_secrets_file: "{{ carto_package_dir }}/carto-secrets.yaml"
    customizations:
      domain: carto.example.com
      external_postgresql:
        host: postgres.example.internal
        secret_name: mycarto-custom-postgres-secret
    customizations_path: /srv/carto/output/customizations.yaml
    customization_files: [files/autoscaling.yaml]
    overrides: "{{ carto_values_overrides }}"
    existing_secrets:
      mycarto-custom-postgres-secret: [carto-password, admin-password]
    secrets_namespace: carto
  register: carto_values
  failed_when: false

- name: Stop with every problem at once
  ansible.builtin.fail:
    msg: "{{ carto_values.msg }}"
  when: carto_values.failed

- name: Show the Secrets the chart will read
  ansible.builtin.debug:
    msg: "{{ carto_values.referenced_secrets | map(attribute='name') }}"
"""

RETURN = r"""
merged_values:
  description:
    - The merged values in Helm order, C(null) values kept (a single values file handed to Helm still deletes chart
      defaults with them). B(Secret:) the result that carries it is censored as a C(no_log) result is.
    - Returned by the action plugin, which is how a task naming this module runs; a bare module run (without the
      action plugin) leaves it out.
  returned: success
  type: dict
files:
  description: The values files in Helm order (package files, I(customizations_path), I(customization_files)).
  returned: always
  type: list
  elements: str
managed_secrets:
  description: Names of the Secrets the values reference that are built from I(customizations) (the
    C(carto.selfhosted.secrets) role creates them).
  returned: always
  type: list
  elements: str
written:
  description: The path of I(customizations_path) when it was (or in check mode would be) written, else null.
  returned: always
  type: str
  sample: /srv/carto/output/customizations.yaml
diff:
  description: In diff mode, customizations.yaml before and after, secret values redacted.
  returned: when the file changes in diff mode
  type: dict
problems:
  description:
    - All problems, errors first, then by source order and key path.
    - C(severity) is C(error) or C(warning); C(source) the file or variable name; C(line) the 1-based line when
      known (YAML sources); C(path) the dotted key path; C(fix) what to change; C(doc) the guide and section
      (C(<file>.md#<anchor>)) the rule comes from; C(rule) a stable rule id.
  returned: always
  type: list
  elements: dict
  sample:
    - severity: error
      source: customizations.yaml
      line: 3
      path: externalPostgresql.host
      message: "internalPostgresql.enabled is false but externalPostgresql.host is not set (chart default 'localhost')"
      fix: set externalPostgresql.host to the IP/hostname of your Postgres
      doc: https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md#setup-postgres-creating-secrets
      rule: postgres-host
errors:
  description: The problems with severity C(error) (same structure as RV(problems)).
  returned: always
  type: list
  elements: dict
validation_warnings:
  description: The problems with severity C(warning) (same structure as RV(problems)).
  returned: always
  type: list
  elements: dict
referenced_secrets:
  description:
    - Kubernetes Secrets the merged values make the chart read, with the data keys it reads (empty when the whole
      Secret is used, e.g. image pull secrets), the key paths and sources that name them, and the Secret type when
      it is implied (C(kubernetes.io/tls), C(kubernetes.io/dockerconfigjson)).
  returned: always
  type: list
  elements: dict
  sample:
    - name: mycarto-custom-postgres-secret
      keys: [carto-password, admin-password]
      paths: [externalPostgresql.existingSecret]
      sources: [customizations.yaml]
      type: null
missing_secrets:
  description: Problems for referenced Secrets or keys absent from I(existing_secrets) and the namespace (empty when neither is given).
  returned: always
  type: list
  elements: dict
merged_values_redacted:
  description:
    - The user sources merged in Helm order, with secret-looking values replaced by C(<redacted>).
    - C(null) values are kept, because a single values file handed to Helm still needs them to delete chart
      defaults.
  returned: always
  type: dict
chart:
  description: Chart name and version of the schema used.
  returned: always
  type: str
  sample: carto 1.287.1
sources:
  description: Names of the sources that could be loaded, in merge order.
  returned: always
  type: list
  elements: str
msg:
  description: "Summary; on failure one line per error, C(<source>: <key.path>: <message>. Fix: <fix>)."
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.carto.selfhosted.plugins.module_utils._runner import ModuleRunner

from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client
from ansible_collections.carto.selfhosted.plugins.module_utils._values_render import ARGUMENT_SPEC, run


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=cluster_client.AUTH_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    result = run(ModuleRunner(module))
    # AnsibleModule would mask the secrets in the merged values, which then are of no use: left out (see RV(merged_values)).
    result.pop("merged_values", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
