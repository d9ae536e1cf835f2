# Shared by scripts/run and scripts/test (sourced, not executed): make sure the virtual environment
# exists, works and holds this project with the extras asked for, reinstalling only when
# pyproject.toml changed.
# Environment: PYTHON picks the interpreter (default python3, must be 3.11 or newer; a venv made
# with another Python version than PYTHON's is rebuilt); DIGITGUI_VENV picks the virtual
# environment folder (default .venv in the repository; a relative path is taken from the folder
# the script was started in).
# After sourcing, the working directory is the repository (scripts/test runs ruff and pytest
# there); $caller_dir holds the folder the user started in, for commands that take their paths.

set -euo pipefail
caller_dir="$PWD"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${DIGITGUI_VENV:-$repo/.venv}"
case "$venv" in /*) ;; *) venv="$caller_dir/$venv" ;; esac
cd "$repo"

say() { printf 'digitgui: %s\n' "$*" >&2; }

# The stamp "<pyproject.toml hash> [<extras>]" is written after a complete install: a venv set up
# for the tests ([test]) also serves the app, so switching between the two scripts installs
# nothing, and a reinstall keeps the extras that were there.
stamp_covers() {  # $1: the stamp's text, $2: pyproject.toml's hash, $3: the extras needed
  [ "$1" = "$2 [$3]" ] || [ "$1" = "$2 [test]" ]
}

python_version() {  # major.minor of interpreter $1, or nothing when it does not start
  "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true
}

venv_version() {  # major.minor of the Python the venv was made with (its pyvenv.cfg), or nothing
  local key value major minor rest
  [ -f "$venv/pyvenv.cfg" ] || return 0
  while IFS='=' read -r key value; do
    key="${key//[[:space:]]/}"
    case "$key" in
      version | version_info)
        IFS=. read -r major minor rest <<<"${value//[[:space:]]/}"
        printf '%s.%s\n' "$major" "$minor"
        return 0
        ;;
    esac
  done <"$venv/pyvenv.cfg"
}

need_python() {  # the interpreter that makes venvs exists and is 3.11 or newer
  local python="$1" version
  if ! command -v "$python" >/dev/null 2>&1; then
    say "cannot find $python; install Python 3.11 or newer (or set PYTHON=/path/to/python3)"
    exit 2
  fi
  version="$(python_version "$python")"
  if [ -z "$version" ]; then
    say "$python does not start; install Python 3.11 or newer (or set PYTHON=/path/to/python3)"
    exit 2
  fi
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    say "$python is Python $version, too old; digitgui needs Python 3.11 or newer (set PYTHON=...)"
    exit 2
  fi
}

# Why the venv cannot be used as it is (nothing when it can): $1 is "install" when packages are
# about to be installed into it (then pip must be there too).
venv_problem() {
  local purpose="$1" made want
  if [ ! -e "$venv/bin/python" ]; then
    if [ -L "$venv/bin/python" ]; then
      echo "has lost its Python ($(readlink "$venv/bin/python") is gone)"
    elif [ -f "$venv/pyvenv.cfg" ]; then
      echo "is incomplete (it has no bin/python: its creation did not finish)"
    elif [ -n "$(ls -A "$venv" 2>/dev/null)" ]; then
      echo "is not a virtual environment"
    fi
    return 0
  fi
  if [ -n "${PYTHON:-}" ]; then
    made="$(venv_version)"
    want="$(python_version "$PYTHON")"
    if [ -n "$made" ] && [ -n "$want" ] && [ "$made" != "$want" ]; then
      echo "was made with Python $made, but PYTHON=$PYTHON is Python $want"
      return 0
    fi
  fi
  if [ "$purpose" = install ]; then
    if ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
      echo "is broken (its Python does not start)"
    elif ! "$venv/bin/python" -c 'import pip' >/dev/null 2>&1; then
      echo "is incomplete (it has no pip: its creation did not finish)"
    fi
  fi
}

make_venv() {  # create the venv with $1; a failed attempt leaves nothing behind
  local python="$1" version out existed=""
  version="$(python_version "$python")"
  [ -e "$venv" ] && existed=1
  say "creating a virtual environment in $venv with Python $version ($python)"
  if ! out="$("$python" -m venv "$venv" 2>&1)"; then
    [ -z "$existed" ] && rm -rf "$venv"
    case "$out" in
      *ensurepip*)
        say "could not create a virtual environment: Python $version ($python) lacks ensurepip; on Debian/Ubuntu: sudo apt-get install python$version-venv"
        ;;
      *)
        say "could not create a virtual environment in $venv with $python: $(printf '%s\n' "$out" | grep . | tail -n 1)"
        ;;
    esac
    exit 2
  fi
}

show_pip_progress() {  # pip's output in, one line per download and a count of packages out
  local line file name size dist version rest
  while IFS= read -r line; do
    case "$line" in
      *Downloading\ *)
        file="${line##*Downloading }"
        case "$file" in *.metadata | *.metadata\ *) continue ;; esac
        name="${file%% *}"
        name="${name##*/}"
        size=""
        case "$file" in *" ("*")") size=" (${file##* (}" ;; esac
        IFS=- read -r dist version rest <<<"$name"
        version="${version%.tar.gz}"
        version="${version%.zip}"
        say "  downloading $dist $version$size"
        ;;
      "Installing collected packages: "*)
        rest="${line#*: }"
        set -- ${rest//,/ }
        if [ "$#" = 1 ]; then say "  installing $1"; else say "  installing $# packages"; fi
        ;;
    esac
  done
  return 0
}

