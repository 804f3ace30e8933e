"""The roles' interfaces: each role reads only its own documented variables, and callers pass outputs explicitly.

A role's inputs are the options of its ``meta/argument_specs.yml`` entry points; its outputs (the facts it sets for
its caller) are declared in ``meta/outputs.yml``. The templates of every role and playbook are parsed with Jinja2 and
every variable they load is checked against those declarations:

- a role's tasks load only its own variables (its prefix, declared in its defaults, vars, argument spec, a
  ``register``/``set_fact``/task ``vars``), Ansible's special variables and their own Jinja locals; the inventory's
  ``carto_*`` variables only in its ``defaults/main.yml`` (the documented defaults are where a global reaches a role);
- no role sets a fact named with another role's prefix, and each declared output is set by its role;
- a playbook (or a role that includes another role) passes only declared inputs of the role it imports, and reads
  only declared outputs of the roles it ran.
"""

import pathlib
import re

import jinja2
import jinja2.nodes
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file())
PREFIXES = {role: role + "_" for role in ROLES}

# Ansible's special and magic variables a template may load
# (https://docs.ansible.com/ansible/latest/reference_appendices/special_variables.html), Jinja's and Ansible's globals.
SPECIAL = {
    "inventory_hostname", "inventory_hostname_short", "hostvars", "groups", "group_names", "omit", "item",
    "playbook_dir", "role_path", "role_name", "ansible_check_mode", "ansible_diff_mode", "ansible_failed_task",
    "ansible_failed_result", "ansible_loop", "ansible_play_hosts", "ansible_play_batch", "ansible_verbosity",
    "ansible_facts", "ansible_run_tags", "ansible_version", "ansible_collection_name",
    "loop", "lookup", "query", "q", "now", "undef", "range", "dict", "lipsum", "cycler", "joiner", "namespace",
    "true", "false", "none", "True", "False", "None",
}
# Keys whose value is a bare Jinja expression (no braces).
BARE = {"when", "that", "failed_when", "changed_when", "until"}
ENV = jinja2.Environment()


def _load(path):
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def loaded_names(text, bare=False):
    """Names a template string loads, minus the locals it sets itself (``{% set %}``, ``{% for %}`` targets)."""
    source = "{{ %s }}" % text if bare else text
    if not bare and "{{" not in text and "{%" not in text:
        return set()
    tree = ENV.parse(source)
    stored = {node.name for node in tree.find_all(jinja2.nodes.Name) if node.ctx in ("store", "param")}
    stored |= {node.name for node in tree.find_all(jinja2.nodes.Macro)}
    return {node.name for node in tree.find_all(jinja2.nodes.Name) if node.ctx == "load"} - stored


