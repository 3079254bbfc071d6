# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The statuses and limits of Cloudflare's API that several files decide on, each defined once.

This is a private file: it may change in any release without notice.
No Ansible import.
"""

from __future__ import annotations

# Going or gone: a certificate, pack or association in these statuses is not the resource a task manages, and it
# identifies nothing. Certificate packs listed with `status=all` include both (GET zones/{zone_id}/ssl/certificate_packs).
ENDED_STATUSES = frozenset(("deleted", "pending_deletion"))

# Client certificates for authenticated origin pulls: Cloudflare allows 10 per zone, and one pending deletion still
# counts ("Authenticated Origin Pulls: per-hostname", limits); only a deleted one is gone for the quota.
CLIENT_CERT_QUOTA = 10
CLIENT_CERT_GONE_STATUSES = frozenset(("deleted",))

# Certificate packs: a restart of validation (PATCH with an empty body) cures only these timed-out statuses;
# `deletion_timed_out` is not one of them.
PACK_RESTARTABLE_STATUSES = frozenset(("initializing_timed_out", "validation_timed_out", "issuance_timed_out", "deployment_timed_out"))
# Statuses that waiting will not turn into `active`.
PACK_STUCK_STATUSES = PACK_RESTARTABLE_STATUSES | frozenset(("deletion_timed_out", "expired"))

# Custom hostnames: statuses of the hostname, and of its SSL, that waiting will not turn into `active`.
HOSTNAME_STUCK_STATUSES = frozenset(("blocked", "moved", "deleted"))
HOSTNAME_SSL_STUCK_STATUSES = frozenset(
    ("expired", "deleted", "initializing_timed_out", "validation_timed_out", "issuance_timed_out", "deployment_timed_out", "deletion_timed_out", "inactive")
)

# Zone custom certificates: statuses that waiting will not turn into `active`.
ZONE_CERT_STUCK_STATUSES = frozenset(("expired", "deleted"))
