# Appended to the conf.py that `antsibull-docs sphinx-init` writes (`make docs`).
# The guides stay Markdown in docs/: `make docs` puts each docs/<name>.md in place of the pointer page
# docsite/guide_<name>.rst, and MyST parses it.
extensions.append("myst_parser")  # noqa: F821 pylint: disable=undefined-variable
# Diagrams are drawn at build time from their Graphviz source (docs/<name>.dot) by Debian's `dot`: nothing is drawn
# in the reader's browser, so the site needs no script and no network. SVG stays sharp at any zoom.
extensions.append("sphinx.ext.graphviz")  # noqa: F821 pylint: disable=undefined-variable
# Sphinx's own graphviz.css scales a diagram wider than the text column down to it (tests/docsite checks).
graphviz_output_format = "svg"
# Links between guides name a heading (`rotation.md#inputs`), as GitHub renders them.
myst_heading_anchors = 3
# Offline: nothing is fetched. The Ansible docs targets our pages refer to come from a local inventory that
# .ci/ansible_docs_inventory.py writes beside this file.
intersphinx_mapping = {"ansible_devel": ("https://docs.ansible.com/projects/ansible/devel/", "../ansible_devel.inv")}
