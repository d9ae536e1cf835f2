# Shared by scripts/run and scripts/test (sourced, not executed): make sure .venv exists and holds
# this project with the extras asked for, reinstalling only when pyproject.toml changed.
# Environment: PYTHON picks the interpreter (default python3, must be 3.11 or newer);
# DIGITGUI_VENV picks the virtual environment folder (default .venv in the repository; a relative
# path is taken from the folder the script was started in).
# After sourcing, the working directory is the repository (scripts/test runs ruff and pytest
# there); $caller_dir holds the folder the user started in, for commands that take their paths.

set -euo pipefail
caller_dir="$PWD"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${DIGITGUI_VENV:-$repo/.venv}"
case "$venv" in /*) ;; *) venv="$caller_dir/$venv" ;; esac
cd "$repo"

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

check_qt() {  # the whole check: fails with the missing system library's name when Qt cannot load
  if ! "$venv/bin/python" -m digitgui.gui.syscheck; then
    exit 3
  fi
}

# Whether `digitgui ARGS` opens the app window (only that needs Qt and a display): no command,
# `gui`, or only app options such as `--model X`. A subcommand (train, predict, ...: whatever
# digitgui.cli's parser defines), --help, --version or a command line the parser rejects prints
# and exits without a window. The usual command lines are told apart here, without starting
# Python: only `gui` and `--model X` (the app), or -h/--help/--version or a word that is not
# `gui` (a command, or one the parser rejects) before anything unusual. Anything else goes to
# the app's own parser; if it cannot be loaded, the first word that is not an option decides
# (none or `gui`: the app). scripts/run no longer asks (the app checks Qt itself, cached).
is_gui_command() {
  local arg value="" gui=""
  for arg in "$@"; do
    if [ -n "$value" ]; then  # the value of --model, unless it looks like an option
      case "$arg" in -*) value=unsure; break ;; esac
      value=""
      continue
    fi
    case "$arg" in
      --model) value=1 ;;
      --model=?*) ;;
      -h | --help | --version) return 1 ;;
      gui) [ -n "$gui" ] && return 1; gui=1 ;;  # `gui gui`: the parser rejects it
      -*) value=unsure; break ;;
      *) return 1 ;;
    esac
  done
  [ -z "$value" ] && return 0
  local code=0
  "$venv/bin/python" - "$@" <<'PY' >/dev/null 2>&1 || code=$?
import contextlib, io, sys
from digitgui.cli import build_parser
parser = build_parser()
try:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        args = parser.parse_args(sys.argv[1:])
except (SystemExit, Exception):
    sys.exit(10)
sys.exit(0 if getattr(args, "command", None) in (None, "gui") else 10)
PY
  case "$code" in
    0) return 0 ;;
    10) return 1 ;;
  esac
  local skip=""
  for arg in "$@"; do
    if [ -n "$skip" ]; then skip=""; continue; fi
    case "$arg" in
      -h | --help | --version) return 1 ;;
      --model | --data-dir) skip=1 ;;
      --) ;;
      -?*) ;;
      gui) break ;;
      *) return 1 ;;
    esac
  done
  case " $* " in *" -h "* | *" --help "*) return 1 ;; esac
  return 0
}
