"""Server-side dry run of the rendered objects (api_validation preflight check)."""

from ansible_collections.carto.selfhosted.plugins.module_utils._preflight import api_validation as av

RESOURCES = [{"apiVersion": "v1", "kind": "Service", "resource": "services", "namespaced": True},
             {"apiVersion": "apps/v1", "kind": "Deployment", "resource": "deployments", "namespaced": True},
             {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "resource": "clusterroles",
              "namespaced": False}]
OBJECTS = [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "carto-router", "namespace": "x"}},
           {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "carto-maps-api"}},
           {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "carto-read", "namespace": "x"}},
           {"apiVersion": "cloud.google.com/v1", "kind": "BackendConfig", "metadata": {"name": "bc"}}]
INVALID_SERVICE = {"kind": "Status", "status": "Failure", "reason": "Invalid", "code": 422,
                   "message": 'Service "carto-router" is invalid: spec.type: Unsupported value: "Balancer": '
                              'supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
                   "details": {"causes": [{"reason": "FieldValueNotSupported", "field": "spec.type",
                                           "message": 'Unsupported value: "Balancer": supported values: '
                                                      '"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'}]}}


def test_requests_target_the_namespace_and_skip_unserved_kinds():
    reqs = av.requests(OBJECTS, RESOURCES, "default")
    assert [r["path"] for r in reqs] == ["/api/v1/namespaces/default/services/carto-router",
                                         "/apis/apps/v1/namespaces/default/deployments/carto-maps-api",
                                         "/apis/rbac.authorization.k8s.io/v1/clusterroles/carto-read"]
    assert reqs[0]["body"]["metadata"]["namespace"] == "default"
    assert "namespace" not in reqs[2]["body"]["metadata"]
    assert OBJECTS[0]["metadata"]["namespace"] == "x"  # the manifest is not modified


def test_refusals_name_object_field_message_and_values_key():
    def send(path, body):
        return (422, INVALID_SERVICE) if body["kind"] == "Service" else (200, {})
    values = {"router": {"service": {"type": "Balancer"}}, "mapsApi": {"service": {"type": "ClusterIP"}},
              "other": {"label": "Balancer-ish"}}
    refused = av.run(send, OBJECTS, RESOURCES, "default")
    assert [r["name"] for r in refused] == ["carto-router"]
    result = av.check_api_validation(refused, values, namespace="carto", fallback="default")
    assert result["status"] == "failed"
    assert ('Service carto-router: spec.type: Unsupported value: "Balancer"' in result["message"])
    assert "(values key router.service.type)" in result["message"]
    assert "into namespace default, carto does not exist yet" in result["message"]


def test_trace_key_prefers_the_leaf_closest_to_the_field_and_object():
    values = {"router": {"resources": {"requests": {"cpu": "20"}, "limits": {"cpu": "1"}}},
              "mapsApi": {"replicaCount": 20}}
    message = 'Invalid value: "20": must be less than or equal to cpu limit of 1'
    key = av.trace_key(values, "Deployment", "carto-router", "spec.template.spec.containers[0].resources.requests",
                       message)
    assert key == "router.resources.requests.cpu"
    assert av.trace_key(values, "Deployment", "carto-router", "spec.x", "field is immutable") is None


def test_forbidden_and_webhook_dry_run_refusals_are_warnings():
    refused = [{"kind": "Deployment", "name": "d", "status": 403, "reason": "Forbidden", "message": "forbidden",
                "causes": []},
               {"kind": "Service", "name": "s", "status": 400, "reason": "BadRequest",
                "message": 'admission webhook "x" does not support dry run', "causes": []}]
    result = av.check_api_validation(refused, {})
    assert result["status"] == "warning" and not result["required"]
    assert av.check_api_validation([], {}, namespace="carto", fallback="carto")["status"] == "passed"
    assert av.check_api_validation(None, {}, error="boom")["status"] == "skipped"
