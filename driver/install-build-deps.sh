#!/bin/sh
# Install, with apt-get and by package name, what building and testing the
# fork needs on Debian or Ubuntu.  Installs only what is missing, so a
# machine that has everything is left alone (and needs no root).
set -eu

PACKAGES="
    build-essential pkg-config git util-linux python3
    libssl-dev zlib1g-dev libbz2-dev libffi-dev liblzma-dev libsqlite3-dev
    libreadline-dev libncurses-dev uuid-dev libgdbm-dev libgdbm-compat-dev
    tk-dev libexpat1-dev
    autoconf2.69
"

missing=""
for pkg in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    case "$status" in
        *"ok installed") ;;
        *) missing="$missing $pkg" ;;
    esac
done
[ -z "$missing" ] && exit 0

echo "installing build dependencies:$missing"
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "error: need root (or sudo) to install:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