def _strings(value, key=None):
    """Every (key, string) of a YAML value, with the key that holds it."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for child_key, child in value.items():
            yield from _strings(child, child_key)
    elif isinstance(value, list):
        for child in value:
            yield from _strings(child, key)


def template_loads(value):
    """Every name loaded by the templates of a YAML value (bare expressions under when/that/... included)."""
    names = set()
    for key, text in _strings(value):
        names |= loaded_names(text, bare=key in BARE and "{{" not in text)
    return names


def _tasks(tasks):
    for task in tasks or []:
        yield task
        for section in ("block", "rescue", "always"):
            yield from _tasks(task.get(section))


def _facts(task):
    """The facts one task sets for the tasks after it: its register and its set_fact keys."""
    names = {task["register"]} if task.get("register") else set()
    for module in ("ansible.builtin.set_fact", "set_fact"):
        if isinstance(task.get(module), dict):
            names |= {key for key in task[module] if key != "cacheable"}
    return names


class RoleFiles:
    """What one role declares and what its files load and set."""

    def __init__(self, role):
        self.role = role
        self.dir = ROOT / "roles" / role
        self.specs = _load(self.dir / "meta" / "argument_specs.yml")["argument_specs"]
        outputs_file = self.dir / "meta" / "outputs.yml"
        self.outputs = (_load(outputs_file) or {}).get("outputs", {}) if outputs_file.is_file() else {}
        self.defaults = self._vars_file("defaults")
        self.vars = self._vars_file("vars")
        self.tasks = {path.name: _load(path) or [] for path in sorted((self.dir / "tasks").glob("*.yml"))}

    def _vars_file(self, folder):
        path = self.dir / folder / "main.yml"
        return (_load(path) or {}) if path.is_file() else {}

    def inputs(self, entry_point="main"):
        return set((self.specs.get(entry_point) or {}).get("options") or {})

    def all_inputs(self):
        return set().union(*(self.inputs(entry) for entry in self.specs))

    def declared_outputs(self, entry_point="main"):
        return set(self.outputs.get(entry_point) or {})

    def set_names(self):
        """Names the tasks set: registers, set_fact keys, task and block vars, loop_var."""
        names = set()
        for tasks in self.tasks.values():
            for task in _tasks(tasks):
                names |= self._task_sets(task)
        return names

    @staticmethod
    def _task_sets(task):
        names = _facts(task) | set(task.get("vars") or {})
        loop_var = (task.get("loop_control") or {}).get("loop_var")
        if loop_var:
            names.add(loop_var)
        return names

    def facts_set(self):
        """Names the tasks set beyond the task (registers and set_fact keys)."""
        return set().union(*(_facts(task) for tasks in self.tasks.values() for task in _tasks(tasks)))

    def includes(self):
        """(task, role, entry point) of every include_role/import_role in the tasks."""
        for tasks in self.tasks.values():
            for task in _tasks(tasks):
                for module in ("ansible.builtin.include_role", "ansible.builtin.import_role"):
                    if module in task:
                        yield task, task[module]["name"].split(".")[-1], task[module].get("tasks_from", "main.yml")


FILES = {role: RoleFiles(role) for role in ROLES}


def _entry(tasks_from):
    return tasks_from.rsplit(".", 1)[0] if tasks_from else "main"


def _other_role_names(names, role):
    return {name for name in names for other in ROLES if other != role and name.startswith(PREFIXES[other])
            and not name.startswith(PREFIXES[role])}


def test_the_parser_sees_loads_and_locals():
    assert loaded_names("{{ a.b | default(c) ~ lookup('env', 'X') }}") == {"a", "c", "lookup"}
    assert loaded_names("{%- set x = namespace(v=[]) -%}{% for i in items %}{{ x.v + [i] }}{% endfor %}") == {
        "namespace", "items"}
    assert loaded_names("values_final is defined", bare=True) == {"values_final"}


def test_every_role_has_outputs_declared():
    assert set(ROLES) == {p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "outputs.yml").is_file()}


@pytest.mark.parametrize("role", ROLES)
def test_role_tasks_load_only_their_own_variables(role):
    files = FILES[role]
    declared = set(files.defaults) | set(files.vars) | files.all_inputs() | files.set_names()
    included_outputs = set()
    for _task, other, tasks_from in files.includes():
        included_outputs |= FILES[other].declared_outputs(_entry(tasks_from))
    problems = []
    for name, tasks in files.tasks.items():
        for task in _tasks(tasks):
            own = {k: v for k, v in task.items() if k not in ("block", "rescue", "always")}
            for var in sorted(template_loads(own) - SPECIAL - declared - included_outputs):
                if var.startswith("carto_"):
                    problems.append("%s: task %r reads the inventory variable %s; read it through a documented "
                                    "default of the role" % (name, task.get("name"), var))
                elif var.startswith(PREFIXES[role]):
                    problems.append("%s: task %r reads %s, which the role never declares" % (name, task.get("name"), var))
                else:
                    problems.append("%s: task %r reads %s, another role's or an undeclared variable"
                                    % (name, task.get("name"), var))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_role_defaults_and_vars_read_no_other_role(role):
    files = FILES[role]
    problems = []
    for kind, data in (("defaults", files.defaults), ("vars", files.vars)):
        for key, value in data.items():
            loads = template_loads(value) - SPECIAL
            for var in sorted(loads):
                if not (var.startswith(PREFIXES[role]) or (kind == "defaults" and var.startswith("carto_"))):
                    problems.append("%s/main.yml: %s reads %s" % (kind, key, var))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_role_sets_only_its_own_facts_and_every_declared_output(role):
    files = FILES[role]
    facts = files.facts_set()
    assert not {name for name in facts if not name.startswith(PREFIXES[role])}
    for entry, outputs in files.outputs.items():
        assert entry in files.specs or entry + ".yml" in files.tasks, "meta/outputs.yml: no entry point %s" % entry
        for output, spec in (outputs or {}).items():
            assert output in facts, "%s declares output %s, which no task sets" % (role, output)
            assert spec.get("description") and spec.get("type"), output


def _playbook_checks(path, plays):
    """Problems of one playbook: vars passed to a role it imports, names it reads of a role it ran."""
    problems = []
    for play in plays:
        if "import_playbook" in play:
            continue
        ran = {}
        for task in _tasks(play.get("tasks")):
            for module in ("ansible.builtin.include_role", "ansible.builtin.import_role"):
                if module in task:
                    other = task[module]["name"].split(".")[-1]
                    entry = _entry(task[module].get("tasks_from"))
                    ran.setdefault(other, set()).update(FILES[other].declared_outputs(entry))
                    for var in task.get("vars") or {}:
                        if var not in FILES[other].inputs(entry):
                            problems.append("%s: %r passes %s, not an input of %s (%s)"
                                            % (path.name, task.get("name"), var, other, entry))
        outputs = set().union(*ran.values()) if ran else set()
        loads = template_loads({k: v for k, v in play.items() if k != "tasks"})
        for task in _tasks(play.get("tasks")):
            loads |= template_loads({k: v for k, v in task.items() if k not in ("block", "rescue", "always")})
        for role in ROLES:
            for var in sorted(name for name in loads if name.startswith(PREFIXES[role]) and name not in outputs):
                problems.append("%s reads %s, not a declared output of a role it ran" % (path.name, var))
    return problems


@pytest.mark.parametrize("path", sorted((ROOT / "playbooks").glob("*.yml")), ids=lambda p: p.name)
def test_playbooks_pass_inputs_and_read_outputs(path):
    problems = _playbook_checks(path, _load(path))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_included_roles_get_declared_inputs(role):
    problems = []
    for task, other, tasks_from in FILES[role].includes():
        for var in task.get("vars") or {}:
            if var not in FILES[other].inputs(_entry(tasks_from)):
                problems.append("%s passes %s, not an input of %s" % (role, var, other))
    assert not problems, "\n".join(problems)


def test_the_checks_catch_a_role_reading_another_roles_fact(tmp_path):
    role = FILES["deploy"]
    task = {"name": "x", "ansible.builtin.debug": {"msg": "{{ values_final.appConfigValues }}"}}
    declared = set(role.defaults) | set(role.vars) | role.all_inputs() | role.set_names()
    assert template_loads(task) - SPECIAL - declared == {"values_final"}
    bad = [{"name": "p", "hosts": "all", "tasks": [
        {"name": "r", "ansible.builtin.import_role": {"name": "carto.selfhosted.deploy"},
         "vars": {"deploy_not_an_input": 1}},
        {"name": "d", "ansible.builtin.debug": {"msg": "{{ deploy_namespace }} {{ prerequisites_render }}"}}]}]
    problems = _playbook_checks(tmp_path / "bad.yml", bad)
    assert any("deploy_not_an_input" in p for p in problems)
    assert any("reads deploy_namespace" in p for p in problems)
    assert any("reads prerequisites_render" in p for p in problems)


def test_no_noqa_for_role_prefixes():
    hits = [str(p.relative_to(ROOT)) for p in (ROOT / "roles").rglob("*.yml")
            if re.search(r"noqa: *var-naming", p.read_text(encoding="utf-8"))]
    assert not hits
