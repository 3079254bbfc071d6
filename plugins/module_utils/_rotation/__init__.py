# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The certificate rotation: the backends of rotation_plan, of custom_hostname_cert's list form and of rotation_report.

This is a private package: it may change in any release without notice.

- plan.py: the planner (new material against the discovered state, no API call);
- apply_hostnames.py: the list form of custom_hostname_cert, which applies the custom hostnames' changes;
- outcomes.py: the plan against the state read back, and the edge verdicts (computed there only);
- files.py: the files the role's stages hand to each other;
- report.py: the report in JSON, Markdown and HTML.
"""
