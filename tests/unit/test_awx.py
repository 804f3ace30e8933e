"""AWX as code (awx/): the job template definitions, rendered by awx/configure.yml itself, match the playbooks.

awx/configure.yml is run in its render-only mode (no AWX needed); the rendered job templates, surveys and
credential types are checked against what the playbooks accept: the options of the roles' argument specs
and the collection-wide carto_* inputs read by the roles' defaults and the playbooks.
"""

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

# Module-scoped fixtures (one cluster setup or artifact for the whole file): keep the file on one
# xdist worker (--dist loadgroup); the other tests are spread one by one.
pytestmark = pytest.mark.xdist_group("awx")


ROOT = pathlib.Path(__file__).resolve().parents[2]
AWX = ROOT / "awx"
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}
CARTO_VAR = re.compile(r"\b(carto_[a-z0-9_]+)\b")
JINJA_NAME = re.compile(r"\b([a-z_][a-z0-9_]*)\b")
EXPECTED_TEMPLATES = ("install", "upgrade", "verify", "support bundle", "uninstall")


def _yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _run_render(tmp_path, *extra):
    out = tmp_path / "awx.json"
    proc = subprocess.run(
        ["ansible-playbook", str(AWX / "configure.yml"), "-e", "carto_awx_render_file=%s" % out] + list(extra),
        cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:]
    return json.loads(out.read_text(encoding="utf-8")), proc.stdout


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    return _run_render(tmp_path_factory.mktemp("awx"))[0]


