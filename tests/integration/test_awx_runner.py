"""playbooks/install.yml, verify.yml and uninstall.yml run the way AWX runs a job: by ansible-runner (AWX's own job
runner) in a private data directory laid out as AWX lays it out.

- ``project/``: the project checkout (AWX copies the SCM project there); ``requirements_collections/`` holds the
  collections of the project's requirements (AWX installs them there and puts the directory first in
  ``ANSIBLE_COLLECTIONS_PATHS``);
- ``inventory/hosts``: the job's inventory with its variables (AWX writes the inventory it synced);
- ``env/extravars``: the job template's extra vars plus what credentials inject as extra vars;
- ``env/envvars``: what credentials inject as environment (``K8S_AUTH_KUBECONFIG``, ``KUBECONFIG``);
- credential files: the ``file`` injectors of awx/vars/controller.yml, rendered here as AWX renders them (Jinja,
  ``tower.filename.<name>`` is the path of the file written for ``template.<name>``), mode 0600.

The credential types are the ones awx/configure.yml creates ("CARTO installation package" and
"Kubernetes kubeconfig (K8S_AUTH)"), so the test also proves their injectors give the playbooks what they need.
It asserts each job's status, the ``set_stats`` data in the ``playbook_on_stats`` event (AWX's job artifacts),
and that no secret value (package secrets, the kubeconfig's client key) appears in any job event.
"""

import json
import os
import pathlib

import jinja2.sandbox
import pytest
import yaml

ansible_runner = pytest.importorskip("ansible_runner", reason="ansible-runner (requirements.txt) is not installed")

REPO = pathlib.Path(__file__).resolve().parents[2]


class _UnsafeLoader(yaml.SafeLoader):
    """Reads the ``!unsafe`` strings of awx/vars (Ansible's tag for "do not template") as plain strings."""


_UnsafeLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def _credential_type(name):
    data = yaml.load((REPO / "awx" / "vars" / "controller.yml").read_text(), Loader=_UnsafeLoader)  # noqa: S506
    return next(t for t in data["carto_awx_credential_types"] if t["name"] == name)


class _Namespace(object):
    """AWX's ``TowerNamespace``: ``tower.filename.<name>`` is an attribute (``values`` is a file name, not the
    dict method)."""


def _inject(credential_type, inputs, directory):
    """What AWX does with a credential at job start (awx/main/models/credential.py ``inject_credential``): writes
    each ``file`` injector to a 0600 file, then renders ``env`` and ``extra_vars`` in a sandboxed Jinja environment
    with ``tower.filename``. Returns (env, extra_vars)."""
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    injectors = credential_type["injectors"]
    filenames = {}
    for key, template in injectors.get("file", {}).items():
        name = key.split(".", 1)[1]
        path = directory / ("cred-%s-%s" % (credential_type["name"].split()[0].lower(), name))
        fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(env.from_string(template).render(**inputs))
        filenames[name] = str(path)
    tower = _Namespace()
    tower.filename = _Namespace()
    for name, path in filenames.items():
        setattr(tower.filename, name, path)
    context = dict(inputs, tower=tower)
    render = {k: env.from_string(v).render(**context) for k, v in injectors.get("env", {}).items()}
    extra = {k: env.from_string(v).render(**context) for k, v in injectors.get("extra_vars", {}).items()}
    return render, extra


def _secret_values(carto_package, kubeconfig):
    """Every value that must never reach a job event."""
    values = []

    def walk(node):
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and len(node) >= 12:
            values.append(node)

    walk(yaml.safe_load(pathlib.Path(carto_package["carto_package_secrets_file"]).read_text()))
    for user in yaml.safe_load(pathlib.Path(kubeconfig).read_text())["users"]:
        values.append(user["user"]["client-key-data"])
    return values


