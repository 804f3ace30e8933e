#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: carto_values_validate
short_description: Validate the merged CARTO Self-Hosted Helm values before deploying
version_added: 0.1.0
author:
  - carto.selfhosted maintainers (@carto-selfhosted)
description:
  - Loads every values source (files like C(carto-values.yaml), C(carto-secrets.yaml), C(customizations.yaml)
    and inventory variables), merges them in Helm order (C(helm -f a -f b); later wins, maps merge,
    lists and scalars replace, C(null) deletes a key) and validates the result B(before anything changes in
    the cluster).
  - "Runs on the controller, as an action plugin (C(plugins/action/carto_values_validate.py)): the sources, the
    files it checks and writes and the chart's JSON Schema (C(plugins/module_utils/values_schema.json), shipped once
    as data) are all there, and no module payload is built per task. Secret values of the sources and of the merged
    values are removed from the result and the output, as a module's C(no_log) values are."
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
  - Changes nothing, except the one file of I(write) (the C(carto.selfhosted.values) role writes the rendered
    C(customizations.yaml) this way, in the same module run as its validation). Secret values are never returned
    (see RV(merged_values_redacted)) and are masked in the module invocation.
requirements:
  - PyYAML
  - jsonschema >= 4.0 (Draft 2020-12)
  - kubernetes (Python client) >= 24.2.0, for I(secrets_namespace)
extends_documentation_fragment:
  - carto.selfhosted.cluster
options:
  sources:
    description:
      - Values sources in Helm order (the last one wins), like the C(-f) arguments of C(helm install).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name used in messages, for example the file path or the inventory variable name.
          - Defaults to I(path).
        type: str
      path:
        description:
          - Path of a YAML values file on the host running the module (the controller).
          - Mutually exclusive with I(content).
        type: path
      content:
        description:
          - Values as a dict (for example an inventory variable) or as YAML text (duplicate keys and line numbers
            are then reported too).
          - Mutually exclusive with I(path).
        type: raw
      package:
        description:
          - The source is a file of CARTO's installation package (C(carto-values.yaml), C(carto-secrets.yaml);
            U(https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes)). The operator does not edit it, so its problems are reported as
            warnings and its inline secrets (by design) are not reported.
        type: bool
        default: false
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
      - Secrets that exist in the namespace or that the play creates before Helm runs, as a dict of Secret name to
        the list of its data keys.
      - When set, every Secret referenced by the values must be in it, with the referenced keys.
      - When omitted, references are only returned in RV(referenced_secrets).
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
      - Doing this read in the same module run as the validation saves a module run (a Python start and a
        kubernetes client import) per play host; U(https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes) I(External database) creates these
        Secrets before C(helm install).
    type: str
  domain_required:
    description:
      - Require C(appConfigValues.selfHostedDomain) to be set by one of the sources (the chart default is a
        placeholder).
    type: bool
    default: true
  external_tls_termination:
    description:
      - Declare that TLS is terminated in front of CARTO by something the values do not show (an external
        reverse proxy or load balancer), which allows C(tlsCerts.httpsEnabled=false).
    type: bool
    default: false
  warn_inline_secrets:
    description:
      - Warn about secret values (passwords, API keys, service account keys) written inline in the sources.
    type: bool
    default: true
  write:
    description:
      - Write I(content) to I(path) before validating, so that the file the problems name exists on disk. The file
        gets mode C(0600) (it may hold values the operator treats as secret) and a missing directory is created
        with mode C(0700); the write is atomic and skipped when the file already has this content and mode.
      - C(changed) is true when the file was (or, in check mode, would be) written. Nothing is written in check
        mode. In diff mode RV(diff) shows the file before and after with every secret value redacted.
    type: dict
    suboptions:
      path:
        description: File to write (on the controller).
        type: path
        required: true
      content:
        description: Its text (YAML).
        type: str
        required: true
  problems:
    description:
      - Problems the caller already found in its own inputs, for example in the structured inventory variables
        that produced one of the sources (see the C(carto.selfhosted.customizations_build) filter). They are
        reported and counted together with the problems of the sources, so a run lists everything at once.
      - Each problem has the keys of RV(problems); C(source) names the inventory variable, C(path) its key.
      - "Keys of each problem: C(source) (str, required) the file or inventory variable the problem is in;
        C(message) (str, required) what is wrong; C(severity) (str, V(error) (default) or V(warning));
        C(line) (int) the 1-based line when known; C(path) (str, default empty) the key path inside the source;
        C(fix) (str, default empty) how to fix it; C(doc) (str) the guide and section (C(<file>.md#<anchor>));
        C(rule) (str, default V(caller)) a stable rule id; C(covers) (list of str, default empty) key paths of the
        source C(covers_source) this problem makes wrong, problems found there are not reported a second time;
        C(covers_source) (str) the name of the source (as in O(sources)) the C(covers) paths belong to."
      - The keys are checked like module options (types, required keys, choices, no other key); the module fails
        on a problem that does not match.
    type: list
    elements: dict
    default: []
  input_files:
    description:
      - Files the run reads on the controller, each named by the inventory variable that sets it (C(variable), for
        example C(carto_package_values_file), C(carto_customization_files[0]), C(carto_tls.certificate_file)) with
        its C(path).
      - "Each must exist, be a regular file and be readable (certificate, key and service account files also
        non-empty); every file that is not gets one error C(<path>: <variable>: the file ... does not exist on
        the controller. Fix: set <variable> to the path ... of <what it holds>), reported with the other
        problems. Only the first byte is read; the content is never returned."
      - The C(carto.selfhosted.values_input_files) filter builds this list from the inventory variables.
    type: list
    elements: dict
    default: []
    suboptions:
      variable:
        description: The inventory variable (or key of one) that names the file.
        type: str
        required: true
      path:
        description: The path; empty is skipped (the caller reports an unset variable).
        type: str
notes:
  - Runs on the controller (C(delegate_to=localhost)); I(path) sources are read there.
  - "With I(secrets_namespace), a cluster that cannot be read fails the module with C(Could not list the Secrets of
    namespace <ns>: <error>. Fix: check carto_kubeconfig / carto_kube_context ...) before any validation."
  - Supports check mode; it never changes anything and always returns C(changed=false).
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
    details: The module never changes anything, in check mode or not.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Validate the Helm values before installing
  carto.selfhosted.carto_values_validate:
    sources:
      - path: "{{ carto_package_dir }}/carto-values.yaml"
      - path: "{{ carto_package_dir }}/carto-secrets.yaml"
      - path: files/customizations.yaml
      - name: carto_values_overrides
        content: "{{ carto_values_overrides }}"
      - name: carto_domain
        content:
          appConfigValues:
            selfHostedDomain: "{{ carto_domain }}"
    existing_secrets:
      mycarto-custom-postgres-secret: [carto-password, admin-password]
      carto-tls-cert: [tls.crt, tls.key]
  delegate_to: localhost
  register: carto_values

