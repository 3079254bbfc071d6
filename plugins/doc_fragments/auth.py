# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  api_token:
    description:
      - "A Cloudflare API token, sent as C(Authorization: Bearer). The preferred way to authenticate."
      - Give either O(api_token), or O(api_email) together with O(api_key), never both.
      - If not set, the value of the E(CLOUDFLARE_API_TOKEN) environment variable is used.
    type: str
  api_email:
    description:
      - The email address of the Cloudflare user whose Global API key is O(api_key).
      - If not set, the value of the E(CLOUDFLARE_EMAIL) environment variable is used.
    type: str
  api_key:
    description:
      - The Global API key of the user O(api_email), sent as C(X-Auth-Key).
      - If not set, the value of the E(CLOUDFLARE_API_KEY) environment variable is used.
    type: str
  api_base_url:
    description:
      - The base URL of the Cloudflare v4 API. Change it for FedRAMP, a proxy, or the collection's API emulator.
      - If not set, the value of the E(CLOUDFLARE_BASE_URL) environment variable is used,
        and when that is not set either, C(https://api.cloudflare.com/client/v4).
    type: str
  api_timeout:
    description:
      - Seconds to wait for each API answer.
    type: float
    default: 30
  api_rate_limit:
    description:
      - The most API requests per second this controller sends with the same credentials, shared by
        every task and fork running on it (the schedule lives in a small file in the temporary directory).
      - V(0) switches pacing off.
      - If not set, the value of the E(CLOUDFLARE_API_RATE_LIMIT) environment variable is used, and when that is
        not set either, V(3.5), which keeps one controller under Cloudflare's limit of 1,200 requests per 5 minutes
        with room for other tools.
      - With AWX job slicing, divide the value by the number of slices.
    type: float
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the API endpoint.
    type: bool
    default: true
notes:
  - "Credentials from environment variables are read on the host where the module runs. Run the modules on the
    controller (C(delegate_to: localhost)) when the variables are set there."
  - Environment variables are applied before the options are checked, so a stray E(CLOUDFLARE_EMAIL) or
    E(CLOUDFLARE_API_KEY) next to a token fails with a message naming both, instead of silently choosing an identity.
  - Requests rate limited by Cloudflare (HTTP 429) are retried after the time its C(Retry-After) header asks for.
    Reads, PUTs and DELETEs failing with a server error or a lost connection are retried with backoff.
    A create or update (POST or PATCH) whose outcome is unknown is never sent again blindly; the module reads
    the state again to learn whether it happened.
seealso:
  - name: Create an API token
    description: Cloudflare's guide to API tokens and their permissions.
    link: https://developers.cloudflare.com/fundamentals/api/get-started/create-token/
"""

    ZONE = r"""
options:
  zone_id:
    description:
      - The id of the Cloudflare zone.
      - Exactly one of O(zone_id) and O(zone) is required.
    type: str
  zone:
    description:
      - The name of the Cloudflare zone, for example V(example.com), looked up with one extra API call.
      - Exactly one of O(zone_id) and O(zone) is required.
    type: str
"""
