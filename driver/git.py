"""A thin wrapper around the git command line."""

import os
import subprocess

from . import config


class GitError(Exception):
    """A git command failed; the message carries what git said."""


def run(repo, *args, env=None, input=None, check=True):
    """Run git in repo and return its stdout as text.

    env adds to the process environment; the driver's fixed identity and
    dates are always set so that commits are reproducible.
    """
    full_env = dict(os.environ)
    full_env.update(config.IDENTITY)
    # The user's configuration must not change what the driver writes.
    full_env["GIT_CONFIG_NOSYSTEM"] = "1"
    full_env["GIT_CONFIG_GLOBAL"] = os.devnull
    if env:
        full_env.update(env)
    proc = subprocess.run(["git", "-C", str(repo), *args], env=full_env,
                          input=input, capture_output=True, text=True)
    if check and proc.returncode:
        raise GitError(f"git {' '.join(args)} failed:\n"
                       f"{proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout
