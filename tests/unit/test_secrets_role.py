"""roles/secrets: every Secret the role creates carries helm.sh/resource-policy: keep.

The chart carto/carto 1.287.1 renders Secrets with the role's default names while a feature is off (carto-postgresql
of its internal PostgreSQL, carto-tls of tlsCerts.autoGenerate); on the upgrade that turns the feature on, Helm would
delete the Secret the role has just written (it was in the previous revision, not in the new one). The behaviour on
the real chart is tested by tests/integration/test_real_chart.py (default shape upgraded to the production shape).
"""

import pathlib

import yaml

ROLE = pathlib.Path(__file__).resolve().parents[2] / "roles" / "secrets"


def _tasks(items):
    for task in items or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from _tasks(task.get(key))


def _secret_definitions():
    for path in sorted((ROLE / "tasks").glob("*.yml")):
        for task in _tasks(yaml.safe_load(path.read_text())):
            definition = (task.get("kubernetes.core.k8s") or {}).get("definition") or {}
            if definition.get("kind") == "Secret":
                yield path.name, task["name"], definition


def test_every_secret_is_kept_by_helm():
    found = list(_secret_definitions())
    assert len(found) >= 8, found  # Postgres, Redis, TLS, buckets, Google Maps, BigQuery, Redshift, Cloud SQL proxy
    for path, name, definition in found:
        assert definition["metadata"].get("annotations") == "{{ secrets_annotations }}", (path, name)
    annotations = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["secrets_annotations"]
    assert annotations == {"helm.sh/resource-policy": "keep"}
