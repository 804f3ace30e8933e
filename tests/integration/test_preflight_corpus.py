"""A corpus of bad inputs that only the cluster (or the rendered release sent to it) can reveal, each refused by the
preflight of playbooks/install.yml before the namespace or any Secret exists.

The cases are grouped into a few runs (capacity, kinds, API validation, and a mixed one); the cases of a
run are merged into one customization file, so a run is one CARTO installation with several problems, and every
problem must be named in its one failure. All runs go in ONE ansible-playbook of playbooks/install.yml: each run
is an inventory host of the group ``carto`` (its own namespace and output directory), in parallel with forks.
For each case the test asserts the failed check, that the message names the key, kind or node, and that the
run's namespace does not exist afterwards. A busy cluster and a refused upgrade are in test_preflight.py and
test_install_uninstall.py."""

import json
import pathlib
import re
import time
import uuid

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
BIG = {"requests": {"cpu": "20", "memory": "1Gi"}, "limits": {"cpu": "20", "memory": "1Gi"}}

SERVICE_MONITOR = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
                   "metadata": {"name": "carto-metrics"}, "spec": {"endpoints": [{"port": "http"}]}}
BAD_NAME = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Carto_Extra"}, "data": {"a": "b"}}

# (id, run, customization fragment or None, extra vars, failed check, substrings the message must contain).
# The cases of one run are merged into one customization file (one CARTO installation with all of them), so each
# run also proves that every problem is reported at once.
CASES = [
    # free capacity per node: the cluster's total (48 CPU, 192 GiB) would fit, no single node (16 CPU, 64 GiB) does
    ("capacity-cpu-per-node", "capacity", {"mapsApi": {"resources": BIG}}, {}, "node_capacity",
     ["Deployment carto-maps-api: ", "(each 20 CPU, 1.0 GiB) fit nowhere (kwok-node-0: "]),
    ("capacity-memory-per-node", "capacity",
     {"workspaceApi": {"resources": {"requests": {"memory": "80Gi", "cpu": "100m"},
                                     "limits": {"memory": "80Gi", "cpu": "1"}}}}, {}, "node_capacity",
     ["Deployment carto-workspace-api: ", "memory free"]),
    ("capacity-node-selector", "capacity", {"router": {"nodeSelector": {"pool": "gpu"}}}, {}, "node_capacity",
     ["Deployment carto-router: 1 of 1 replica(s)", "nodeSelector pool=gpu not matched"]),
    ("capacity-node-affinity", "capacity",
     {"importApi": {"nodeAffinityPreset": {"type": "hard", "key": "topology.kubernetes.io/zone",
                                           "values": ["zone-z"]}}}, {}, "node_capacity",
     ["Deployment carto-import-api: ", "required node affinity not matched"]),
    ("capacity-hard-anti-affinity", "capacity", {"ldsApi": {"replicaCount": 4, "podAntiAffinityPreset": "hard"}},
     {}, "node_count", ["Deployment carto-lds-api: 1 of 4 replica(s)",
                        "required anti-affinity (a replica is already there)"]),
    # kinds the cluster does not serve, named with the customization that brought them
    ("kinds-gke-ingress", "kinds", None, {"carto_ingress": {"enabled": True, "certificate": "google_managed",
                                                            "static_ip_name": "carto-ip"}}, "served_kinds",
     ["cloud.google.com/v1 BackendConfig", "brought by the GKE Ingress customization",
      "networking.gke.io/v1 ManagedCertificate"]),
    ("kinds-service-monitor", "mixed", {"extraDeploy": [SERVICE_MONITOR]}, {}, "served_kinds",
     ["monitoring.coreos.com/v1 ServiceMonitor (carto-metrics), brought by a monitoring customization"]),
    ("kinds-gateway-api", "mixed", {"gateway": {"enabled": True}}, {}, "gateway_api_crds",
     ["httproutes.gateway.networking.k8s.io", "set gateway.enabled: false"]),
    # the API server's own validation (server-side dry run), traced back to the values key
    ("api-service-type", "api", {"router": {"service": {"type": "Balancer"}}}, {}, "api_validation",
     ['Service carto-router: spec.type: Unsupported value: "Balancer"', "(values key router.service.type)"]),
    ("api-service-port-range", "api", {"router": {"service": {"ports": {"http": 70000}}}}, {}, "api_validation",
     ["spec.ports[0].port: Invalid value: 70000", "(values key router.service.ports.http)"]),
    ("api-cpu-request-over-limit", "api",
     {"mapsApi": {"resources": {"requests": {"cpu": "20", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}}},
     {}, "api_validation",
     ["Deployment carto-maps-api: ", "must be less than or equal to cpu limit of 1",
      "(values key mapsApi.resources.requests.cpu)"]),
    ("api-container-port", "api", {"workspaceApi": {"containerPorts": {"http": 70001}}}, {}, "api_validation",
     ["Deployment carto-workspace-api: ", "containerPort: Invalid value: 70001",
      "(values key workspaceApi.containerPorts.http)"]),
    ("api-source-ranges", "api",
     {"importApi": {"service": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["10.0.0.0/33"]}}}, {},
     "api_validation", ["Service carto-import-api: ", '"10.0.0.0/33"',
                        "(values key importApi.service.loadBalancerSourceRanges[0])"]),
    ("api-traffic-policy", "api", {"ldsApi": {"service": {"type": "LoadBalancer",
                                                          "externalTrafficPolicy": "Sometimes"}}}, {},
     "api_validation", ["Service carto-lds-api: ", 'Unsupported value: "Sometimes"',
                        "(values key ldsApi.service.externalTrafficPolicy)"]),
    ("api-extra-object-name", "api", {"extraDeploy": [BAD_NAME]}, {}, "api_validation",
     ["ConfigMap Carto_Extra: metadata.name: Invalid value: \"Carto_Extra\"", "RFC 1123"]),
    ("api-common-label", "mixed", {"commonLabels": {"team/carto/x": "a"}}, {}, "api_validation",
     ["and ", " more: metadata.labels: Invalid value: \"team/carto/x\""]),
]
RUNS = sorted(set(c[1] for c in CASES))


