#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: carto_report_write
short_description: Write a JSON report (verification, install) on the controller, mode 0600, only when it changed
version_added: 0.3.0
author:
  - carto.selfhosted maintainers (@carto-selfhosted)
description:
  - Writes O(content) as indented JSON with sorted keys and a final newline to O(dest), atomically (a temporary
    file in the same directory, renamed), with O(mode).
  - Runs as an action plugin in the controller process (no module payload, no temporary files of Ansible's);
    the reports are controller-side files. The module file is its documentation and the same code for a run on
    another host.
  - Reports C(changed) only when the file's content or mode differs, so an unchanged report keeps a second run
    at C(changed=0). Check mode writes nothing; C(--diff) shows the old and the new text.
  - The reports of this collection hold no secret value (the verify role's report lists Secret names and
    checksums only); do not pass secrets in O(content).
options:
  dest:
    description: Path of the file to write; its directory must exist.
    type: path
    required: true
  content:
    description: The document (any JSON-serialisable value).
    type: raw
    required: true
  mode:
    description: File mode, octal string.
    type: str
    default: "0600"
notes:
  - "Errors: the directory does not exist or is not writable (the path and the OS error); O(content) is not
    JSON-serialisable; O(mode) is not an octal string."
seealso:
  - module: ansible.builtin.copy
"""

EXAMPLES = r"""
- name: Write the report (JSON)
  carto.selfhosted.carto_report_write:
    dest: "{{ verify_output_dir }}/verify-report.json"
    content: "{{ verify_report }}"
"""

RETURN = r"""
dest:
  description: The path written.
  returned: always
  type: str
bytes:
  description: Size of the file's new content (bytes).
  returned: always
  type: int
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.carto.selfhosted.plugins.module_utils._report import ARGUMENT_SPEC, write_json


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        mode = int(module.params["mode"], 8)
    except ValueError:
        module.fail_json(msg="mode %r is not an octal string such as 0600" % module.params["mode"])
    try:
        result = write_json(module.params["dest"], module.params["content"], mode, module.check_mode)
    except (OSError, TypeError, ValueError) as exc:
        module.fail_json(msg="cannot write %s: %s" % (module.params["dest"], exc))
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
