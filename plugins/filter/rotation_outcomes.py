# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The filters certops.cloudflare.rotation_outcomes, rotation_edge_targets and rotation_edge; documented in <name>.yml."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible.errors import AnsibleFilterError

from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.outcomes import edge_outcomes, edge_targets, outcomes


def rotation_outcomes(plan: Any, after: Any = None, failure: Optional[str] = None, check_mode: bool = False) -> List[Dict[str, Any]]:
    if not isinstance(plan, dict) or not isinstance(plan.get("objects", []), list):
        raise AnsibleFilterError("rotation_outcomes: the input must be the plan of certops.cloudflare.rotation_plan (its result's plan)")
    if after is not None and not isinstance(after, dict):
        raise AnsibleFilterError("rotation_outcomes: after must be a dict of the _info modules' results (custom_hostnames, ...)")
    return outcomes(plan, after, failure or None, bool(check_mode))


def _rows(rows: Any, name: str) -> List[Dict[str, Any]]:
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise AnsibleFilterError("%s: the input must be the rows certops.cloudflare.rotation_outcomes returns" % name)
    return rows


def rotation_edge_targets(rows: Any) -> Dict[str, List[str]]:
    return edge_targets(_rows(rows, "rotation_edge_targets"))


def rotation_edge(rows: Any, edge_certs: Any = None) -> List[Dict[str, Any]]:
    if edge_certs is not None and not isinstance(edge_certs, list):
        raise AnsibleFilterError("rotation_edge: edge_certs must be the edge_certs list of certops.cloudflare.edge_cert_info")
    return edge_outcomes(_rows(rows, "rotation_edge"), edge_certs)


class FilterModule:
    def filters(self) -> Dict[str, Any]:
        return {"rotation_outcomes": rotation_outcomes, "rotation_edge_targets": rotation_edge_targets, "rotation_edge": rotation_edge}
