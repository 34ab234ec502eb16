#!/bin/sh
# test-repeat.sh GIMP-CONSOLE PLUG-IN [GIMP-GUI] — the reference across runs, in a
# real, headless GIMP 3 with a fresh profile: Filters ▸ Repeat
# (RUN-WITH-LAST-VALS) and Re-Show use the values GIMP saved after the
# last interactive run, where it cannot save a layer.  An interactive run
# needs the dialog, and gimp-console has no display: the plug-in's test
# hook REFSR_TEST_ACCEPT_DIALOG=1 accepts the dialog unseen, with the
# values it would have opened with (repeat.scm and repeat-restart.scm,
# a second session with the same profile, say what is checked).
# Also checked: no "couldn't serialize" warning from GIMP, the message of
# a repeat whose reference is gone, and the help domain in pluginrc; with
# GIMP-GUI (gimp-3.0) and xvfb-run, that GIMP's help system opens the help
# page for the dialog's help ID (in a stand-in web browser).
# TAP output; GIMP-CONSOLE "" (none found when configured): a skip, or a
# failure under CI=true.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
set -u
GIMP=$1
PLUGIN=$2
GUI=${3:-}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/gimp-tap.sh"
FIX=${REFSR_FIXTURES:?}
W=$FIX/weights-1+1+1+1-seed1.safetensors

# The plug-in as tools/install-user.sh installs it, help pages included.
dir=$T/home/.config/GIMP/3.0/plug-ins/refsr
mkdir -p "$dir"
cp "$PLUGIN" "$dir/refsr"
cp -R "$HERE/../../data/help" "$dir/help"

# Interactive runs read no arguments: the built-in model is the fixture.
# G_DEBUG is dropped as in test-plugin.sh (GIMP's own criticals at quit).
run_batch() {   # run_batch SCRIPT LOG LAST-VERDICT: one GIMP session
  HOME=$T/home LANG=C.UTF-8 LC_ALL= LANGUAGE= REFSR_TEST_ACCEPT_DIALOG=1 \
    REFSR_WEIGHTS=$W timeout 300 env -u G_DEBUG "$GIMP" -i -f -d --quit \
    --batch-interpreter=plug-in-script-fu-eval \
    -b "(define T \"$T\") (define W \"$W\") (define HERE \"$HERE\") (load \"$HERE/$1\")" \
    </dev/null >"$2" 2>&1
  status=$?
  verdicts "$2"
  if [ $status -ne 0 ] || ! grep -q "$3" "$T/verdicts"; then
    result fail "$1 ran to its end (exit $status)" "$2"
  fi
}
run_batch repeat.scm "$T/log" 'repeat batch: done'
run_batch repeat-restart.scm "$T/log2" 'restart batch: done'
if grep -q "couldn't serialize" "$T/log" "$T/log2"; then
  grep -h "couldn't serialize" "$T/log" "$T/log2" >"$T/out"
  result fail "GIMP saved the last values without \"couldn't serialize\"" "$T/out"
else
  result ok "GIMP saved the last values without \"couldn't serialize\""
fi
check "the repeat after a restart found its reference (no fallback message)" \
  sh -c "! grep 'is no longer open' '$T/log2'"
check "the repeat without its reference says so" \
  grep -q "The reference used last time, “Sharp photo”, is no longer open; this run used “Decoy” instead." "$T/log"
check "the reference is remembered in the saved last values" \
  grep -rq 'last-reference-name "Far reference"' "$T/home/.config/GIMP/3.0/plug-in-settings"
check "the help domain is registered with the help pages' folder" \
  grep -q "refsr-help.*file://$dir/help" "$T/home/.config/GIMP/3.0/pluginrc"
# The help: what the dialog's Help button asks for, gimp-help with the
# plug-in's domain and the procedure's name, in a GIMP with a display.
# The "web browser" is a script that writes down the address it is given.
help_opens_page() {
  H=$T/home
  apps=$H/.local/share/applications
  mkdir -p "$apps"
  printf '#!/bin/sh\necho "$@" >>"%s"\n' "$T/opened" >"$T/browser"
  chmod +x "$T/browser"
  printf '[Desktop Entry]\nType=Application\nName=Stand-in\nExec=%s %%u\nMimeType=text/html;\n' \
    "$T/browser" >"$apps/stand-in.desktop"
  printf '[Default Applications]\ntext/html=stand-in.desktop\n' >"$H/.config/mimeapps.list"
  echo '(help-browser web-browser)' >>"$H/.config/GIMP/3.0/gimprc"
  HOME=$H XDG_CONFIG_HOME=$H/.config XDG_DATA_HOME=$H/.local/share \
    LANG=C.UTF-8 LC_ALL= LANGUAGE= timeout 120 xvfb-run -a \
    env -u G_DEBUG "$GUI" -d -f --batch-interpreter=plug-in-script-fu-eval \
    -b '(gimp-help "refsr-help" "plug-in-refsr")' </dev/null >"$T/gui.log" 2>&1 &
  gui=$!
  i=0
  while [ $i -lt 100 ] && [ ! -s "$T/opened" ]; do sleep 1; i=$((i + 1)); done
  kill "$gui" 2>/dev/null
  wait "$gui" 2>/dev/null
  cat "$T/opened" 2>/dev/null
  grep -q "plug-ins/refsr/help/en/refsr.html" "$T/opened" 2>/dev/null
}
if [ -n "$GUI" ] && [ -x "$GUI" ] && command -v xvfb-run >/dev/null; then
  check "Help opens the plug-in's page (help/en/refsr.html)" help_opens_page
else
  n=$((n + 1))
  echo "ok $n - Help opens the plug-in's page # SKIP needs gimp-3.0 and xvfb-run"
fi
echo "1..$n"
[ $fails -eq 0 ]
