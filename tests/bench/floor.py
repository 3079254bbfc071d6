"""The benchmark's floor: the minimal calls of a rotation in a plain loop with one `requests` session.

List pages, then one PATCH per custom hostname with the body custom_hostname_cert sends. Run by run_bench.py in a
process of its own, measured from outside as ansible-playbook is (wall, CPU, memory), so it imports nothing but
requests. Environment: CLOUDFLARE_BASE_URL, CLOUDFLARE_API_TOKEN, BENCH_ZONE_ID, BENCH_CERT and BENCH_KEY (paths).
"""

from __future__ import annotations

import os
import sys

import requests

PAGE = 50  # the API's largest page of custom hostnames
SSL_FIELDS = ("method", "type", "settings", "bundle_method", "wildcard")  # what the module sends back with the certificate


def main() -> int:
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + os.environ["CLOUDFLARE_API_TOKEN"]
    base = "%s/zones/%s/custom_hostnames" % (os.environ["CLOUDFLARE_BASE_URL"], os.environ["BENCH_ZONE_ID"])
    with open(os.environ["BENCH_CERT"], encoding="ascii") as cert, open(os.environ["BENCH_KEY"], encoding="ascii") as key:
        certificate, private_key = cert.read(), key.read()
    found, page, pages = [], 1, 1
    while page <= pages:
        answer = session.get(base, params={"per_page": PAGE, "page": page})
        answer.raise_for_status()
        body = answer.json()
        found += body["result"]
        pages = body["result_info"]["total_pages"]
        page += 1
    for hostname in found:
        ssl = {k: hostname["ssl"][k] for k in SSL_FIELDS if k in hostname["ssl"]}
        ssl.update(custom_certificate=certificate, custom_key=private_key)
        session.patch("%s/%s" % (base, hostname["id"]), json={"ssl": ssl}).raise_for_status()
    return 0


if __name__ == "__main__":
    sys.exit(main())