pip_install() {  # $1: extras; pip's whole output goes to a log in the venv
  local extras="$1" target="." log="$venv/.digitgui-install.log" status missing
  [ -n "$extras" ] && target=".[$extras]"
  set +e
  "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off -e "$target" \
    2>&1 | tee "$log" | show_pip_progress
  status="${PIPESTATUS[0]}"
  set -e
  [ "$status" = 0 ] && return 0
  if grep -qE 'NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|Name or service not known|Network is unreachable|No route to host|Connection refused|ConnectTimeoutError|ReadTimeoutError|ProxyError|SSLError|Could not fetch URL|connection broken' "$log"; then
    say "could not download digitgui's dependencies (no connection to the package index, pypi.org); connect to the internet and run this again (pip's messages: $log)"
  elif missing="$(grep -oE 'No matching distribution found for [^ ]+' "$log" | tail -n 1)" && [ -n "$missing" ]; then
    say "pip found no version of ${missing##* } for Python $(venv_version) here; try another Python with PYTHON=/path/to/python3 (pip's messages: $log)"
  else
    say "pip could not install digitgui's dependencies ($(grep -E '^ *(ERROR|error):' "$log" | tail -n 1 | sed 's/^ *//' || true)); pip's messages: $log"
  fi
  exit 2
}

ensure_venv() {  # $1: pip extras, e.g. "test" or ""
  local extras="$1" python="${PYTHON:-python3}" stamp="$venv/.digitgui-install" hash have=""
  local kept problem purpose=run first=" (first run only; a few minutes)"
  hash="$(sha256sum <pyproject.toml | cut -c1-16)"
  [ -f "$stamp" ] && have="$(cat "$stamp")"
  # The usual case costs no Python start: the venv works, is installed and no PYTHON was asked for.
  if [ -x "$venv/bin/python" ] && stamp_covers "$have" "$hash" "$extras" && [ -z "${PYTHON:-}" ]; then
    return 0
  fi
  kept="${have##*[}"
  [ "${kept%]}" = test ] && extras=test  # a reinstall keeps the test tools that were there
  stamp_covers "$have" "$hash" "$extras" || purpose=install
  [ -n "${PYTHON:-}" ] && need_python "$python"
  if [ -e "$venv" ] || [ -L "$venv" ]; then
    problem="$(venv_problem "$purpose")"
    if [ -n "$problem" ]; then
      # Deleted only when it is ours (the default folder or one this script installed into) or
      # holds nothing yet; never a folder that is not a venv.
      if [ "$problem" != "is not a virtual environment" ] && { [ "$venv" = "$repo/.venv" ] ||
        [ -f "$stamp" ] || [[ "$problem" == "is incomplete"* ]]; }; then
        need_python "$python"
        say "$venv $problem: rebuilding it (deleting it, then creating it again with $python)"
        rm -rf "$venv"
        first=""
      else
        say "$venv $problem; delete it or choose another folder with DIGITGUI_VENV=..."
        exit 2
      fi
    fi
  fi
  if [ ! -x "$venv/bin/python" ]; then
    need_python "$python"
    make_venv "$python"
    have=""
  fi
  stamp_covers "$have" "$hash" "$extras" && return 0
  if [ -z "$have" ]; then
    say "installing digitgui and its dependencies into $venv$first"
  elif [ "${have%% *}" != "$hash" ]; then
    say "pyproject.toml changed since $venv was set up: updating the packages installed there"
  else
    say "adding the test tools to $venv"
  fi
  pip_install "$extras"
  echo "$hash [$extras]" >"$stamp"
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
