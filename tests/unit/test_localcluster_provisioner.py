"""Unit tests of the local cluster's volume provisioner (tools/localcluster/cluster.py provisioner_actions)."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tools" / "localcluster"))

import cluster  # noqa: E402

STANDARD = {"metadata": {"name": "standard"}, "provisioner": cluster.PROVISIONER,
            "volumeBindingMode": "WaitForFirstConsumer", "reclaimPolicy": "Delete"}
IMMEDIATE = {"metadata": {"name": "fast"}, "provisioner": cluster.PROVISIONER, "reclaimPolicy": "Retain"}
NONE = {"metadata": {"name": "no-provisioner"}, "provisioner": "kubernetes.io/no-provisioner"}


def _claim(name, storage_class, node=None, phase="Pending"):
    annotations = {"volume.kubernetes.io/selected-node": node} if node else {}
    return {"metadata": {"name": name, "namespace": "ns", "uid": "u-" + name, "annotations": annotations},
            "spec": {"storageClassName": storage_class, "accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "8Gi"}}}, "status": {"phase": phase}}


def test_wait_for_first_consumer_waits_for_the_scheduler_then_gets_a_pv_on_that_node():
    assert cluster.provisioner_actions([_claim("a", "standard")], [STANDARD], [], "/v")[0] == []
    (pv,) = cluster.provisioner_actions([_claim("a", "standard", node="kwok-node-1")], [STANDARD], [], "/v")[0]
    assert pv["metadata"]["name"] == "pvc-u-a"
    assert pv["spec"]["claimRef"] == {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": "ns",
                                      "name": "a", "uid": "u-a"}
    assert pv["spec"]["capacity"] == {"storage": "8Gi"} and pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    term = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]
    assert term["values"] == ["kwok-node-1"]


def test_only_our_classes_pending_claims_without_a_volume():
    claims = [_claim("b", "fast"), _claim("c", "no-provisioner"), _claim("d", "fast", phase="Bound"),
              _claim("e", "missing")]
    creates = cluster.provisioner_actions(claims, [STANDARD, IMMEDIATE, NONE], [], "/v")[0]
    assert [pv["spec"]["claimRef"]["name"] for pv in creates] == ["b"]
    assert creates[0]["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    existing = [{"metadata": {"name": "pvc-u-b"}}]
    assert cluster.provisioner_actions(claims, [IMMEDIATE], existing, "/v")[0] == []


def test_released_volumes_are_deleted_per_reclaim_policy():
    def pv(name, policy, phase, ours=True):
        annotations = {"pv.kubernetes.io/provisioned-by": cluster.PROVISIONER} if ours else {}
        return {"metadata": {"name": name, "annotations": annotations},
                "spec": {"persistentVolumeReclaimPolicy": policy}, "status": {"phase": phase}}

    volumes = [pv("gone", "Delete", "Released"), pv("kept", "Retain", "Released"), pv("used", "Delete", "Bound"),
               pv("foreign", "Delete", "Released", ours=False)]
    assert cluster.provisioner_actions([], [], volumes, "/v")[1] == ["gone"]
