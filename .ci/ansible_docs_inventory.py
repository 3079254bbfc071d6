"""Write a small Sphinx inventory of the Ansible docs targets our pages link to: usage `ansible_docs_inventory.py OUT`.

The docs site builds offline (`make docs`), so intersphinx cannot fetch docs.ansible.com's objects.inv. The generated
plugin pages refer to a few of its labels; this inventory resolves exactly those to links into the Ansible docs. A new
reference that is not listed here fails the build (sphinx-build -W), and gets a line here.
"""

from __future__ import annotations

import sys
import zlib

# (name, domain:role, priority, uri, display name); uri relative to https://docs.ansible.com/projects/ansible/devel/
TARGETS = (
    ("common_return_values", "std:label", "-1", "reference_appendices/common_return_values.html#common-return-values", "Return Values"),
    ("ansible_configuration_settings", "std:label", "-1", "reference_appendices/config.html#ansible-configuration-settings", "Ansible Configuration Settings"),
    ("ANSIBLE_DEBUG", "std:envvar", "1", "reference_appendices/config.html#envvar-ANSIBLE_DEBUG", "-"),
    # The note antsibull-docs puts on a module with an action plugin of its name (custom_hostname_cert).
    ("action_plugins", "std:label", "-1", "plugins/action.html#action-plugins", "Action plugins"),
)

HEADER = "# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n# The remainder of this file is compressed using zlib.\n"


def main() -> int:
    body = "".join(" ".join(target) + "\n" for target in TARGETS)
    with open(sys.argv[1], "wb") as handle:
        handle.write(HEADER.encode("utf-8") + zlib.compress(body.encode("utf-8")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