def _role_dirs_of(playbook):
    """Roles a playbook runs (roles:, import_role, include_role), as directories of this collection."""
    names = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("ansible.builtin.import_role", "ansible.builtin.include_role", "import_role",
                           "include_role") and isinstance(value, dict):
                    names.add(value["name"])
                elif key == "roles" and isinstance(value, list):
                    names.update(r if isinstance(r, str) else r.get("role") or r.get("name") for r in value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(_yaml(playbook))
    return [ROOT / "roles" / n.split(".")[-1] for n in sorted(names) if n.startswith("carto.selfhosted.")]


def accepted_variables(playbook):
    """Variables a playbook takes: role argument spec options and the carto_* names the playbook and roles read."""
    playbook = ROOT / playbook
    accepted = set(CARTO_VAR.findall(playbook.read_text(encoding="utf-8")))
    for play in _yaml(playbook):
        accepted.update((play.get("vars") or {}).keys())
    for role_dir in _role_dirs_of(playbook):
        specs_file = role_dir / "meta" / "argument_specs.yml"
        if specs_file.is_file():
            for spec in (_yaml(specs_file).get("argument_specs") or {}).values():
                accepted.update((spec.get("options") or {}).keys())
        for path in role_dir.rglob("*.yml"):
            accepted.update(CARTO_VAR.findall(path.read_text(encoding="utf-8")))
    return accepted


def _argument_spec(role, option):
    return _yaml(ROOT / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"][option]


def _template(value, variables):
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(value))


def _job_template(rendered, kind):
    matches = [jt for jt in rendered["job_templates"] if jt["name"].endswith(" - " + kind)]
    assert len(matches) == 1, [jt["name"] for jt in rendered["job_templates"]]
    return matches[0]


def test_one_job_template_per_operation(rendered):
    names = sorted(jt["name"] for jt in rendered["job_templates"])
    assert names == sorted("CARTO Self-Hosted - %s" % kind for kind in EXPECTED_TEMPLATES)
    for jt in rendered["job_templates"]:
        assert jt["project"] == rendered["project"]["name"]
        assert jt["inventory"] == rendered["inventory"]["name"]
        assert jt["execution_environment"] == rendered["execution_environment"]["name"]
        assert "{{" not in json.dumps({k: v for k, v in jt.items() if k != "extra_vars"}), jt["name"]


def test_prefix_and_defaults_are_rendered(tmp_path):
    data = _run_render(tmp_path, "-e", "carto_awx_name_prefix=ACME", "-e", "carto_awx_domain=maps.acme.test")[0]
    install = _job_template(data, "install")
    assert install["name"] == "ACME Self-Hosted - install"
    assert install["credentials"] == ["ACME installation package", "ACME Kubernetes cluster"]
    domain = [q for q in install["survey_spec"]["spec"] if q["variable"] == "carto_domain"][0]
    assert domain["default"] == "maps.acme.test"


@pytest.mark.parametrize("kind", EXPECTED_TEMPLATES)
def test_job_template_playbook_exists(rendered, kind):
    playbook = _job_template(rendered, kind)["playbook"]
    assert (ROOT / playbook).is_file(), "%s: the job template runs %s, which does not exist" % (kind, playbook)


@pytest.mark.parametrize("kind", EXPECTED_TEMPLATES)
def test_survey_and_extra_vars_use_variables_the_playbook_accepts(rendered, kind):
    jt = _job_template(rendered, kind)
    if not (ROOT / jt["playbook"]).is_file():
        pytest.skip("%s does not exist (test_job_template_playbook_exists fails for it)" % jt["playbook"])
    accepted = accepted_variables(jt["playbook"])
    extra_text = json.dumps(jt["extra_vars"])
    for name in jt["extra_vars"]:
        assert name in accepted, "%s: extra var %s is not an input of %s" % (kind, name, jt["playbook"])
    for question in jt["survey_spec"]["spec"]:
        var = question["variable"]
        consumed = var in set(JINJA_NAME.findall(extra_text))
        assert var in accepted or consumed, (
            "%s: survey variable %s is neither an input of %s nor used by the template's extra_vars" %
            (kind, var, jt["playbook"]))


def test_accepted_variables_are_computed_from_the_roles():
    accepted = accepted_variables("playbooks/install.yml")
    # argument spec options and carto_* inputs of roles' defaults, and nothing invented
    assert {"values_router_service", "verify_timeout", "carto_domain", "carto_chart_version",
            "carto_package_values_file", "carto_deploy_timeout", "carto_kubeconfig"} <= accepted
    assert "carto_awx_exposure_type" not in accepted
    assert "carto_uninstall_delete_secrets" in accepted_variables("playbooks/uninstall.yml")
    assert "carto_uninstall_delete_secrets" not in accepted


@pytest.mark.parametrize("kind", EXPECTED_TEMPLATES)
def test_survey_specs_are_valid_for_awx(rendered, kind):
    jt = _job_template(rendered, kind)
    spec = jt["survey_spec"]["spec"]
    assert jt["survey_enabled"] is bool(spec)
    assert len({q["variable"] for q in spec}) == len(spec), "duplicate survey variables"
    for q in spec:
        assert q["type"] in SURVEY_TYPES, q
        assert re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", q["variable"]), q
        assert q["question_name"] and isinstance(q["required"], bool), q
        if q["type"] in ("multiplechoice", "multiselect"):
            assert isinstance(q["choices"], list) and q["choices"], q
            assert q.get("default", "") in q["choices"] + [""], q
            if q.get("required"):
                assert q.get("default") in q["choices"], "a required choice needs a default: %s" % q
        if q["type"] == "integer":
            assert isinstance(q["default"], int) and q["min"] <= q["default"] <= q["max"], q
        if q["type"] == "text" and q.get("default"):
            assert q["min"] <= len(q["default"]) <= q["max"], q


def test_survey_defaults_match_the_roles(rendered):
    for kind in ("install", "upgrade"):
        spec = {q["variable"]: q for q in _job_template(rendered, kind)["survey_spec"]["spec"]}
        exposure = spec["carto_awx_exposure_type"]
        assert exposure["choices"] == _argument_spec("values", "values_router_service")["options"]["type"]["choices"]
        assert spec["carto_deploy_timeout"]["default"] == _argument_spec("deploy", "deploy_timeout")["default"]
        assert spec["carto_domain"]["required"] is True
        assert spec["carto_chart_version"]["required"] is True
    install = {q["variable"]: q for q in _job_template(rendered, "install")["survey_spec"]["spec"]}
    assert install["carto_chart_version"]["default"] == _argument_spec("deploy", "deploy_chart_version")["default"]
    upgrade = {q["variable"]: q for q in _job_template(rendered, "upgrade")["survey_spec"]["spec"]}
    assert upgrade["carto_chart_version"]["default"] == "", "an upgrade must name its target version"
    verify = {q["variable"]: q for q in _job_template(rendered, "verify")["survey_spec"]["spec"]}
    assert verify["verify_timeout"]["default"] == _argument_spec("verify", "verify_timeout")["default"]


@pytest.mark.parametrize("answer", ["", "ClusterIP", "LoadBalancer", "NodePort"])
def test_exposure_answer_renders_a_valid_router_service(rendered, answer):
    """What AWX does at launch: template the job template's extra_vars with the survey answers and inventory."""
    jt = _job_template(rendered, "install")
    inventory = {"carto_router_service": {"type": "LoadBalancer",
                                          "annotations": {"service.beta.kubernetes.io/aws-load-balancer-"
                                                          "connection-idle-timeout": "605"}}}
    variables = dict(inventory)
    if answer:
        variables["carto_awx_exposure_type"] = answer
    result = _template(jt["extra_vars"]["values_router_service"], variables)
    assert result["type"] == (answer or "LoadBalancer")
    assert result["annotations"] == inventory["carto_router_service"]["annotations"]
    spec = {"values_router_service": _argument_spec("values", "values_router_service")}
    validation = ArgumentSpecValidator(spec).validate({"values_router_service": result})
    assert not validation.error_messages, validation.error_messages

    # no inventory setting: the survey answer alone, or the role's own default
    without_inventory = {k: v for k, v in variables.items() if k != "carto_router_service"}
    alone = _template(jt["extra_vars"]["values_router_service"], without_inventory)
    assert alone == {"type": answer or "ClusterIP"}


def test_an_invalid_exposure_is_refused_by_the_role_spec(rendered):
    jt = _job_template(rendered, "install")
    result = _template(jt["extra_vars"]["values_router_service"], {"carto_awx_exposure_type": "Ingress"})
    spec = {"values_router_service": _argument_spec("values", "values_router_service")}
    assert ArgumentSpecValidator(spec).validate({"values_router_service": result}).error_messages


def test_uninstall_answers_are_booleans(rendered):
    for q in _job_template(rendered, "uninstall")["survey_spec"]["spec"]:
        assert q["variable"] in ("carto_uninstall_delete_secrets", "carto_uninstall_delete_namespace")
        assert q["default"] == "false" and sorted(q["choices"]) == ["false", "true"]
        # uninstall.yml reads them with `| bool`
        text = (ROOT / "playbooks" / "uninstall.yml").read_text(encoding="utf-8")
        assert "%s | default(false) | bool" % q["variable"] in text


def test_credentials_of_each_job_template(rendered):
    names = rendered["credentials"]
    for kind in EXPECTED_TEMPLATES:
        creds = _job_template(rendered, kind)["credentials"]
        assert names["cluster"] in creds
        assert (names["package"] in creds) is (kind in ("install", "upgrade"))


def test_job_templates_do_not_expose_secrets(rendered):
    for jt in rendered["job_templates"]:
        assert jt["diff_mode"] is False, jt["name"]
        assert jt["verbosity"] <= 1, jt["name"]
        assert jt["ask_variables_on_launch"] is False, jt["name"]
        for q in jt["survey_spec"]["spec"]:
            assert "secret" not in q["variable"] or q["variable"].startswith("carto_uninstall_"), q
    configure = _yaml(AWX / "configure.yml")
    tasks = [t for block in configure[0]["tasks"] for t in block.get("block", [block])]
    tasks += _yaml(AWX / "tasks" / "apply.yml")  # the apply half, included only when applying
    assert sum("awx.awx.credential" in task for task in tasks) == 2
    for task in tasks:
        if "awx.awx.credential" in task:
            assert task.get("no_log") is True, task["name"]


def _k8s_env_names():
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
    from ansible_collections.kubernetes.core.plugins.module_utils.helm_args_common import HELM_AUTH_ARG_SPEC
    k8s = set()
    for name, spec in AUTH_ARG_SPEC.items():
        k8s.update("K8S_AUTH_" + n.upper() for n in [name] + list(spec.get("aliases", [])))
    helm = {env for spec in HELM_AUTH_ARG_SPEC.values() for env in (spec.get("fallback") or (None, []))[1]}
    return k8s, helm


def test_credential_types_inject_what_the_playbooks_read(rendered):
    types = {ct["name"]: ct for ct in rendered["credential_types"]}
    k8s_env, helm_env = _k8s_env_names()
    install_inputs = accepted_variables("playbooks/install.yml")
    for name, ct in types.items():
        fields = {f["id"]: f for f in ct["inputs"]["fields"]}
        assert set(ct["inputs"]["required"]) <= set(fields), name
        injectors = ct["injectors"]
        files = {key.split(".", 1)[1] for key in injectors.get("file", {})}
        for section in ("file", "env", "extra_vars"):
            for key, template in injectors.get(section, {}).items():
                used = set(re.findall(r"{{\s*([a-z_]+)", template)) - {"tower"}
                assert used <= set(fields), (name, key, used)
                assert set(re.findall(r"tower\.filename\.([a-z_]+)", template)) <= files, (name, key)
        for key in injectors.get("env", {}):
            if key.startswith("K8S_AUTH_"):
                assert key in k8s_env and key in helm_env, (name, key)
            else:
                assert key == "KUBECONFIG", (name, key)
        for key, template in injectors.get("extra_vars", {}).items():
            assert key in install_inputs, (name, key)
            # secret contents are never passed as variables (they would show in the job's extra vars)
            assert "tower.filename" in template, (name, key)
        for field in fields.values():
            if field.get("multiline") and field["id"] != "ca_cert" or field["id"] == "api_key":
                assert field.get("secret") is True, (name, field["id"])


def test_package_credential_feeds_the_values_role(rendered):
    package = [ct for ct in rendered["credential_types"] if ct["name"] == "CARTO installation package"][0]
    injected = package["injectors"]["extra_vars"]
    defaults = _yaml(ROOT / "roles" / "values" / "defaults" / "main.yml")
    assert "carto_package_values_file" in defaults["values_package_values_file"]
    assert "carto_package_secrets_file" in defaults["values_package_secrets_file"]
    assert set(injected) == {"carto_package_values_file", "carto_package_secrets_file"}


@pytest.mark.parametrize("kind", EXPECTED_TEMPLATES)
def test_playbook_connection_settings_leave_room_for_k8s_auth_env(rendered, kind):
    """module_defaults may only pass kubeconfig/context when the inventory sets them (default(omit))."""
    playbook = ROOT / _job_template(rendered, kind)["playbook"]
    if not playbook.is_file():
        pytest.skip("%s does not exist (test_job_template_playbook_exists fails for it)" % playbook)
    for play in _yaml(playbook):
        for group, params in (play.get("module_defaults") or {}).items():
            for key, value in params.items():
                if key in ("kubeconfig", "context", "host", "api_key", "ca_cert", "validate_certs"):
                    assert "default(omit)" in str(value), (kind, group, key, value)


def _local_kubeconfig():
    path = pathlib.Path(os.environ.get("CARTO_LOCAL_KUBECONFIG") or ROOT / ".cache" / "localcluster" / "kubeconfig")
    if not path.is_file():
        return None
    probe = subprocess.run(["kubectl", "--kubeconfig", str(path), "get", "--raw", "/readyz", "--request-timeout=3s"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    return path if probe.returncode == 0 else None


def test_injected_kubeconfig_reaches_the_cluster_modules(rendered, tmp_path):
    """Simulate AWX: the kubeconfig credential's injectors, then the playbooks' own module_defaults."""
    kubeconfig = _local_kubeconfig()
    if kubeconfig is None:
        pytest.skip("no local cluster running (python3 tools/dev.py cluster start)")
    ct = [c for c in rendered["credential_types"] if c["name"] == "Kubernetes kubeconfig (K8S_AUTH)"][0]
    injected_file = tmp_path / "kubeconfig-from-awx"
    injected_file.write_text(_template(ct["injectors"]["file"]["template.kubeconfig"],
                                       {"kubeconfig": kubeconfig.read_text(encoding="utf-8")}), encoding="utf-8")
    env = dict(os.environ, HOME=str(tmp_path))
    env.pop("KUBECONFIG", None)
    for key, template in ct["injectors"]["env"].items():
        env[key] = str(_template(template, {"tower": {"filename": {"kubeconfig": str(injected_file)}}}))
    module_defaults = _yaml(ROOT / "playbooks" / "install.yml")[0]["module_defaults"]
    play = [{"name": "AWX-style credentials", "hosts": "localhost", "gather_facts": False,
             "module_defaults": module_defaults,
             "tasks": [{"name": "Cluster", "kubernetes.core.k8s_cluster_info": {}, "register": "info"},
                       {"name": "Helm", "kubernetes.core.helm_info": {"release_name": "absent-release",
                                                                      "release_namespace": "default",
                                                                      "binary_path": env.get("CARTO_HELM", "helm")}},
                       {"name": "Show", "ansible.builtin.debug": {"msg": "K8S {{ info.version.server.kubernetes.gitVersion }}"}}]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play), encoding="utf-8")
    argv = ["ansible-playbook", "-i", "localhost,", "-c", "local", str(tmp_path / "play.yml"),
            "-e", "ansible_python_interpreter=%s" % sys.executable]
    ok = subprocess.run(argv, cwd=str(ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                        check=False)
    assert ok.returncode == 0, ok.stdout[-3000:]
    assert "K8S v" in ok.stdout
    # the same play without the injected environment cannot reach the cluster: the env is what worked
    bare = {k: v for k, v in env.items() if not k.startswith("K8S_AUTH_") and k != "KUBECONFIG"}
    failed = subprocess.run(argv, cwd=str(ROOT), env=bare, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            check=False)
    assert failed.returncode != 0


def _publishes_stats(playbook):
    """The playbook, or a role task file it imports, calls ansible.builtin.set_stats."""
    text = playbook.read_text(encoding="utf-8")
    if "ansible.builtin.set_stats" in text:
        return True
    for role in re.findall(r"name: carto\.selfhosted\.(\w+)", text):
        for tasks in (ROOT / "roles" / role / "tasks").glob("*.yml"):
            if "ansible.builtin.set_stats" in tasks.read_text(encoding="utf-8"):
                return True
    return False


@pytest.mark.parametrize("kind", EXPECTED_TEMPLATES)
def test_playbooks_return_their_report_through_set_stats(rendered, kind):
    playbook = ROOT / _job_template(rendered, kind)["playbook"]
    assert playbook.is_file() and _publishes_stats(playbook)
