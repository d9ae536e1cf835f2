# Shared by scripts/run and scripts/test (sourced, not executed): make sure .venv exists and holds
# this project with the extras asked for, reinstalling only when pyproject.toml changed.
# Environment: PYTHON picks the interpreter (default python3, must be 3.11 or newer);
# DIGITGUI_VENV picks the virtual environment folder (default .venv in the repository).

set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
venv="${DIGITGUI_VENV:-$repo/.venv}"

say() { printf 'digitgui: %s\n' "$*" >&2; }

ensure_venv() {  # $1: pip extras, e.g. "test" or ""
  local extras="$1" python="${PYTHON:-python3}"
  if ! command -v "$python" >/dev/null 2>&1; then
    say "cannot find $python; install Python 3.11 or newer (or set PYTHON=/path/to/python3)"
    exit 2
  fi
  if [ ! -x "$venv/bin/python" ]; then
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      say "$("$python" --version 2>&1) is too old; digitgui needs Python 3.11 or newer (set PYTHON=...)"
      exit 2
    fi
    say "creating a virtual environment in $venv"
    if ! "$python" -m venv "$venv"; then
      say "could not create a virtual environment; on Debian/Ubuntu: apt-get install python3-venv"
      exit 2
    fi
  fi
  # The stamp records the pyproject.toml it was installed from and the extras: a venv set up for
  # the tests also serves the app, so switching between the two scripts installs nothing.
  local stamp="$venv/.digitgui-install" hash have=""
  hash="$(sha256sum < pyproject.toml | cut -c1-16)"
  [ -f "$stamp" ] && have="$(cat "$stamp")"
  if [ "$have" != "$hash [$extras]" ] && [ "$have" != "$hash [test]" ]; then
    say "installing digitgui and its dependencies into $venv (first run only)"
    "$venv/bin/python" -m pip install --quiet --upgrade pip >/dev/null
    local target="."
    [ -n "$extras" ] && target=".[$extras]"
    "$venv/bin/python" -m pip install --quiet -e "$target"
    echo "$hash [$extras]" > "$stamp"
  fi
}

check_qt() {  # fails with the missing system library's name when Qt cannot load
  if ! "$venv/bin/python" -m digitgui.gui.syscheck; then
    exit 3
  fi
}
