#!/usr/bin/env bash
# Install the Debian packages behind missing commands: usage `.ci/apt_install.sh COMMAND[:PACKAGE]...`
# (e.g. `dot:graphviz`; the package defaults to the command's name). Nothing to do when every command is there.
# As root: deny service starts (a policy-rc.d that exits 101, written if absent), `apt-get update` when the package
# lists do not know a package, then `apt-get install -y --no-install-recommends`. Otherwise it prints what to install
# and exits 1.
set -euo pipefail

missing_commands=()
packages=()
for item in "$@"; do
  command_name=${item%%:*}
  package=${item#*:}
  if ! command -v "$command_name" > /dev/null 2>&1; then
    missing_commands+=("$command_name")
    packages+=("$package")
  fi
done
[ ${#packages[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get > /dev/null 2>&1; then
  echo "missing: ${missing_commands[*]}; install the Debian packages: apt-get install -y --no-install-recommends ${packages[*]}" >&2
  exit 1
fi

if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\n# Written by certops .ci/apt_install.sh: packages installed here start no services.\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
fi

export DEBIAN_FRONTEND=noninteractive
for package in "${packages[@]}"; do
  if ! apt-cache show "$package" > /dev/null 2>&1; then
    apt-get update -q
    break
  fi
done
echo "installing ${packages[*]} (for ${missing_commands[*]})"
apt-get install -y -q --no-install-recommends "${packages[@]}"

for command_name in "${missing_commands[@]}"; do
  command -v "$command_name" > /dev/null 2>&1 || { echo "still missing after the install: $command_name" >&2; exit 1; }
done
