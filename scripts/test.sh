#!/bin/sh
# `npm test` after the build: ESLint and the mocha suite side by side. Lint is one process on one core (35–40 s
# of CPU, most of it type information); the suite leaves a core idle much of the time while it waits on
# daemons and installs, so lint runs in that time (niced: the tests' own timing comes first) instead of
# before it. Both must pass; lint's report is printed after the tests'. Arguments go to mocha.
lint_out="$(mktemp "${TMPDIR:-/tmp}/kiosk-lint.XXXXXX")"
nice -n 10 npm run -s lint >"$lint_out" 2>&1 &
lint=$!
mocha --config test/full.mocharc.cjs "$@"
tests=$?
wait "$lint"
linted=$?
if [ "$linted" -ne 0 ]; then
  echo "npm run lint failed (exit $linted):"
  cat "$lint_out"
fi
rm -f "$lint_out"
[ "$tests" -eq 0 ] && [ "$linted" -eq 0 ]