- name: Show the Secrets the chart will read
  ansible.builtin.debug:
    var: carto_values.referenced_secrets

- name: Validate YAML text and treat warnings as errors
  carto.selfhosted.carto_values_validate:
    strict: true
    sources:
      - name: inline customizations
        content: |
          appConfigValues:
            selfHostedDomain: "carto.example.com"
          router:
            service:
              type: LoadBalancer
              annotations:
                service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout: "605"
  delegate_to: localhost
"""

RETURN = r"""
written:
  description: With I(write), the path written (or that would be written in check mode), else null.
  returned: always
  type: str
  sample: /srv/carto/output/customizations.yaml
diff:
  description: With I(write) in diff mode, the file before and after, secret values redacted.
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
  description: Problems for referenced Secrets or keys absent from I(existing_secrets) (empty when not given).
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

from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client
from ansible_collections.carto.selfhosted.plugins.module_utils._values_validate import ARGUMENT_SPEC, run


class _ModuleRunner(object):
    """carto.selfhosted._values_validate's runner for a module run (the action plugin has its own)."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.diff = module._diff

    def fail(self, msg, **result):
        self.module.fail_json(msg=msg, **result)

    def warn(self, msg):
        self.module.warn(msg)

    def mask(self, values):
        self.module.no_log_values.update(values)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=cluster_client.AUTH_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    module.exit_json(**run(_ModuleRunner(module)))


if __name__ == "__main__":
    main()
