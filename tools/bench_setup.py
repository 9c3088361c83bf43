"""How long the course's set-up takes with pip and with uv: the first line of `make bench`.

    python tools/bench_setup.py              # pip and uv, about 5-10 minutes
    python tools/bench_setup.py --only uv    # one of them
    python tools/bench_setup.py --keep       # leave the venvs and caches in build/bench-setup/

Participants run tools/setup.sh on the morning of the course, often on a slow network, so its time
matters; setup.sh uses uv when uv is on PATH, else pip. This times tools/setup.sh itself, for each
tool: a cold set-up (empty package cache, no venv), one with a filled cache (venv deleted, cache
kept) and a no-op re-run on a complete venv, then `make install` with its stamp up to date. It
prints the seconds, the venv's size on disk and the cache's size after the cold run.

Everything lands in build/bench-setup/ (venvs and private PIP_CACHE_DIR / UV_CACHE_DIR), never in
.venv or the user's caches. pip runs with a PATH without any uv; uv runs with the pinned
.venv/bin/uv first on PATH. Local wheel folders of a pip configuration would flatter pip, so the
set-up runs with PIP_CONFIG_FILE=/dev/null and without PIP_* variables (except PIP_CERT); the
certificate variables stay, so HTTPS to PyPI works behind a proxy. sh reads a script while it runs
it, so every run uses a copy of tools/setup.sh taken at the start: an edit during the benchmark
neither breaks a run nor mixes two versions. The cold figures are download times: they depend on
the network and on PyPI on the day. Figures, not a test.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / "build" / "bench-setup"
UV = ROOT / ".venv" / "bin" / "uv"
CACHE_VARIABLE = {"pip": "PIP_CACHE_DIR", "uv": "UV_CACHE_DIR"}


def environment(tool: str, uv_dir: Path) -> dict:
    """The set-up's environment: no pip configuration, a private cache, uv on PATH only for uv."""
    env = {
        key: value
        for key, value in os.environ.items()
        if (not key.startswith("PIP_") or key == "PIP_CERT") and key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env[CACHE_VARIABLE[tool]] = str(SCRATCH / f"{tool}-cache")
    path = [
        entry
        for entry in os.environ.get("PATH", "").split(os.pathsep)
        if entry and Path(entry).resolve() != UV.parent and not (Path(entry) / "uv").exists()
    ]
    env["PATH"] = os.pathsep.join(([str(uv_dir)] if tool == "uv" else []) + path)
    return env


COMMAND_TIMEOUT = 1800  # a cold set-up downloads TensorFlow: minutes, never half an hour


def timed(command: list, env: dict, what: str) -> float:
    """Runs command in the repository's root; its seconds, or exits with the tail of its output."""
    print(f"  {what} ...", flush=True)
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=COMMAND_TIMEOUT
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        tail = "\n".join(done.stdout.rstrip().splitlines()[-30:])
        sys.exit(f"bench_setup: {what} failed (exit {done.returncode}) after {seconds:.0f} s:\n{tail}")
    print(f"  {what}: {seconds:.1f} s", flush=True)
    return seconds


def size_mb(folder: Path) -> float:
    """Disk usage like `du -s` (each hard-linked file once), in MB."""
    seen, blocks = set(), 0
    for directory, _, files in os.walk(folder):
        for name in files:
            stat = os.lstat(os.path.join(directory, name))
            if (stat.st_dev, stat.st_ino) not in seen:
                seen.add((stat.st_dev, stat.st_ino))
                blocks += stat.st_blocks
    return blocks * 512 / 1e6


def bench(tool: str, env: dict) -> dict:
    venv, cache = SCRATCH / f"{tool}-venv", SCRATCH / f"{tool}-cache"
    env = {**env, "VENV": str(venv.relative_to(ROOT))}
    setup = ["sh", str((SCRATCH / "setup.sh").relative_to(ROOT))]
    print(f"{tool}: set-up into {venv.relative_to(ROOT)}, cache {cache.relative_to(ROOT)}", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    row = {"cold": timed(setup, env, f"{tool} cold set-up (empty cache, no venv)")}
    row["cache_mb"] = size_mb(cache)
    shutil.rmtree(venv)
    row["warm"] = timed(setup, env, f"{tool} set-up with a filled cache (venv deleted)")
    row["noop"] = timed(setup, env, f"{tool} no-op re-run of tools/setup.sh")
    row["venv_mb"] = size_mb(venv)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["pip", "uv"], help="benchmark one tool only")
    parser.add_argument("--keep", action="store_true", help="keep the venvs and caches in build/bench-setup/")
    args = parser.parse_args()
    tools = [args.only] if args.only else ["pip", "uv"]
    if "uv" in tools and not UV.exists():
        sys.exit(f"bench_setup: no pinned uv at {UV}; run `make install` first.")
    SCRATCH.mkdir(parents=True, exist_ok=True)
    uv_dir = Path(tempfile.mkdtemp(prefix="uv-bin-", dir=SCRATCH))
    (uv_dir / "uv").symlink_to(UV)
    shutil.copy(ROOT / "tools" / "setup.sh", SCRATCH / "setup.sh")
    lock = (ROOT / "requirements.lock").read_bytes()
    rows = {}
    try:
        for tool in tools:
            env = environment(tool, uv_dir)
            rows[tool] = bench(tool, env)
        # `make install` on a complete venv: the first call runs setup.sh and writes the stamp, the second is timed.
        venv = str((SCRATCH / f"{tools[-1]}-venv").relative_to(ROOT))
        make = ["make", "--no-print-directory", "install", f"VENV={venv}"]
        timed(make, env, f"make install VENV={venv} (writes the stamp)")
        make_noop = timed(make, env, "make install, stamp up to date")
    finally:
        shutil.rmtree(uv_dir)
        (SCRATCH / "setup.sh").unlink()
        for tool in [] if args.keep else tools:
            shutil.rmtree(SCRATCH / f"{tool}-venv", ignore_errors=True)
            shutil.rmtree(SCRATCH / f"{tool}-cache", ignore_errors=True)

    lines = [
        ("", *(f"{tool:>8}" for tool in tools)),
        ("cold set-up: empty cache, no venv (s)", *(f"{rows[t]['cold']:8.1f}" for t in tools)),
        ("set-up with a filled cache, no venv (s)", *(f"{rows[t]['warm']:8.1f}" for t in tools)),
        ("no-op re-run of tools/setup.sh (s)", *(f"{rows[t]['noop']:8.1f}" for t in tools)),
        ("venv size on disk (MB)", *(f"{rows[t]['venv_mb']:8.0f}" for t in tools)),
        ("cache size after the cold run (MB)", *(f"{rows[t]['cache_mb']:8.0f}" for t in tools)),
    ]
    print()
    for label, *cells in lines:
        print(f"{label:<41}" + "  ".join(cells))
    print(f"{'make install, stamp up to date (s)':<41}{make_noop:8.2f}")
    if (ROOT / "requirements.lock").read_bytes() != lock:
        print("requirements.lock changed during the benchmark: these figures mix two locks.")
    if "pip" in tools and rows["pip"]["cache_mb"] < 1:
        print(
            "pip's cache stayed empty: pip keeps only downloads whose HTTP headers allow it (ETag, max-age or\n"
            "Expires) and these carried none (a proxy may strip them): its filled-cache run fetched it all again."
        )
    if "uv" in tools:
        print("uv hard-links installed files from its cache: its venv and cache share most of their disk blocks.")


if __name__ == "__main__":
    main()
