#!/bin/sh
# Install, with apt-get and by package name, what building and testing the
# fork needs on Debian or Ubuntu.  Installs only what is missing, so a
# machine that has everything is left alone (and needs no root).
#
#   sh driver/install-build-deps.sh          install what is missing, with
#                                            sudo when not root
#   sh driver/install-build-deps.sh --auto   what `make` runs first: the same,
#                                            but never asks for a password; when
#                                            it cannot install, say exactly what
#                                            to run and fail at once
#   sh driver/install-build-deps.sh --list   print the packages, one a line
#
# Only shell built-ins and the package tools are used: on a fresh machine
# this runs before python3 is there.
set -eu

# What 3.11's configure and setup.py look for, package by package:
# driver/build.py names the package for each optional module the build
# could not make (keep the two lists in step).
PACKAGES="
    build-essential pkg-config git util-linux ca-certificates python3
    libssl-dev zlib1g-dev libbz2-dev libffi-dev liblzma-dev libsqlite3-dev
    libreadline-dev libncurses-dev uuid-dev libgdbm-dev libgdbm-compat-dev
    libnsl-dev tk-dev libexpat1-dev
    autoconf2.69
"
# make test-tsan links gcc 12's ThreadSanitizer runtime.  Named although
# gcc brings it today, so that the need is written down; only where
# Debian builds it (TSan needs a 64-bit address space).
case "$(dpkg --print-architecture 2>/dev/null || true)" in
    amd64|arm64|ppc64el) PACKAGES="$PACKAGES libtsan2" ;;
esac
# tests/test_core_patches.py also checks the layout of _PyRuntime as a
# 32-bit build sees it (-m32) where the toolchain can compile for it.
if [ "$(dpkg --print-architecture 2>/dev/null || true)" = amd64 ]; then
    PACKAGES="$PACKAGES gcc-multilib"
fi

# The packages of $PACKAGES that are not installed, space-separated.
missing_packages() {
    # One dpkg-query call for all: it prints a status line for each package
    # it knows and complains on stderr about the others (never installed).
    installed=$(dpkg-query -W -f='${Status} ${Package}\n' $PACKAGES \
                2>/dev/null || true)
    missing=""
    for pkg in $PACKAGES; do
        case "
$installed
" in
            *"
install ok installed $pkg
"*) ;;
            *) missing="$missing $pkg" ;;
        esac
    done
    echo "${missing# }"
}

# Install $1 (a space-separated list) with the command prefix $2 ("" or
# "sudo" or "sudo -n").  sudo resets the environment: pass the frontend
# through env so that apt-get never stops to ask a question.
install_packages() {
    echo "installing build dependencies: $1"
    # shellcheck disable=SC2086
    $2 env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086
    $2 env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends $1
}

# Say what to run when `make` cannot install by itself, and fail.
cannot_install() {
    {
        echo "error: building needs these packages, which are not installed:"
        echo "    $1"
        echo "Install them (this asks for your password), then run make again:"
        if command -v sudo >/dev/null 2>&1; then
            echo "    sudo sh $0"
        else
            echo "    su -c 'sh $0'"
        fi
    } >&2
    exit 1
}

# Without dpkg the packages cannot be named; the one thing sure to be
# needed, and whose absence configure reports late and obscurely, is a
# C compiler.
check_without_dpkg() {
    for cc in cc gcc clang; do
        command -v "$cc" >/dev/null 2>&1 && return 0
    done
    echo "error: no C compiler found (cc, gcc or clang): install one," \
         "with make and git, then run make again" >&2
    exit 1
}

mode=${1:-install}
case "$mode" in
    --list)
        for pkg in $PACKAGES; do echo "$pkg"; done
        exit 0 ;;
    --auto|install) ;;
    *)
        echo "usage: sh $0 [--auto | --list]" >&2
        exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
    if [ "$mode" = --auto ]; then
        check_without_dpkg
        exit 0
    fi
    echo "error: no dpkg-query: this installer is for Debian and Ubuntu" >&2
    exit 1
fi

missing=$(missing_packages)
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    install_packages "$missing" ""
elif [ "$mode" = --auto ]; then
    # From make: sudo only if it needs no password, never a prompt.
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        install_packages "$missing" "sudo -n"
    else
        cannot_install "$missing"
    fi
elif command -v sudo >/dev/null 2>&1; then
    install_packages "$missing" "sudo"
else
    echo "error: need root (or sudo) to install: $missing" >&2
    exit 1
fi
