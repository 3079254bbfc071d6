# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # A certificate and its key, each as content or as a path (_base.material_argument_spec). A module documents
    # O(certificate) and O(private_key) itself: when each is needed depends on the resource.
    DOCUMENTATION = r"""
options:
  certificate:
    description:
      - The certificate in PEM format, leaf first, optionally followed by its chain.
      - Mutually exclusive with O(certificate_path).
    type: str
  certificate_path:
    description:
      - Path to a file holding O(certificate), read on the host where the module runs.
      - A file that also holds a private key is refused, so the key is never sent as part of the certificate.
    type: path
  private_key:
    description:
      - The private key of O(certificate) in PEM format. It is sent to Cloudflare only when the certificate is uploaded,
        and never appears in results, diffs or logs.
      - Mutually exclusive with O(private_key_path).
    type: str
  private_key_path:
    description:
      - Path to a file holding O(private_key), read on the host where the module runs.
    type: path
  private_key_passphrase:
    description:
      - Passphrase of an encrypted private key. The key is decrypted locally and the clear key is uploaded.
    type: str
"""
