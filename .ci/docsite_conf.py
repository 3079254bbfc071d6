# Appended to the conf.py that `antsibull-docs sphinx-init` writes (`make docs`).
# The guides stay Markdown in docs/: `make docs` puts each docs/<name>.md in place of the pointer page
# docsite/guide_<name>.rst, and MyST parses it (mermaid fences become diagrams).
extensions.append("myst_parser")  # noqa: F821 pylint: disable=undefined-variable
extensions.append("sphinxcontrib.mermaid")  # noqa: F821 pylint: disable=undefined-variable
myst_fence_as_directive = ["mermaid"]
# Links between guides name a heading (`rotation.md#inputs`), as GitHub renders them.
myst_heading_anchors = 3
# Offline: nothing is fetched. The Ansible docs targets our pages refer to come from a local inventory that
# .ci/ansible_docs_inventory.py writes beside this file.
intersphinx_mapping = {"ansible_devel": ("https://docs.ansible.com/projects/ansible/devel/", "../ansible_devel.inv")}
