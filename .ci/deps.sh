# Sourced by .ci/app and .ci/test: install what Tessera needs on Debian 12, skipping what
# is already there, and set the shared environment.

APT_PACKAGES=(
  build-essential pkg-config libssl-dev libdbus-1-dev
  libwebkit2gtk-4.1-dev libsoup-3.0-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev
  libsecret-1-dev
  xvfb xauth webkit2gtk-driver dbus dbus-x11 gnome-keyring xclip chromium curl desktop-file-utils
  postgresql
  python3-venv
)

say() { printf '\n==> %s\n' "$*"; }

# Stage timing: `stage NAME` closes the previous stage and opens NAME; `stages` prints the
# seconds each took (the README's cold and warm figures come from this table).
STAGE_NAMES=()
STAGE_SECS=()
_stage_name=""
_stage_start=0
stage() {
  local now
  now=$(date +%s)
  if [ -n "$_stage_name" ]; then
    STAGE_NAMES+=("$_stage_name")
    STAGE_SECS+=("$(( now - _stage_start ))")
  fi
  _stage_name="${1:-}"
  _stage_start=$now
  [ -z "$_stage_name" ] || say "$_stage_name"
}
stages() {
  stage ""
  printf '\n==> seconds per stage\n'
  local i
  for i in "${!STAGE_NAMES[@]}"; do
    printf '%6s s  %s\n' "${STAGE_SECS[$i]}" "${STAGE_NAMES[$i]}"
  done
}

install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "apt: installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    # A package's setup script can fail once on a fresh machine (seen here: dpkg exit 1 on
    # the first try, clean on the second); finish what dpkg started and try once more.
    if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/tmp/tessera-apt.log 2>&1; then
      say "apt: first attempt failed (log: /tmp/tessera-apt.log); retrying"
      tail -n 20 /tmp/tessera-apt.log >&2
      DEBIAN_FRONTEND=noninteractive $sudo dpkg --configure -a || true
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
  fi
}

install_ui() {
  say "npm: installing UI packages"
  npm --prefix ui install --no-audit --no-fund --loglevel=error
}

# The Python venv for the OAuth test with a standard Python client (Authlib; see
# src-tauri/crates/api/tests/python/). It lives outside the clone, beside CI's target dir,
# and is kept between runs: pip runs only when the venv lacks one of the pinned versions.
# Debian's /usr/bin/python3 on purpose (python3-venv above), not whatever python3 is first on
# PATH. Exports TESSERA_TEST_PYTHON, the venv's python, for the test.
OAUTH_PY_REQUIREMENTS=src-tauri/crates/api/tests/python/requirements.txt
install_oauth_python() {
  local venv="${TESSERA_CI_CACHE:-$HOME/.cache/tessera-ci}/oauth-python-venv"
  local py="$venv/bin/python"
  # A venv whose interpreter no longer runs (Python upgraded or removed) or that has no pip
  # (its creation was cut short) is made anew.
  if [ -e "$venv" ] && ! "$py" -c 'import pip' >/dev/null 2>&1; then
    rm -rf "$venv"
  fi
  if [ ! -x "$py" ]; then
    say "python: creating the venv $venv"
    mkdir -p "$(dirname "$venv")"
    /usr/bin/python3 -m venv "$venv"
  fi
  # Every "name==version" line of the requirements, checked against what the venv holds.
  if ! "$py" - "$OAUTH_PY_REQUIREMENTS" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if line:
        name, want = line.split("==")
        try:
            have = version(name)
        except PackageNotFoundError:
            sys.exit(1)
        if have != want:
            sys.exit(1)
PY
  then
    say "python: installing $OAUTH_PY_REQUIREMENTS into $venv"
    "$py" -m pip install --quiet --disable-pip-version-check --no-input \
      -r "$OAUTH_PY_REQUIREMENTS"
  fi
  export TESSERA_TEST_PYTHON="$py"
}

# .ci/test builds the UI once and sets TESSERA_UI_BUILT for the scripts it calls, which would
# otherwise each build it again (each script still builds it when run on its own).
build_ui() {
  if [ -n "${TESSERA_UI_BUILT:-}" ] && [ -f ui/dist/index.html ]; then
    return 0
  fi
  say "UI: build"
  npm --prefix ui run build
}

# Cargo's target dir as an absolute path (target/ in the clone, or $CARGO_TARGET_DIR).
target_dir() {
  local d="${CARGO_TARGET_DIR:-target}"
  case "$d" in /*) ;; *) d="$PWD/$d" ;; esac
  printf '%s\n' "$d"
}

# The version, from its one place: [workspace.package] in Cargo.toml.
tessera_version() {
  cargo metadata --no-deps --format-version 1 --locked |
    sed -n 's/.*"name":"tessera-app","version":"\([^"]*\)".*/\1/p'
}

# CI keeps Cargo's target dir outside the clone so repeated runs are incremental.
if [ "${CI:-}" = "true" ] && [ -z "${CARGO_TARGET_DIR:-}" ]; then
  export CARGO_TARGET_DIR="${TESSERA_CI_CACHE:-$HOME/.cache/tessera-ci}/target"
  mkdir -p "$CARGO_TARGET_DIR"
fi
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
