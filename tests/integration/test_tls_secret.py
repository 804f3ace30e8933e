"""The router TLS Secret is built only from a validated, complete chain (leaf first).

https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes "Use your own TLS certificate";
https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md
Troubleshooting (UNABLE_TO_VERIFY_LEAF_SIGNATURE: the intermediate must be in the Secret).
"""

import base64

DOMAIN = "carto.example.com"


def _tls_vars(base_vars, **tls):
    spec = {"mode": "existing_secret", "secret_name": "carto-own-tls"}
    spec.update(tls)
    return dict(base_vars, carto_domain=DOMAIN, carto_tls=spec)


def test_missing_intermediate_stops_before_any_change(local_cluster, base_vars, namespace, pki):
    std = pki.std
    extra = _tls_vars(base_vars,
                      certificate_file=pki.write("leaf-only.pem", pki.pem(std["leaf"])),
                      private_key_file=pki.write("leaf.key", pki.key_pem(std["leaf_key"])),
                      ca_bundle_file=pki.write("root.pem", pki.pem(std["root"])))
    result = local_cluster.run_playbook("playbooks/install.yml", extra)
    assert result.rc != 0, str(result)
    assert "nothing was created in the cluster" in result.output, str(result)
    assert "Test Intermediate CA" in result.output, str(result)  # the missing issuer is named
    assert "UNABLE_TO_VERIFY_LEAF_SIGNATURE" in result.output, str(result)
    # No namespace, so no Secret and no release.
    assert local_cluster.kubectl("get", "namespace", namespace, check=False).returncode != 0


def test_key_mismatch_and_wrong_domain_are_reported_together(local_cluster, base_vars, namespace, pki):
    std = pki.std
    other_key = pki.key("other")
    extra = _tls_vars(base_vars,
                      certificate_file=pki.write("chain.pem", pki.pem(std["leaf"], std["inter"])),
                      private_key_file=pki.write("other.key", pki.key_pem(other_key)),
                      ca_bundle_file=pki.write("root.pem", pki.pem(std["root"])))
    extra["carto_domain"] = "maps.other-domain.test"
    result = local_cluster.run_playbook("playbooks/install.yml", extra)
    assert result.rc != 0, str(result)
    assert "[private_key_match]" in result.output, str(result)
    assert "[hostname]" in result.output, str(result)
    assert "maps.other-domain.test" in result.output, str(result)
    assert local_cluster.kubectl("get", "namespace", namespace, check=False).returncode != 0
    # The private key never reaches the output.
    assert pki.key_pem(other_key).splitlines()[1] not in result.output


def test_completed_and_reordered_chain_makes_a_working_tls_secret(local_cluster, base_vars, namespace, pki):
    std = pki.std
    # The bundle is misordered (intermediate first) and lacks nothing; a second run gets only the
    # leaf plus the intermediate as an extra certificate: both must store leaf -> intermediate.
    extra = _tls_vars(base_vars,
                      certificate_file=pki.write("misordered.pem", pki.pem(std["inter"], std["leaf"])),
                      private_key_file=pki.write("leaf.key", pki.key_pem(std["leaf_key"])),
                      ca_bundle_file=pki.write("root.pem", pki.pem(std["root"])))
    first = local_cluster.run_playbook("playbooks/install.yml", extra)
    assert first.rc == 0, str(first)
    secret = local_cluster.get_json("secret", "carto-own-tls", "-n", namespace)
    assert secret["type"] == "kubernetes.io/tls"
    stored = base64.b64decode(secret["data"]["tls.crt"]).decode()
    assert stored == pki.pem(std["leaf"], std["inter"])
    assert base64.b64decode(secret["data"]["tls.key"]).decode() == pki.key_pem(std["leaf_key"])
    # The chart was pointed at it.
    values = local_cluster.helm("get", "values", "carto", "-n", namespace, "-o", "json").stdout
    assert '"name":"carto-own-tls"' in values.replace(" ", "")

    completed = dict(extra)
    completed["carto_tls"] = dict(extra["carto_tls"],
                                  certificate_file=pki.write("leaf-only.pem", pki.pem(std["leaf"])),
                                  extra_certificates_file=pki.write("extra.pem", pki.pem(std["inter"])))
    second = local_cluster.run_playbook("playbooks/install.yml", completed)
    assert second.rc == 0, str(second)
    # Same chain as before: nothing changes.
    assert second.recap.get("changed") == 0, str(second)
    stored = base64.b64decode(local_cluster.get_json("secret", "carto-own-tls", "-n", namespace)
                              ["data"]["tls.crt"]).decode()
    assert stored == pki.pem(std["leaf"], std["inter"])
