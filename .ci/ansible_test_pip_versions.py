"""Print the pip versions ansible-test bootstraps its virtual environments with (one per line)."""

from __future__ import annotations

import inspect
import re

from ansible_test._internal import python_requirements

source = inspect.getsource(python_requirements.get_venv_packages)
print("\n".join(sorted(set(re.findall(r"pip='([0-9.]+)'", source)))))