def _merge(into, extra):
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
    return into


@pytest.fixture(scope="module")
def corpus(local_cluster, carto_package, tmp_path_factory):
    """Run every run of the corpus in one ansible-playbook; return (result, {run: failure message},
    {run: namespace}, seconds)."""
    work = tmp_path_factory.mktemp("corpus")
    hosts, namespaces = {}, {}
    for run in RUNS:
        namespaces[run] = "c-%s-%s" % (run, uuid.uuid4().hex[:6])
        customization, extra = {}, {}
        for _case, case_run, fragment, case_vars, _check, _expect in CASES:
            if case_run == run:
                _merge(customization, json.loads(json.dumps(fragment or {})))
                extra.update(case_vars)
        host = dict(carto_package, ansible_connection="local", ansible_python_interpreter="{{ ansible_playbook_python }}",
                    carto_namespace=namespaces[run], carto_output_dir=str(work / run), carto_deploy_timeout=60,
                    carto_support_bundle_on_failure=False, **extra)
        if customization:
            path = work / ("%s.yaml" % run)
            path.write_text(yaml.safe_dump(customization))
            host["carto_customization_files"] = [str(path)]
        hosts[run] = host
    inventory = work / "inventory.yml"
    group_vars = yaml.safe_load((REPO / "inventories/local/group_vars/all/main.yml").read_text())
    inventory.write_text(yaml.safe_dump({"all": {"vars": group_vars, "children": {"carto": {"hosts": hosts}}}}))
    started = time.monotonic()
    result = local_cluster.run_playbook("playbooks/install.yml", inventory=str(inventory), args=("-f", str(len(RUNS))),
                                        env={"ANSIBLE_CALLBACK_RESULT_FORMAT": "json"}, timeout=900)
    seconds = time.monotonic() - started
    yield result, result.failures(), namespaces, seconds
    for namespace in namespaces.values():
        local_cluster.kubectl("delete", "namespace", namespace, "--ignore-not-found", "--wait=false", check=False)


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 15
    assert len(set(c[0] for c in CASES)) == len(CASES)


@pytest.mark.parametrize("case,run,check,expect", [(c[0], c[1], c[4], c[5]) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_refused_before_any_change(corpus, local_cluster, case, run, check, expect):
    result, messages, namespaces, _seconds = corpus
    assert result.rc != 0
    message = messages.get(run, "")
    assert message.startswith("Preflight failed"), (case, message or result.output[-3000:])
    assert re.search(r"(: | \| )%s: " % check, message), message
    for text in expect:
        assert text in message, (text, message)
    assert "Nothing in the cluster was changed" in message
    assert local_cluster.get_json("namespace", namespaces[run]) is None


def test_every_run_is_refused_in_seconds(corpus):
    """Each run (one installation with several problems) is refused by the preflight, all in one parallel
    ansible-playbook. That no run reached Helm is asserted per case (the failing task, no namespace); the time bound
    is a guard against a hang: 3 rollout timeouts (carto_deploy_timeout: 60 s), so a loaded 2-core machine, where the
    parallel run took 87 s once, does not fail it."""
    result, messages, _namespaces, seconds = corpus
    assert set(messages) == set(RUNS), (sorted(set(RUNS) - set(messages)), result.output[-3000:])
    assert seconds < 180, seconds
