# Sourced by scripts/setup.d/*.sh: install Debian packages that are not installed yet.
# `apt_install_missing WHO PKG…`: nothing to do when all are installed; else needs root, runs
# `apt-get update` once and installs them without starting their system services (the tests start
# their own servers on loopback ports), waiting for another apt run's lock rather than failing.
apt_install_missing() {
  local who=$1
  shift
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "$who: needs root to install: ${missing[*]}" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local apt=(apt-get -o DPkg::Lock::Timeout=600)
  "${apt[@]}" update -qq >&2
  # policy-rc.d exit 101: dpkg does not start the packages' services.
  local prc=/usr/sbin/policy-rc.d had_prc=0
  [ -e "$prc" ] && had_prc=1
  [ $had_prc = 1 ] || { printf '#!/bin/sh\nexit 101\n' > "$prc"; chmod +x "$prc"; }
  "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >&2
  [ $had_prc = 1 ] || rm -f "$prc"
}
