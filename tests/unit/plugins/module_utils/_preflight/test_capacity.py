"""First-fit of the release's pods onto the nodes' free capacity (node_capacity preflight check)."""

from ansible_collections.carto.selfhosted.plugins.module_utils import carto_preflight as pf
from ansible_collections.carto.selfhosted.plugins.module_utils._preflight import capacity as cap
from ansible_collections.carto.selfhosted.plugins.module_utils._preflight.quantity import pod_requests


def W(objects):
    """The workloads of rendered objects, as carto_preflight hands them to the capacity check."""
    return pf.workloads(objects)


def node(name, cpu="4", memory="8Gi", pods="110", labels=None, taints=None, ready=True, unschedulable=False):
    return {"metadata": {"name": name, "labels": dict(labels or {}, **{"kubernetes.io/hostname": name})},
            "spec": {"taints": taints or [], "unschedulable": unschedulable},
            "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": pods},
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def pod(node_name, cpu="0", memory="0", namespace="other", labels=None, phase="Running"):
    return {"metadata": {"name": "p", "namespace": namespace, "labels": labels or {}},
            "spec": {"nodeName": node_name, "containers": [{"name": "c", "resources": {
                "requests": {"cpu": cpu, "memory": memory}}}]},
            "status": {"phase": phase}}


def deployment(name, replicas=1, cpu="1", memory="1Gi", spread=False, node_selector=None, tolerations=None,
               init_cpu=None):
    labels = {"app.kubernetes.io/component": name}
    spec = {"containers": [{"name": name, "resources": {"requests": {"cpu": cpu, "memory": memory}}}]}
    if init_cpu:
        spec["initContainers"] = [{"name": "init", "resources": {"requests": {"cpu": init_cpu}}}]
    if spread:
        spec["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": labels}}]}}
    if node_selector:
        spec["nodeSelector"] = node_selector
    if tolerations:
        spec["tolerations"] = tolerations
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "template": {"metadata": {"labels": labels}, "spec": spec}}}


def test_requests_of_other_pods_are_subtracted_per_node():
    nodes = [node("n1", cpu="4"), node("n2", cpu="4")]
    busy = [pod("n1", cpu="3900m"), pod("n2", cpu="3900m")]
    result = cap.check_node_capacity(nodes, busy, W([deployment("carto-maps-api", cpu="500m")]))
    assert result["status"] == "failed"
    assert "Deployment carto-maps-api: 1 of 1 replica(s) (each 500m CPU, 1.0 GiB) fit nowhere" in result["message"]
    assert "n1: 100m CPU free" in result["message"] and "n2: 100m CPU free" in result["message"]
    # total allocatable (8 CPU) would have passed: the free capacity is what counts
    assert cap.check_node_capacity(nodes, [], W([deployment("carto-maps-api", cpu="500m")]))["status"] == "passed"


def test_finished_pods_and_the_releases_own_pods_are_not_counted():
    nodes = [node("n1", cpu="2")]
    own = pod("n1", cpu="2", namespace="carto", labels={"app.kubernetes.io/instance": "carto"})
    done = pod("n1", cpu="2", phase="Succeeded")
    objects = [deployment("carto-router", cpu="1")]
    assert cap.check_node_capacity(nodes, [own, done], W(objects), release="carto", namespace="carto")["status"] == "passed"
    # the same pod in another namespace (another release of the same name) counts
    other = pod("n1", cpu="2", namespace="staging", labels={"app.kubernetes.io/instance": "carto"})
    assert cap.check_node_capacity(nodes, [other], W(objects), release="carto", namespace="carto")["status"] == "failed"


def test_untolerated_taints_selectors_and_cordons_are_named():
    nodes = [node("gpu", taints=[{"key": "gpu", "value": "true", "effect": "NoSchedule"}]),
             node("cordoned", unschedulable=True), node("down", ready=False), node("plain", labels={"pool": "a"})]
    objects = [deployment("carto-router", node_selector={"pool": "b"})]
    message = cap.check_node_capacity(nodes, [], W(objects))["message"]
    assert "gpu: taint gpu=true:NoSchedule not tolerated" in message
    assert "cordoned: cordoned" in message and "down: not Ready" in message
    assert "plain: nodeSelector pool=b not matched" in message
    tolerant = [deployment("carto-router", tolerations=[{"key": "gpu", "operator": "Exists"}])]
    assert cap.check_node_capacity(nodes[:1], [], W(tolerant))["status"] == "passed"


def test_required_anti_affinity_needs_one_node_per_replica():
    nodes = [node("n1", cpu="16"), node("n2", cpu="16")]
    result = cap.check_node_capacity(nodes, [], W([deployment("carto-maps-api", replicas=3, spread=True)]))
    assert result["status"] == "failed"
    assert "1 of 3 replica(s)" in result["message"] and "required anti-affinity" in result["message"]
    assert cap.check_node_capacity(nodes, [], W([deployment("carto-maps-api", replicas=3)]))["status"] == "passed"


def test_first_fit_places_large_pods_first_and_counts_pod_slots():
    nodes = [node("n1", cpu="3"), node("n2", cpu="2", pods="1")]
    objects = [deployment("small", cpu="1500m"), deployment("big", cpu="2"), deployment("mid", cpu="1500m")]
    result = cap.fit(nodes, [], loads=W(objects))
    assert result["unplaced"][0]["workload"] == "Deployment small"
    assert "n1: 1 CPU free; n2: 500m CPU free, no pod slot free" in cap.check_node_capacity(nodes, [], W(objects))["message"]


def test_init_container_request_counts_when_larger():
    assert pod_requests(deployment("x", cpu="100m", init_cpu="2")["spec"]["template"]["spec"])[0] == 2000


def test_tolerations_and_node_affinity_operators():
    taint = {"key": "k", "value": "v", "effect": "NoExecute"}
    assert cap.tolerates([{"operator": "Exists"}], taint)
    assert cap.tolerates([{"key": "k", "value": "v"}], taint)
    assert not cap.tolerates([{"key": "k", "value": "w"}], taint)
    assert not cap.tolerates([{"key": "k", "operator": "Exists", "effect": "NoSchedule"}], taint)
    spec = {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]},
                              {"key": "spot", "operator": "DoesNotExist"}]}]}}}}
    assert cap.node_matches(spec, {"zone": "a"}) is None
    assert cap.node_matches(spec, {"zone": "c"}) == "required node affinity"
    assert cap.node_matches(spec, {"zone": "a", "spot": "1"}) == "required node affinity"


def test_unreadable_inputs_skip():
    assert cap.check_node_capacity(None, [], [])["status"] == "skipped"
    assert cap.check_node_capacity([], None, [])["status"] == "skipped"


def test_hpa_min_replicas_when_no_replicas():
    dep = deployment("carto-maps-api")
    del dep["spec"]["replicas"]
    hpa = {"kind": "HorizontalPodAutoscaler", "spec": {"scaleTargetRef": {"kind": "Deployment",
                                                                          "name": "carto-maps-api"},
                                                       "minReplicas": 3}}
    assert len(cap.release_pods(W([dep, hpa]))) == 3
