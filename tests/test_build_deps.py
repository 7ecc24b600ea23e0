"""driver/install-build-deps.sh as `make` runs it, on a faked machine.

Every command the script may run (dpkg-query, id, sudo, apt-get) is a
stand-in on a PATH of its own that records how it was called, so the tests
see what would be installed, and how, without touching the real system.
"""

import subprocess

import pytest

from driver import config

SCRIPT = config.REPO / "driver" / "install-build-deps.sh"

def _real_architecture():
    try:
        return subprocess.run(["dpkg", "--print-architecture"],
                              capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


FAKES = {
    # Print a status line for each package named in $FAKE_INSTALLED, as
    # dpkg-query -W -f='${Status} ${Package}\n' does for installed ones.
    "dpkg-query": """
        shift 2
        for pkg in "$@"; do
            case " $FAKE_INSTALLED " in
                *" $pkg "*) echo "install ok installed $pkg" ;;
                *) echo "dpkg-query: no packages found matching $pkg" >&2 ;;
            esac
        done
        """,
    "id": 'echo "$FAKE_UID"',
    # "sudo -n" succeeds only when $FAKE_SUDO is "nopasswd".
    "sudo": """
        echo "sudo $*" >> "$FAKE_LOG"
        if [ "$1" = -n ] && [ "$FAKE_SUDO" != nopasswd ]; then
            echo "sudo: a password is required" >&2
            exit 1
        fi
        [ "$1" = -n ] && shift
        exec "$@"
        """,
    "env": """
        while [ "${1#*=}" != "$1" ]; do export "$1"; shift; done
        exec "$@"
        """,
    "apt-get": 'echo "apt-get $* FRONTEND=$DEBIAN_FRONTEND" >> "$FAKE_LOG"',
    "true": "exit 0",
    # The list depends on the architecture (gcc-multilib on amd64): the
    # fake machine has the real one, as the real list in all_packages().
    "dpkg": f'echo "{_real_architecture()}"',
}


def all_packages():
    out = subprocess.run(["/bin/sh", str(SCRIPT), "--list"], check=True,
                         capture_output=True, text=True).stdout
    return out.split()


@pytest.fixture
def machine(tmp_path):
    """Run the script on a fake machine; return (process, calls logged)."""
    fakebin = tmp_path / "bin"
    fakebin.mkdir()
    log = tmp_path / "calls.log"

    def run(*args, installed=(), uid=1000, sudo=None, tools=FAKES):
        for name, body in tools.items():
            path = fakebin / name
            path.write_text("#!/bin/sh\n" + body)
            path.chmod(0o755)
        env = {"PATH": str(fakebin), "FAKE_INSTALLED": " ".join(installed),
               "FAKE_UID": str(uid), "FAKE_LOG": str(log)}
        if sudo is not None:
            env["FAKE_SUDO"] = sudo
        proc = subprocess.run(["/bin/sh", str(SCRIPT), *args], env=env,
                              capture_output=True, text=True,
                              cwd=config.REPO)
        calls = log.read_text().splitlines() if log.exists() else []
        return proc, calls

    return run


def test_list_names_the_compiler_and_the_dev_packages():
    packages = all_packages()
    assert "build-essential" in packages
    assert "libssl-dev" in packages
    assert len(packages) == len(set(packages))


@pytest.mark.parametrize("arch, expected", [
    ("amd64", True), ("arm64", True), ("i386", False), ("armhf", False)])
def test_list_names_the_thread_sanitizer_runtime_where_built(machine, arch,
                                                             expected):
    # make test-tsan links it; Debian has none for 32-bit architectures,
    # where asking apt-get for it would fail the whole installation.
    tools = dict(FAKES, dpkg=f'echo "{arch}"')
    proc, _ = machine("--list", tools=tools)
    assert proc.returncode == 0, proc.stderr
    assert ("libtsan2" in proc.stdout.split()) == expected


def test_nothing_missing_does_nothing(machine):
    proc, calls = machine("--auto", installed=all_packages())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == proc.stderr == ""
    assert calls == []


def test_root_installs_what_is_missing(machine):
    have = [p for p in all_packages()
            if p not in ("build-essential", "libffi-dev")]
    proc, calls = machine("--auto", installed=have, uid=0)
    assert proc.returncode == 0, proc.stderr
    assert calls == [
        "apt-get update -qq FRONTEND=noninteractive",
        "apt-get install -y -qq --no-install-recommends build-essential "
        "libffi-dev FRONTEND=noninteractive",
    ]


def test_passwordless_sudo_installs(machine):
    have = [p for p in all_packages() if p != "libssl-dev"]
    proc, calls = machine("--auto", installed=have, sudo="nopasswd")
    assert proc.returncode == 0, proc.stderr
    assert calls[0] == "sudo -n true"
    # The frontend survives sudo's reset of the environment.
    assert calls[-1] == ("apt-get install -y -qq --no-install-recommends "
                         "libssl-dev FRONTEND=noninteractive")


def test_password_needed_stops_with_the_command(machine):
    # A fresh machine: nothing installed, no compiler, sudo wants a password.
    proc, calls = machine("--auto", sudo="password")
    assert proc.returncode == 1
    assert calls == ["sudo -n true"]
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("error: building needs these packages")
    assert lines[1].split() == all_packages()
    assert lines[-1] == "    sudo sh " + str(SCRIPT)


def test_no_sudo_stops_with_the_command(machine):
    tools = {name: body for name, body in FAKES.items() if name != "sudo"}
    proc, calls = machine("--auto", installed=["git"], tools=tools)
    assert proc.returncode == 1
    assert calls == []
    assert "git" not in proc.stderr.splitlines()[1].split()
    assert proc.stderr.splitlines()[-1] == f"    su -c 'sh {SCRIPT}'"


def test_by_hand_uses_sudo_even_with_a_password(machine):
    have = [p for p in all_packages() if p != "tk-dev"]
    proc, calls = machine(installed=have, sudo="password")
    assert proc.returncode == 0, proc.stderr
    assert calls[0].startswith("sudo env DEBIAN_FRONTEND=noninteractive")
    assert calls[-1].startswith("apt-get install")


def test_without_dpkg_only_a_compiler_is_checked(machine):
    tools = {name: body for name, body in FAKES.items()
             if name != "dpkg-query"}
    proc, _ = machine("--auto", tools=tools)
    assert proc.returncode == 1
    assert "no C compiler found" in proc.stderr
    proc, _ = machine("--auto", tools={**tools, "cc": "exit 0"})
    assert proc.returncode == 0, proc.stderr


def test_make_checks_the_dependencies_before_building():
    # What `make` would run, in order: the check comes first.
    out = subprocess.run(["make", "-n", "python"], cwd=config.REPO,
                         capture_output=True, text=True, check=True).stdout
    lines = [line for line in out.splitlines() if line.strip()]
    check = next(i for i, line in enumerate(lines)
                 if "install-build-deps.sh --auto" in line)
    build = next(i for i, line in enumerate(lines)
                 if "-m driver build release" in line)
    assert check < build
