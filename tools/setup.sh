#!/bin/sh
# Set up .venv from requirements.lock: the set-up behind `make lab`, `make test` and `make install`.
#
# Finds a supported Python (PYTHON if given, else the newest that python3.13, python3.12, python3.11,
# python3 or python on PATH runs), makes .venv with it and installs exactly what the lock names, hashes checked:
# with uv when uv is on PATH (shared cache, parallel downloads), else with pip. Plain POSIX sh, so
# it runs before any Python is known to work. `sh tools/setup.sh --which-python` only prints the
# Python it would choose (or why none fits) and exits.
set -eu

SUPPORTED="3.13 3.12 3.11"
VENV=${VENV:-.venv}
VPY=$VENV/bin/python
LOCK=requirements.lock

version_of() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null; }
is_supported() { case " $SUPPORTED " in *" $1 "*) return 0 ;; esac; return 1; }

no_supported_python() {
    cat >&2 <<EOF
No supported Python found. The course needs Python 3.11, 3.12 or 3.13 (TensorFlow 2.20, which the
course uses, has no packages for Python 3.14 or newer yet).
$1
Install one of them with any of these, then run the same make command again:
  uv (any system):  uv python install 3.13, then add PYTHON="\$(uv python find 3.13)" to the make command
  macOS, Homebrew:  brew install python@3.13
  Debian 13:        sudo apt install python3 python3-pip      (Debian 13 ships 3.13)
  Ubuntu 24.04:     sudo apt install python3 python3-pip      (Ubuntu 24.04 ships 3.12)
  Fedora:           sudo dnf install python3.13
  python.org:       the 3.13 installer from https://www.python.org/downloads/
make looks for python3.13, python3.12, python3.11 and python3 on PATH; to choose one yourself:
  make lab PYTHON=/path/to/python3.13
EOF
    exit 1
}

pick_python() {
    if [ -n "${PYTHON:-}" ]; then
        version=$(version_of "$PYTHON") || no_supported_python "PYTHON=$PYTHON does not run as a Python."
        is_supported "$version" || no_supported_python "PYTHON=$PYTHON is Python $version."
        echo "$PYTHON"
        return
    fi
    found="" best="" best_minor=0
    # The supported names first, then others only so that the message can name what is there.
    for name in python3.13 python3.12 python3.11 python3 python python3.14 python3.15 python3.10 python3.9; do
        path=$(command -v "$name" 2>/dev/null) || continue
        version=$(version_of "$path") || continue
        minor=${version#3.}
        if is_supported "$version" && [ "$minor" -gt "$best_minor" ]; then
            best=$path best_minor=$minor
        fi
        case "$found" in *"  $path is"*) ;; *) found="$found  $path is Python $version
" ;; esac
    done
    if [ -n "$best" ]; then
        echo "$best"
        return
    fi
    [ -n "$found" ] || found="  no python3 on PATH
"
    no_supported_python "Found on PATH:
$found"
}

if [ "${1:-}" = "--which-python" ]; then
    pick_python
    exit 0
fi

# pip itself comes from the lock, hash-checked: the lock's pip line and its hashes, on their own.
pip_lock=$(mktemp)
trap 'rm -f "$pip_lock" "$pip_lock.log"' EXIT
awk '/^pip==/ { found = 1 } found { print } found && !/\\$/ { exit }' "$LOCK" > "$pip_lock"

# An existing .venv is kept when its Python is still supported (a second set-up only syncs packages).
if [ -x "$VPY" ] && is_supported "$(version_of "$VPY" || echo none)"; then
    :
else
    python=$(pick_python)
    echo "Setting up $VENV with $python (Python $(version_of "$python"))."
    rm -rf "$VENV"
    if command -v uv >/dev/null 2>&1; then
        uv venv --quiet --python "$python" "$VENV"
    elif ! "$python" -m venv "$VENV" 2>/dev/null; then
        # Debian's python3 lacks ensurepip unless python3-venv is installed: make the venv without pip,
        # then let the system's pip install the lock's pip into it (`pip --python`, pip >= 22.3).
        rm -rf "$VENV"
        "$python" -m venv --without-pip "$VENV"
        "$python" -m pip --python "$VPY" install --quiet --disable-pip-version-check --require-hashes \
            --no-deps -r "$pip_lock"
    fi
fi

# Exactly the lock: every package pinned and hash-checked, nothing resolved on the day. The one source
# package (antlr4-python3-runtime) is built with the lock's setuptools (--build-constraint), and the
# course's own package, editable, with the setuptools in .venv (no build isolation). Bytecode is compiled
# at install (pip does by default; uv with --compile-bytecode): the tests start many Python processes, and
# none should compile TensorFlow's, pandas' or scikit-learn's sources again.
if command -v uv >/dev/null 2>&1; then
    echo "Installing $LOCK with uv."
    uv pip sync --quiet --compile-bytecode --python "$VPY" --require-hashes --build-constraints "$LOCK" "$LOCK"
    uv pip install --quiet --python "$VPY" --no-deps --no-build-isolation -e .
else
    echo "Installing $LOCK with pip (a uv on PATH would make this faster)."
    "$VPY" -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r "$pip_lock"
    "$VPY" -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
        --build-constraint "$LOCK" -r "$LOCK"
    # setuptools' note about editable installs is noise here; the output is shown only if this fails.
    "$VPY" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . \
        >"$pip_lock.log" 2>&1 || { cat "$pip_lock.log"; exit 1; }
    # pip adds but never removes: take out what an earlier lock had and this one does not.
    left_over=$("$VPY" -m course.lockfile --not-locked)
    [ -z "$left_over" ] || "$VPY" -m pip uninstall --quiet --disable-pip-version-check -y $left_over
fi

# The notebooks' kernel is this Python, with TensorFlow's C++ log lines silenced.
"$VPY" -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (workshop)" \
    --env TF_CPP_MIN_LOG_LEVEL 3 >/dev/null
echo "Set-up done: $VENV holds exactly what $LOCK names for Python $(version_of "$VPY")."
