"""Put the Markdown guides in place of their pointer pages in the docs site: usage `docsite_guides.py RST_DIR`.

Each docs/docsite/rst/guide_<name>.rst is a pointer to docs/<name>.md (one copy of the text). In the generated site
(RST_DIR/docsite), this replaces guide_<name>.rst by guide_<name>.md: the pointer's label as a MyST target, then the
guide, with links to another guide (`rotation.md#inputs`) pointed at its page and links to other files of the
repository pointed at GitHub. A diagram, an image of an SVG with its Graphviz source beside it (`![alt](flow.svg)`
and docs/flow.dot, on a line of its own), becomes a `{graphviz}` directive of that source with the alt text as alt
and caption: the site draws it from the source with sphinx.ext.graphviz, while GitHub shows the committed SVG. The
source, or any other image, is copied beside the page, so Sphinx finds it. Run from the repository root.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sys

GUIDES = "docs"
POINTERS = os.path.join("docs", "docsite", "rst")
REPOSITORY_URL = "https://github.com/certops/cloudflare/blob/main/"
LABEL = re.compile(r"^\.\. _(ansible_collections\.[^:]+):", re.MULTILINE)
# A link or image to a file of the repository: `[text](target#anchor)`, `![alt](target)` (the image's `![alt` first).
RELATIVE_LINK = re.compile(r"(!\[[^\]]*)?\]\((?!https?://|#|mailto:)([^)#\s]+)(#[^)\s]*)?\)")
# An image of an SVG of docs/ alone on its line: a diagram when docs/<name>.dot is beside it.
DIAGRAM_IMAGE = re.compile(r"^!\[([^\]\n]*)\]\(([\w.-]+)\.svg\)[ \t]*$", re.MULTILINE)


def guide_name(pointer: str) -> str:
    """`.../guide_rotation.rst` -> `rotation`."""
    return os.path.basename(pointer)[len("guide_") : -len(".rst")]


def diagram_directive(match: re.Match, images: list[str]) -> str:
    """`![alt](flow.svg)` with docs/flow.dot beside it -> a MyST `{graphviz}` directive of flow.dot."""
    alt, name = match.group(1).strip(), match.group(2)
    if not os.path.isfile(os.path.join(GUIDES, name + ".dot")):
        return match.group(0)
    if not alt:
        # Without it Sphinx puts the Graphviz source in the page as the picture's fallback text.
        raise SystemExit("diagram %s.svg: its image needs an alt text" % name)
    images.append(name + ".dot")
    return "```{graphviz} %s.dot\n:alt: %s\n:caption: %s\n```" % (name, alt, alt)


def rewrite_link(match: re.Match, guides: set[str], images: list[str]) -> str:
    image, target, anchor = match.group(1), match.group(2), match.group(3) or ""
    if image:
        path = os.path.normpath(target)
        if path.startswith("..") or os.path.isabs(path) or not os.path.isfile(os.path.join(GUIDES, path)):
            raise SystemExit("image %s: not a file of %s/" % (target, GUIDES))
        if path.endswith(".svg") and os.path.isfile(os.path.join(GUIDES, path[: -len(".svg")] + ".dot")):
            # Left as an image, the site would show the committed SVG instead of drawing the source.
            raise SystemExit("diagram %s: put its image on a line of its own, so the site draws it from its source" % target)
        images.append(path)
        return "%s](%s)" % (image, path)
    if os.path.dirname(target) == "" and target.endswith(".md") and target[:-3] in guides:
        return "](guide_%s.md%s)" % (target[:-3], anchor)
    path = os.path.normpath(os.path.join(GUIDES, target))
    return "](%s%s%s)" % (REPOSITORY_URL, path, anchor)


def page_text(pointer: str, guides: set[str], images: list[str]) -> str:
    """The Markdown page that takes the pointer's place; the files it shows (images and diagram sources, paths under
    docs/) go to `images`."""
    with open(pointer, encoding="utf-8") as handle:
        label = LABEL.search(handle.read())
    if not label:
        raise SystemExit("%s has no ansible_collections label" % pointer)
    guide = os.path.join(GUIDES, guide_name(pointer) + ".md")
    if not os.path.isfile(guide):
        raise SystemExit("%s points at %s, which does not exist" % (pointer, guide))
    with open(guide, encoding="utf-8") as handle:
        text = DIAGRAM_IMAGE.sub(lambda match: diagram_directive(match, images), handle.read())
    text = RELATIVE_LINK.sub(lambda match: rewrite_link(match, guides, images), text)
    return "(%s)=\n\n%s" % (label.group(1), text)


def main() -> int:
    site_docsite = os.path.join(sys.argv[1], "docsite")
    pointers = sorted(glob.glob(os.path.join(POINTERS, "guide_*.rst")))
    guides = {guide_name(pointer) for pointer in pointers}
    for pointer in pointers:
        name = os.path.basename(pointer)[: -len(".rst")]
        images: list[str] = []
        text = page_text(pointer, guides, images)
        os.remove(os.path.join(site_docsite, name + ".rst"))
        with open(os.path.join(site_docsite, name + ".md"), "w", encoding="utf-8") as handle:
            handle.write(text)
        print("docs site: docs/%s.md as docsite/%s" % (guide_name(pointer), name))
        for image in images:
            os.makedirs(os.path.dirname(os.path.join(site_docsite, image)), exist_ok=True)
            shutil.copyfile(os.path.join(GUIDES, image), os.path.join(site_docsite, image))
            print("docs site: docs/%s beside it" % image)
    return 0


if __name__ == "__main__":
    sys.exit(main())
