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
        It must start with C(http://) or C(https://).
      - If not set, the value of the E(CLOUDFLARE_BASE_URL) environment variable is used,
        and when that is not set either, C(https://api.cloudflare.com/client/v4).
      - Redirects are never followed, since they would send the request and its credentials to another address.
        An answer with a 3xx status fails with a message naming the status and the host of its C(Location), and
        pointing at this option, which must be the API's own address.
    type: str
  api_timeout:
    description:
      - Seconds to wait for each API answer. Must be positive.
    type: float
    default: 30
  api_rate_limit:
    description:
      - The average number of API requests per second this controller sends with the same credentials (or the same
        O(api_rate_limit_key)) and O(api_base_url), shared by every task and fork that the same user runs on it.
      - Cloudflare allows 1,200 requests per 5 minutes per user (or account token), counted across the dashboard, API keys
        and tokens, and blocks every call of a user that goes over for the next 5 minutes (HTTP 429). Pacing keeps a
        sliding window of 300 seconds, allowing C(floor(api_rate_limit * 300)) requests in any trailing 300 seconds
        (V(3.8) allows 1,140), and never more than Cloudflare's 1,200 less 5 % headroom (1,140), whatever the value; a
        higher value therefore changes nothing, a lower one lowers the count.
      - Bursts use the whole window. While fewer requests than the count were sent in the last 300 seconds, a request
        goes at once; otherwise it waits until the oldest of them leaves the window (one window at most per wait). So a
        short run is not slowed down at all, and a long one settles at O(api_rate_limit) on average.
      - V(0) switches pacing off. Must not be negative.
      - The budget is shared only among the processes of one user on one controller. With AWX job slicing or several
        controllers (or other tools) using the same Cloudflare user, give each of them its share, for example
        O(api_rate_limit) divided by the number of slices or controllers, so that together they stay under the limit.
        A request Cloudflare still answers with HTTP 429 is retried after C(Retry-After), within O(api_retry_budget)
        (see the notes).
      - Cloudflare's answers carry C(Ratelimit) (the requests left and the seconds to the reset) and C(Ratelimit-Policy)
        (the quota and its window). While the latest answer shows less than 10 % of the quota left (others, such as the
        dashboard, may be using it too), the module sends at half its average rate, without bursts (one request at
        most every C(600 / count) seconds, the count above), until an answer shows the quota recovered; it logs each
        change once. Malformed values
        of these headers are ignored.
      - The shared window is a small file in a directory private to the user, C(<tmp>/certops-cloudflare-<uid>)
        under the temporary directory, created with mode C(0700). The directory and the file are opened without
        following symlinks and must be owned by the user (and the directory must not be open to other users).
        Times in the file that lie further ahead than one window (the clock stepped back) are dropped, so a clock step
        never stalls requests. Taking the file's lock times out after 5 seconds.
      - When the shared window cannot be used (for example the directory belongs to someone else, the lock stays taken,
        or the file holds something this collection did not write), pacing falls back to this module run alone, and
        the module logs why, once.
      - If not set, the value of the E(CLOUDFLARE_API_RATE_LIMIT) environment variable is used, and when that is
        not set either, V(3.8), what Cloudflare's window allows less 5 % headroom for the dashboard and other tools.
      - For testing only, not for real accounts, the environment variables E(CERTOPS_RATE_WINDOW) (seconds, default
        V(300)), E(CERTOPS_RATE_WINDOW_LIMIT) (requests per window, default V(1200)) and E(CERTOPS_RATE_HEADROOM)
        (a share, default V(0.05)) change the window, so that a benchmark can scale it down to an emulator's.
    type: float
  api_retry_budget:
    description:
      - The seconds one API call may spend waiting out HTTP 429 answers and retrying, before the task fails. Must be
        positive.
      - The default, V(330), is enough to wait out one of Cloudflare's five-minute blocks, so a run that meets one is
        delayed, not failed. When C(Retry-After) asks for more than what is left of it, the call fails at once, with a
        message naming this option.
      - Server errors and reset connections are retried within it too, at most 6 attempts (answers with HTTP 429 do not
        count against the attempts).
      - If not set, the value of the E(CLOUDFLARE_API_RETRY_BUDGET) environment variable is used.
    type: float
    default: 330
  api_rate_limit_key:
    description:
      - A label naming the pacing budget to share, for several API tokens of the same Cloudflare user (the limit is per
        user, not per token). Requests with the same label and O(api_base_url) share one window, whatever their
        credentials; without a label the budget is per credential.
      - It is a name, not a secret, and shows in the output. It is hashed into the name of the shared file.
      - If not set, the value of the E(CLOUDFLARE_API_RATE_LIMIT_KEY) environment variable is used.
    type: str
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the API endpoint.
    type: bool
    default: true
  api_usage_file:
    description:
      - A file where the module, when it ends, adds one JSON line with the API requests it sent and how many of them
        Cloudflare answered with HTTP 429 (the keys C(requests) and C(rate_limited)). Created with mode C(0600) when
        missing; the lines of several module runs add up.
      - The role C(certops.cloudflare.cert_rotation) sums them for its metrics. A file that cannot be written is
        skipped silently, so counting never fails a task.
    type: path
notes:
  - "Credentials from environment variables are read on the host where the module runs. Run the modules on the
    controller (C(delegate_to: localhost)) when the variables are set there."
  - Environment variables are applied before the options are checked, so a stray E(CLOUDFLARE_EMAIL) or
    E(CLOUDFLARE_API_KEY) next to a token fails with a message naming both, instead of silently choosing an identity.
  - Requests rate limited by Cloudflare (HTTP 429) are retried, whatever their method, after the time the
    C(Retry-After) header asks for (seconds or an HTTP date), at least 1 second and at most the length of a block, that is the
    window the answer's C(Ratelimit-Policy) names (C(w=)), else Cloudflare's 300 seconds. When C(Retry-After) is missing
    or unreadable, the wait is the reset time of the C(Ratelimit) header when it shows the quota used up, else 1
    second. See U(https://developers.cloudflare.com/fundamentals/api/reference/limits/).
    A refused connection or a connection time-out (the request was not processed) is also retried for every method.
  - GET, PUT and DELETE requests failing with a server error (HTTP 5xx), a reset connection or a read time-out are
    retried with jittered exponential backoff, waiting up to 0.5 seconds, then up to 1, 2, 4 and at most 8 seconds.
  - All retries of one API call share its limits, at most 6 attempts (answers with HTTP 429 not counted) within
    O(api_retry_budget) seconds (330 by default), which starts with the first attempt. When they are used up the task
    fails; for HTTP 429 the message names O(api_retry_budget) and suggests lowering O(api_rate_limit).
  - A create or update (POST or PATCH) whose outcome is unknown (a server error, a reset connection, a read time-out)
    is never sent again blindly; the module reads the state again to learn whether it happened, and sends it once
    more (returning C(resent=true)) only when that read proves it did not.
  - A host name in O(api_base_url) that cannot be resolved fails with C(cannot resolve the API host ...), and a TLS
    certificate that cannot be verified fails with a message naming O(validate_certs) and O(api_base_url). Neither
    is retried.
  - Text from the API's answers (error messages, C(error_chain) entries, answers quoted in a message) is scrubbed
    before it reaches a message, a result or a log line. PEM blocks are removed, also when JSON-escaped or missing
    their END line, and so are the credentials in use. Each such text is kept to at most 500 characters.
  - With E(ANSIBLE_DEBUG=1), Ansible prints module arguments, including values it would otherwise hide. Keep secrets
    in environment variables (E(CLOUDFLARE_API_TOKEN), E(CLOUDFLARE_API_KEY)) and in files named by C(*_path)
    options rather than inline in task arguments.
seealso:
  - name: Create an API token
    description: Cloudflare's guide to API tokens and their permissions.
    link: https://developers.cloudflare.com/fundamentals/api/get-started/create-token/
"""

    ZONE = r"""
options:
  zone_id:
    description:
      - The id of the Cloudflare zone. Only letters, digits, V(-) and V(_) are accepted.
      - At least one of O(zone_id) and O(zone) is required. When both are given, O(zone_id) is used and O(zone)
        is not looked up. A module cannot tell C(module_defaults) from task arguments, so set O(zone) in
        C(module_defaults) and O(zone_id) in a task that needs another zone, not the other way round.
    type: str
  zone:
    description:
      - The name of the Cloudflare zone, for example V(example.com), looked up with one extra API call.
      - It must be a valid hostname without a wildcard. It is compared in lower case, and internationalized names
        are turned into A-labels (V(xn--...)).
      - At least one of O(zone_id) and O(zone) is required; when both are given, O(zone_id) wins.
    type: str
"""

    ORIGIN_CA = r"""
options:
  api_user_service_key:
    description:
      - The account's Origin CA key (a legacy credential starting with C(v1.0-)), sent as C(X-Auth-User-Service-Key).
        It works only for the Origin CA operations, so O(zone_id) must be given with it, not O(zone).
      - Give it instead of an API token or a Global API key, never together with them. Only the Origin CA modules
        take it.
      - If not set, the value of the E(CLOUDFLARE_API_USER_SERVICE_KEY) environment variable is used.
    type: str
"""
