#!/usr/bin/env bash
# Installs pea's Quadlet (`pea quadlet`) as systemd's generators, so that the .container, .volume,
# .network, .image, .build, .pod and .kube files of /etc/pea/systemd and /usr/share/pea/systemd
# (and each user's ~/.config/pea/systemd, /etc/pea/systemd/users[/UID]) become services that run
# pea, at boot and at every `systemctl [--user] daemon-reload`:
#   /usr/lib/systemd/system-generators/pea-system-generator  ->  pea quadlet ...
#   /usr/lib/systemd/user-generators/pea-user-generator      ->  pea quadlet -user ...
# The generators are small scripts that run the installed pea ($1, default /usr/local/bin/pea).
# Running it again changes nothing. DESTDIR, when set, is put before every path (tests use it).
set -euo pipefail
pea=${1:-/usr/local/bin/pea}
dest=${DESTDIR:-}

# write PATH FLAGS: the generator script at PATH, replaced as a whole (never half written).
write() {
  local path=$dest$1 flags=$2
  mkdir -p "$(dirname "$path")"
  local tmp
  tmp=$(mktemp "$path.XXXXXX")
  printf '#!/bin/sh\n# pea'"'"'s Quadlet: systemd'"'"'s generators run this with their output directories.\nexec %q quadlet %s"$@"\n' "$pea" "$flags" >"$tmp"
  chmod 755 "$tmp"
  mv -f "$tmp" "$path"
}
write /usr/lib/systemd/system-generators/pea-system-generator ''
write /usr/lib/systemd/user-generators/pea-user-generator '-user '
mkdir -p "$dest/etc/pea/systemd"