@pytest.fixture
def private_data_dir(tmp_path, local_cluster, carto_package, namespace):
    pdd = tmp_path / "pdd"
    for sub in ("env", "inventory", "requirements_collections/ansible_collections/carto"):
        (pdd / sub).mkdir(parents=True)
    (pdd / "project").symlink_to(REPO)
    (pdd / "requirements_collections/ansible_collections/carto/selfhosted").symlink_to(REPO)
    package_type = _credential_type("CARTO installation package")
    kube_type = _credential_type("Kubernetes kubeconfig (K8S_AUTH)")
    package_vars = _inject(package_type, {
        "carto_values": pathlib.Path(carto_package["carto_package_values_file"]).read_text(),
        "carto_secrets": pathlib.Path(carto_package["carto_package_secrets_file"]).read_text()}, pdd / "env")[1]
    kube_env = _inject(kube_type, {"kubeconfig": pathlib.Path(local_cluster.kubeconfig).read_text()},
                       pdd / "env")[0]
    # The job's inventory: what AWX syncs from inventories/local, but the cluster comes from the credential
    # (K8S_AUTH_KUBECONFIG), not from a kubeconfig path of the inventory.
    group_vars = yaml.safe_load((REPO / "inventories/local/group_vars/all/main.yml").read_text())
    group_vars.pop("carto_kubeconfig")
    group_vars.update(carto_local_repo_dir=str(REPO), carto_namespace=namespace, carto_output_dir=str(tmp_path / "out"),
                      carto_deploy_timeout=120)
    (pdd / "inventory" / "hosts").write_text(yaml.safe_dump({"all": {"vars": group_vars, "children": {
        "carto": {"hosts": {"localhost": {"ansible_connection": "local",
                                          "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}}}))
    (pdd / "env" / "extravars").write_text(json.dumps(package_vars))
    envvars = dict(kube_env)
    envvars.update({
        "ANSIBLE_COLLECTIONS_PATHS": str(pdd / "requirements_collections"),
        "ANSIBLE_COLLECTIONS_PATH": str(pdd / "requirements_collections"),
        "ANSIBLE_ROLES_PATH": str(REPO / "roles"),
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "PATH": local_cluster.env["PATH"],
        "ANSIBLE_NOCOLOR": "1",
    })
    (pdd / "env" / "envvars").write_text(json.dumps(envvars))
    os.chmod(str(pdd / "env" / "envvars"), 0o600)
    os.chmod(str(pdd / "env" / "extravars"), 0o600)
    return pdd, kube_env, package_vars


def _job(pdd, playbook):
    runner = ansible_runner.run(private_data_dir=str(pdd), playbook=playbook, quiet=True,
                                envvars=json.loads((pdd / "env" / "envvars").read_text()))
    events = list(runner.events)
    stats = [e for e in events if e.get("event") == "playbook_on_stats"]
    return runner, events, (stats[-1]["event_data"].get("artifact_data") or {}) if stats else {}


def _assert_no_secret(events, secrets):
    for event in events:
        text = json.dumps(event)
        leaked = [s[:4] + "..." for s in secrets if s in text]
        assert not leaked, "secret values %s in job event %s (%s)" % (leaked, event.get("counter"), event.get("event"))


def test_install_verify_uninstall_as_an_awx_job(private_data_dir, local_cluster, carto_package, namespace):
    pdd, kube_env, package_vars = private_data_dir
    assert kube_env["K8S_AUTH_KUBECONFIG"] == kube_env["KUBECONFIG"] and os.path.isfile(kube_env["KUBECONFIG"])
    assert oct(os.stat(package_vars["carto_package_secrets_file"]).st_mode & 0o777) == "0o600"
    secrets = _secret_values(carto_package, local_cluster.kubeconfig)
    assert secrets

    runner, events, artifacts = _job(pdd, "playbooks/install.yml")
    assert (runner.status, runner.rc) == ("successful", 0), runner.stdout.read()[-4000:]
    report = artifacts["carto_install_report"]
    assert report["result"] == "succeeded" and report["namespace"] == namespace, report
    assert artifacts["carto_install_reports"] == {"localhost": report}, artifacts
    assert report["changed"] is True, report
    _assert_no_secret(events, secrets)
    assert local_cluster.helm("status", "carto", "-n", namespace).returncode == 0

    runner, events, artifacts = _job(pdd, "playbooks/verify.yml")
    assert (runner.status, runner.rc) == ("successful", 0), runner.stdout.read()[-4000:]
    verify = artifacts["carto_verify_report"]
    assert verify["verdict"] == "passed" and artifacts["carto_verify_reports"] == {"localhost": verify}, verify
    _assert_no_secret(events, secrets)

    runner, events, artifacts = _job(pdd, "playbooks/uninstall.yml")
    assert (runner.status, runner.rc) == ("successful", 0), runner.stdout.read()[-4000:]
    assert artifacts["carto_uninstall_report"]["namespace"] == namespace, artifacts
    _assert_no_secret(events, secrets)
    assert local_cluster.helm("status", "carto", "-n", namespace, check=False).returncode != 0
