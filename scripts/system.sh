#!/usr/bin/env bash
# Makes sure the system parts meshflow drives are present and running:
# installs missing Debian packages (as root) and starts the Open vSwitch daemons.
# Idempotent: safe to run before every start and every test run.
set -euo pipefail

# command -> Debian package
declare -A NEED=(
  [ovs-vsctl]=openvswitch-switch
  [mn]=mininet
  [iperf3]=iperf3
  [ethtool]=ethtool
  [ping]=iputils-ping
  [mosquitto]=mosquitto
  [mosquitto_sub]=mosquitto-clients
  [redis-server]=redis-server
  [haproxy]=haproxy
  [tshark]=tshark
  [ip]=iproute2
  [tc]=iproute2
  [chromium]=chromium
  [rabbitmq-server]=rabbitmq-server
)

missing=()
for cmd in "${!NEED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}")
done
# Debian's Python modules for the example hint subscriber (packages/hint-bus/python).
/usr/bin/python3 -c 'import paho.mqtt.client, jsonschema, cryptography' 2>/dev/null || missing+=(python3-paho-mqtt python3-jsonschema python3-cryptography)
if ((${#missing[@]})); then
  mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [[ $(id -u) -ne 0 ]]; then
    echo "meshflow needs these Debian packages: ${pkgs[*]}" >&2
    echo "run:  sudo apt-get update && sudo apt-get install -y ${pkgs[*]}" >&2
    exit 1
  fi
  echo "installing ${pkgs[*]} ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # tshark asks whether non-root users may capture; the answer does not matter to us.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get install -y -q "${pkgs[@]}" >/dev/null
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "meshflow drives Open vSwitch and Mininet, which need root: run it as root (sudo)." >&2
  exit 1
fi

# Open vSwitch: userspace datapath only on these machines, so no kernel module is loaded.
OVS_CTL=/usr/share/openvswitch/scripts/ovs-ctl
if ! ovs-vsctl --timeout=3 show >/dev/null 2>&1; then
  "$OVS_CTL" --no-ovs-vswitchd --system-id=random start >/dev/null 2>&1 || true
fi
if ! ovs-appctl --timeout=3 -t ovs-vswitchd version >/dev/null 2>&1; then
  "$OVS_CTL" --no-ovsdb-server --no-monitor start >/dev/null 2>&1 || true
fi
ovs-vsctl --timeout=5 show >/dev/null
ovs-appctl --timeout=5 -t ovs-vswitchd version >/dev/null
