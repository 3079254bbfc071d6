# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The filter certops.cloudflare.rotation_outcomes; its documentation is in rotation_outcomes.yml."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible.errors import AnsibleFilterError

from ansible_collections.certops.cloudflare.plugins.module_utils._rotation import outcomes


def rotation_outcomes(plan: Any, after: Any = None, failure: Optional[str] = None, check_mode: bool = False) -> List[Dict[str, Any]]:
    if not isinstance(plan, dict) or not isinstance(plan.get("objects", []), list):
        raise AnsibleFilterError("rotation_outcomes: the input must be the plan of certops.cloudflare.rotation_plan (its result's plan)")
    if after is not None and not isinstance(after, dict):
        raise AnsibleFilterError("rotation_outcomes: after must be a dict of the _info modules' results (custom_hostnames, ...)")
    return outcomes(plan, after, failure or None, bool(check_mode))


class FilterModule:
    def filters(self) -> Dict[str, Any]:
        return {"rotation_outcomes": rotation_outcomes}
