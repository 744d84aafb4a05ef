#!/bin/bash
# test_cli.sh -- end-to-end tests of the `loupe` command ($LOUPE_BIN) on
# temporary SQLite files: every verb, every output format, the error paths
# with their exit codes and messages, schema upgrades of real Optuna files, and,
# when a Python with optuna is available, what Python Optuna reads from the
# databases loupe wrote and what Optuna's own CLI prints for them.
#
# Environment: LOUPE_BIN (required), LOUPE_TEST_DATA (tests/data), LOUPE_PYTHON
# (a python with optuna; default: python3, then /usr/bin/python3).
set -u

: "${LOUPE_BIN:?set LOUPE_BIN to the loupe binary}"
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${LOUPE_TEST_DATA:-$HERE/../data}
FIX=$DATA/fixtures
T=$(mktemp -d "${TMPDIR:-/tmp}/loupe-cli-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
unset LOUPE_STORAGE OPTUNA_STORAGE
export TZ=UTC

checks=0
failures=0
fail() {
    failures=$((failures + 1))
    echo "FAIL: $*" >&2
}

# run ARGS...: runs loupe; stdout in $T/out, stderr in $T/err, status in RC.
run() {
    "$LOUPE_BIN" "$@" >"$T/out" 2>"$T/err"
    RC=$?
    LAST="loupe $*"
}

expect_rc() {
    checks=$((checks + 1))
    if [ "$RC" != "$1" ]; then
        fail "$LAST: exit status $RC, expected $1"
        sed 's/^/    stderr: /' "$T/err" | head -5 >&2
    fi
}

# expect_out TEXT: stdout is exactly TEXT plus a newline.
expect_out() {
    checks=$((checks + 1))
    printf '%s\n' "$1" >"$T/expected"
    if ! cmp -s "$T/expected" "$T/out"; then
        fail "$LAST: unexpected stdout"
        diff "$T/expected" "$T/out" | head -20 >&2
    fi
}

# expect_out_file FILE: stdout equals FILE byte for byte.
expect_out_file() {
    checks=$((checks + 1))
    if ! cmp -s "$1" "$T/out"; then
        fail "$LAST: stdout differs from $(basename "$1")"
        diff "$1" "$T/out" | head -20 >&2
    fi
}

# expect_norm TEXT: stdout with datetimes and durations masked is exactly TEXT.
normalize() {
    sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}/YYYY-MM-DD hh:mm:ss/g;
            s/[0-9]+:[0-9]{2}:[0-9]{2}\.[0-9]{6}/H:MM:SS.ffffff/g' "$@"
}
expect_norm() {
    checks=$((checks + 1))
    printf '%s\n' "$1" >"$T/expected"
    normalize "$T/out" >"$T/out.norm"
    if ! cmp -s "$T/expected" "$T/out.norm"; then
        fail "$LAST: unexpected stdout (datetimes masked)"
        diff "$T/expected" "$T/out.norm" | head -20 >&2
    fi
}

expect_err_has() {
    checks=$((checks + 1))
    if ! grep -qF -- "$1" "$T/err"; then
        fail "$LAST: stderr lacks: $1"
        sed 's/^/    stderr: /' "$T/err" | head -5 >&2
    fi
}

expect_err_lacks() {
    checks=$((checks + 1))
    if grep -qF -- "$1" "$T/err"; then fail "$LAST: stderr has: $1"; fi
}

expect_out_has() {
    checks=$((checks + 1))
    if ! grep -qF -- "$1" "$T/out"; then
        fail "$LAST: stdout lacks: $1"
    fi
}

expect_empty_out() {
    checks=$((checks + 1))
    if [ -s "$T/out" ]; then fail "$LAST: stdout should be empty"; fi
}

########################################################################### help, version, usage
run --version
expect_rc 0
expect_out "loupe 0.1.0"

run --help
expect_rc 0
for verb in create-study delete-study "study set-user-attr" study-names studies trials best-trial best-trials \
    "storage upgrade" ask tell; do
    expect_out_has "  $verb"
done
expect_out_has "exit status:"
expect_out_has "  2  usage error"

run
expect_rc 0
expect_out_has "usage: loupe"

for verb in create-study delete-study "study set-user-attr" study-names studies trials best-trial best-trials \
    "storage upgrade" ask tell; do
    # shellcheck disable=SC2086
    run $verb --help
    expect_rc 0
    expect_out_has "usage: loupe $verb"
    expect_out_has "--storage URL"
done
run trials -h
expect_rc 0
expect_out_has "--study-name NAME"

run frobnicate --storage sqlite:///x.db
expect_rc 2
expect_err_has "'frobnicate' is not a loupe command"

run studies --storage sqlite:///x.db --bogus
expect_rc 2
expect_err_has "unrecognized arguments: --bogus"

run studies --storage sqlite:///x.db -f xml
expect_rc 2
expect_err_has "argument -f/--format: invalid choice: 'xml' (choose from 'value', 'json', 'table', 'yaml')"

run trials --storage sqlite:///x.db
expect_rc 2
expect_err_has "the following arguments are required: --study-name"

run studies
expect_rc 2
expect_err_has "Storage URL is not specified"
expect_err_has "LOUPE_STORAGE"

run studies --storage sqlite:///x.db -v -q
expect_rc 2
expect_err_has "not allowed with argument -v/--verbose"

run studies --stor sqlite:///x.db
expect_rc 2
expect_err_has "ambiguous option: --stor could match --storage, --storage-class"

run tell --storage sqlite:///x.db --study-name s --trial-number 0 --values
expect_rc 2
expect_err_has "argument --values: expected at least one argument"

run tell --storage sqlite:///x.db --study-name s --trial-number zero --values 1
expect_rc 2
expect_err_has "argument --trial-number: invalid int value: 'zero'"

run tell --storage sqlite:///x.db --study-name s --trial-number 0 --values one
expect_rc 2
expect_err_has "argument --values: invalid float value: 'one'"

run create-study --storage sqlite:///x.db --direction minimize --directions minimize maximize
expect_rc 2
expect_err_has "Specify only one of --direction and --directions."

run ask --storage sqlite:///x.db --study-name s --sampler-kwargs '{"seed": 1}'
expect_rc 2
expect_err_has "--sampler-kwargs is set without --sampler"

run ask --storage sqlite:///x.db --study-name s --sampler CmaEsSampler
expect_rc 2
expect_err_has "CmaEsSampler is an Optuna sampler that loupe does not implement"

run ask --storage sqlite:///x.db --study-name s --sampler RandomSampler --sampler-kwargs '{"sed": 1}'
expect_rc 2
expect_err_has "RandomSampler got an unexpected keyword argument 'sed'"

run ask --storage sqlite:///x.db --study-name s --sampler TPESampler --sampler-kwargs '{"gamma": 1}'
expect_rc 2
expect_err_has "gamma is a Python function"

run ask --storage sqlite:///x.db --study-name s --search-space '{"x": '
expect_rc 2
expect_err_has "--search-space is not valid JSON"

run ask --storage sqlite:///x.db --study-name s --search-space '{"x": {"name": "FloatDistribution", "attributes": {"low": 2, "high": 1}}}'
expect_rc 2
expect_err_has "'x': low must be <= high"

run ask --storage sqlite:///x.db --study-name s --search-space '{"x": {"name": "NormalDistribution", "attributes": {}}}'
expect_rc 2
expect_err_has "unknown distribution class 'NormalDistribution'"

# Nothing above may have created a database.
checks=$((checks + 1))
[ -e x.db ] && fail "usage errors created x.db"

########################################################################### create-study, studies, study-names
S=sqlite:///t.db
run create-study --storage $S --study-name demo
expect_rc 0
expect_out "demo"
expect_err_has "A new study created in RDB with name: demo"
# Optuna's log format: "[I 2026-11-28 02:04:38,900] message"
checks=$((checks + 1))
grep -qE '^\[I [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2},[0-9]{3}\] A new study' "$T/err" ||
    fail "log line format: $(cat "$T/err")"

run create-study --storage $S --study-name demo
expect_rc 1
expect_err_has "Another study with study_name='demo' already exists. Pass --skip-if-exists"

run create-study --storage $S --study-name demo --skip-if-exists --direction maximize
expect_rc 0
expect_out "demo"
expect_err_has "Using an existing study with name 'demo' instead of creating a new one."

run --storage $S create-study --directions minimize maximize --study-name mo -q
expect_rc 0
expect_out "mo"
expect_err_lacks "A new study"

run create-study --storage $S
expect_rc 0
checks=$((checks + 1))
grep -qE '^no-name-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' "$T/out" || fail "auto name: $(cat "$T/out")"
auto=$(cat "$T/out")

run delete-study --storage $S --study-name "$auto"
expect_rc 0
expect_empty_out

run delete-study --storage $S --study-name "$auto"
expect_rc 1
expect_err_has "Study '$auto' not found"

run study set-user-attr --storage $S --study-name demo -k owner --value alice
expect_rc 0
expect_err_has "Attribute successfully written."

run study set-user-attr --storage $S --study-name nope --key k --value v
expect_rc 1
expect_err_has "Study 'nope' not found"
expect_err_has "loupe create-study --study-name 'nope'"

run study set-user-attr --storage $S --key k --value v
expect_rc 1
expect_err_has "does not contain exactly 1 study (it has 2)"

run study-names --storage $S
expect_rc 0
expect_out "demo
mo"

run study-names --storage $S -f json
expect_out '[{"name": "demo"}, {"name": "mo"}]'

run study-names --storage $S -f table
expect_out "+------+
| name |
+------+
| demo |
| mo   |
+------+"

run study-names --storage $S -f yaml
expect_out "- name: demo
- name: mo"

run studies --storage $S
expect_rc 0
expect_out "+------+--------------------------+----------+----------------+--------------------+
| name | direction                | n_trials | datetime_start | user_attrs         |
+------+--------------------------+----------+----------------+--------------------+
| demo | ('MINIMIZE',)            |        0 |                | {'owner': 'alice'} |
| mo   | ('MINIMIZE', 'MAXIMIZE') |        0 |                | {}                 |
+------+--------------------------+----------+----------------+--------------------+"

run studies --storage $S -f json
expect_out '[{"name": "demo", "direction": ["MINIMIZE"], "n_trials": 0, "datetime_start": null, "user_attrs": {"owner": "alice"}}, {"name": "mo", "direction": ["MINIMIZE", "MAXIMIZE"], "n_trials": 0, "datetime_start": null, "user_attrs": {}}]'

run studies --storage $S -f json --flatten
expect_out '[{"name": "demo", "direction_0": "MINIMIZE", "n_trials": 0, "datetime_start": null, "user_attrs": {"owner": "alice"}}, {"name": "mo", "direction_0": "MINIMIZE", "direction_1": "MAXIMIZE", "n_trials": 0, "datetime_start": null, "user_attrs": {}}]'

run studies --storage $S -f yaml
expect_out "- datetime_start: null
  direction:
  - MINIMIZE
  n_trials: 0
  name: demo
  user_attrs:
    owner: alice
- datetime_start: null
  direction:
  - MINIMIZE
  - MAXIMIZE
  n_trials: 0
  name: mo
  user_attrs: {}"

run studies --storage $S -f value --flatten
expect_out "demo MINIMIZE  0  {'owner': 'alice'}
mo MINIMIZE MAXIMIZE 0  {}"

run studies --storage $S -f table --flatten
expect_out "+------+-------------+-------------+----------+----------------+--------------------+
| name | direction_0 | direction_1 | n_trials | datetime_start | user_attrs         |
+------+-------------+-------------+----------+----------------+--------------------+
| demo | MINIMIZE    |             |        0 |                | {'owner': 'alice'} |
| mo   | MINIMIZE    | MAXIMIZE    |        0 |                | {}                 |
+------+-------------+-------------+----------+----------------+--------------------+"

# The storage URL from the environment; --storage wins over it.
LOUPE_STORAGE=$S run study-names
expect_rc 0
expect_out "demo
mo"
OPTUNA_STORAGE=$S run study-names
expect_out "demo
mo"
LOUPE_STORAGE=sqlite:///other.db run study-names --storage $S
expect_out "demo
mo"

# An empty study: Optuna's table of no rows and no columns.
run create-study --storage $S --study-name empty -q
run trials --storage $S --study-name empty
expect_rc 0
expect_out "+
|
+
+"
run trials --storage $S --study-name empty -f json
expect_out "[]"
run trials --storage $S --study-name empty -f yaml
expect_out "[]"
run trials --storage $S --study-name empty -f value
expect_out ""
run best-trial --storage $S --study-name empty
expect_rc 1
expect_err_has "has no completed trial"
run delete-study --storage $S --study-name empty

########################################################################### ask and tell
SP='{"x": {"name": "FloatDistribution", "attributes": {"low": 0.5, "high": 0.5}}, "n": {"name": "IntDistribution", "attributes": {"low": 3, "high": 3}}, "c": {"name": "CategoricalDistribution", "attributes": {"choices": ["a"]}}}'

run ask --storage $S --study-name demo --search-space "$SP"
expect_rc 0
expect_out '{"number": 0, "params": {"x": 0.5, "n": 3, "c": "a"}}'
expect_err_has "Asked trial 0 with parameters {'x': 0.5, 'n': 3, 'c': 'a'}."

run ask --storage $S --study-name demo --search-space "$SP" --flatten
expect_out '{"number": 1, "params_x": 0.5, "params_n": 3, "params_c": "a"}'

run ask --storage $S --study-name demo --search-space "$SP" -f table
expect_out "+--------+------------------------------+
| number | params                       |
+--------+------------------------------+
|      2 | {'x': 0.5, 'n': 3, 'c': 'a'} |
+--------+------------------------------+"

run ask --storage $S --study-name demo --search-space "$SP" -f table --flatten
expect_out "+--------+----------+----------+----------+
| number | params_x | params_n | params_c |
+--------+----------+----------+----------+
|      3 |      0.5 |        3 | a        |
+--------+----------+----------+----------+"

run ask --storage $S --study-name demo --search-space "$SP" -f yaml
expect_out "number: 4
params:
  c: a
  n: 3
  x: 0.5"

run ask --storage $S --study-name demo --search-space "$SP" -f value
expect_out "5 {'x': 0.5, 'n': 3, 'c': 'a'}"

run ask --storage $S --study-name demo -f value --flatten
expect_out "6"

run ask --storage $S --study-name demo
expect_out '{"number": 7, "params": {}}'
expect_err_has "Asked trial 7 with parameters {}."

# Real sampling: RandomSampler with a seed, and the default TPESampler.
run ask --storage $S --study-name mo --sampler RandomSampler --sampler-kwargs '{"seed": 7}' \
    --search-space '{"u": {"name": "FloatDistribution", "attributes": {"low": -1.0, "high": 1.0, "step": null, "log": false}}, "k": {"type": "int", "low": 1, "high": 64, "log": true}, "o": {"type": "categorical", "choices": ["sgd", "adam"]}}'
expect_rc 0
checks=$((checks + 1))
grep -qE '^\{"number": 0, "params": \{"u": -?[01]\.[0-9e-]+, "k": [0-9]+, "o": "(sgd|adam)"\}\}$' "$T/out" ||
    fail "random ask output: $(cat "$T/out")"
run ask --storage $S --study-name mo --sampler TPESampler --sampler-kwargs '{"seed": 1, "n_startup_trials": 0}' \
    --search-space '{"u": {"name": "FloatDistribution", "attributes": {"low": -1.0, "high": 1.0}}}'
expect_rc 0
checks=$((checks + 1))
grep -qE '^\{"number": 1, "params": \{"u": -?[01]\.[0-9e-]+\}\}$' "$T/out" || fail "tpe ask output: $(cat "$T/out")"

# A parameter must keep its distribution: the trial is failed, not left RUNNING.
run ask --storage $S --study-name demo --search-space '{"c": {"name": "CategoricalDistribution", "attributes": {"choices": ["a", "b"]}}}'
expect_rc 1
expect_err_has "Cannot suggest 'c' in trial 8"
expect_err_has "The trial was marked FAIL."

run ask --storage $S --study-name nope
expect_rc 1
expect_err_has "Study 'nope' not found"

# tell
run tell --storage $S --study-name demo --trial-number 0 --values 1.5
expect_rc 0
expect_empty_out
expect_err_has "Told trial 0 with values [1.5] and state None."

run tell --storage $S --study-name demo --trial-number 0 --values 1.5
expect_rc 1
expect_err_has "Cannot tell a COMPLETE trial. It has already finished; pass --skip-if-finished"

run tell --storage $S --study-name demo --trial-number 0 --values 2 --skip-if-finished
expect_rc 0
expect_err_has "Skipped telling trial 0 with values [2.0] and state None since trial was already finished. Finished trial has values [1.5] and state TrialState.COMPLETE."

run tell --storage $S --study-name demo --trial-number 1 --values 0.25 --state complete
expect_rc 0
expect_err_has "Told trial 1 with values [0.25] and state TrialState.COMPLETE."

run tell --storage $S --study-name demo --trial-number 2 --state pruned
expect_rc 0
expect_err_has "Told trial 2 with values None and state TrialState.PRUNED."

run tell --storage $S --study-name demo --trial-number 3 --state fail
expect_rc 0

run tell --storage $S --study-name demo --trial-number 4 --values nan
expect_rc 0
expect_err_has "[W "
expect_err_has "The value nan is not acceptable"

run tell --storage $S --study-name demo --trial-number 5
expect_rc 0
expect_err_has "The value None could not be cast to float."

run tell --storage $S --study-name demo --trial-number 6 --state complete
expect_rc 2
expect_err_has "No values were told."

run tell --storage $S --study-name demo --trial-number 6 --state fail --values 1
expect_rc 2
expect_err_has "Values cannot be specified when state is TrialState.PRUNED or TrialState.FAIL"

run tell --storage $S --study-name demo --trial-number 6 --values 1 2 --state complete
expect_rc 1
expect_err_has "The number of the values 2 did not match the number of the objectives 1"

run tell --storage $S --study-name demo --trial-number 99 --values 1
expect_rc 1
expect_err_has "Cannot tell for trial with number 99 since it has not been created."

run tell --storage $S --study-name demo --trial-number 6 --values -1e-3
expect_rc 0
expect_err_has "Told trial 6 with values [-0.001] and state None."

run tell --storage $S --study-name mo --trial-number 0 --values -inf 3
expect_rc 0
run tell --storage $S --study-name mo --trial-number 1 --values 0.5 4
expect_rc 0

########################################################################### trials, best-trial, best-trials
run trials --storage $S --study-name demo
expect_rc 0
expect_norm "+--------+--------+---------------------+---------------------+----------------+------------------------------+----------+
| number |  value | datetime_start      | datetime_complete   | duration       | params                       | state    |
+--------+--------+---------------------+---------------------+----------------+------------------------------+----------+
|      0 |    1.5 | YYYY-MM-DD hh:mm:ss | YYYY-MM-DD hh:mm:ss | H:MM:SS.ffffff | {'c': 'a', 'n': 3, 'x': 0.5} | COMPLETE |
|      1 |   0.25 | YYYY-MM-DD hh:mm:ss | YYYY-MM-DD hh:mm:ss | H:MM:SS.ffffff | {'c': 'a', 'n': 3, 'x': 0.5} | COMPLETE |
|      2 |        | YYYY-MM-DD hh:mm:ss | YYYY-MM-DD hh:mm:ss | H:MM:SS.ffffff | {'c': 'a', 'n': 3, 'x': 0.5} | PRUNED   |
|      3 |        | YYYY-MM-DD hh:mm:ss | YYYY-MM-DD hh:mm:ss | H:MM:SS.ffffff | {'c': 'a', 'n': 3, 'x': 0.5} | FAIL     |
|      4 |        | YYYY-MM-DD hh:mm:ss | YYYY-MM-DD hh:mm:ss | H:MM:SS.ffffff | {'c': 'a', 'n': 3, 'x': 0.5} | FAIL     |
|      5 |        | YYYY-MM-DD hh:mm:ss | YYYY-MM-DD hh:mm:ss | H:MM:SS.ffffff | {'c': 'a', 'n': 3, 'x': 0.5} | FAIL     |
|      6 | -0.001 | YYYY-MM-DD hh:mm:ss | YYYY-MM-DD hh:mm:ss | H:MM:SS.ffffff | {}                           | COMPLETE |
|      7 |        | YYYY-MM-DD hh:mm:ss |                     |                | {}                           | RUNNING  |
|      8 |        | YYYY-MM-DD hh:mm:ss | YYYY-MM-DD hh:mm:ss | H:MM:SS.ffffff | {}                           | FAIL     |
+--------+--------+---------------------+---------------------+----------------+------------------------------+----------+"

run trials --storage $S --study-name demo -f json --flatten
expect_norm '[{"number": 0, "value": 1.5, "datetime_start": "YYYY-MM-DD hh:mm:ss", "datetime_complete": "YYYY-MM-DD hh:mm:ss", "duration": "H:MM:SS.ffffff", "params_c": "a", "params_n": 3, "params_x": 0.5, "state": "COMPLETE"}, {"number": 1, "value": 0.25, "datetime_start": "YYYY-MM-DD hh:mm:ss", "datetime_complete": "YYYY-MM-DD hh:mm:ss", "duration": "H:MM:SS.ffffff", "params_c": "a", "params_n": 3, "params_x": 0.5, "state": "COMPLETE"}, {"number": 2, "value": null, "datetime_start": "YYYY-MM-DD hh:mm:ss", "datetime_complete": "YYYY-MM-DD hh:mm:ss", "duration": "H:MM:SS.ffffff", "params_c": "a", "params_n": 3, "params_x": 0.5, "state": "PRUNED"}, {"number": 3, "value": null, "datetime_start": "YYYY-MM-DD hh:mm:ss", "datetime_complete": "YYYY-MM-DD hh:mm:ss", "duration": "H:MM:SS.ffffff", "params_c": "a", "params_n": 3, "params_x": 0.5, "state": "FAIL"}, {"number": 4, "value": null, "datetime_start": "YYYY-MM-DD hh:mm:ss", "datetime_complete": "YYYY-MM-DD hh:mm:ss", "duration": "H:MM:SS.ffffff", "params_c": "a", "params_n": 3, "params_x": 0.5, "state": "FAIL"}, {"number": 5, "value": null, "datetime_start": "YYYY-MM-DD hh:mm:ss", "datetime_complete": "YYYY-MM-DD hh:mm:ss", "duration": "H:MM:SS.ffffff", "params_c": "a", "params_n": 3, "params_x": 0.5, "state": "FAIL"}, {"number": 6, "value": -0.001, "datetime_start": "YYYY-MM-DD hh:mm:ss", "datetime_complete": "YYYY-MM-DD hh:mm:ss", "duration": "H:MM:SS.ffffff", "state": "COMPLETE"}, {"number": 7, "value": null, "datetime_start": "YYYY-MM-DD hh:mm:ss", "datetime_complete": null, "duration": null, "state": "RUNNING"}, {"number": 8, "value": null, "datetime_start": "YYYY-MM-DD hh:mm:ss", "datetime_complete": "YYYY-MM-DD hh:mm:ss", "duration": "H:MM:SS.ffffff", "state": "FAIL"}]'

run best-trial --storage $S --study-name demo -f yaml
expect_rc 0
expect_norm "datetime_complete: 'YYYY-MM-DD hh:mm:ss'
datetime_start: 'YYYY-MM-DD hh:mm:ss'
duration: 'H:MM:SS.ffffff'
number: 6
params: {}
state: COMPLETE
value: -0.001"

run best-trial --storage $S --study-name demo -f value --flatten
expect_norm "6 -0.001 YYYY-MM-DD hh:mm:ss YYYY-MM-DD hh:mm:ss H:MM:SS.ffffff    COMPLETE"

run best-trials --storage $S --study-name demo -f json
expect_norm '[{"number": 6, "value": -0.001, "datetime_start": "YYYY-MM-DD hh:mm:ss", "datetime_complete": "YYYY-MM-DD hh:mm:ss", "duration": "H:MM:SS.ffffff", "params": {}, "state": "COMPLETE"}]'

run best-trial --storage $S --study-name mo
expect_rc 1
expect_err_has "A single best trial cannot be retrieved from a multi-objective study. Use \`loupe best-trials"

run trials --storage $S --study-name mo -f table
expect_rc 0
checks=$((checks + 1))
# The params of the sampled trials vary; the values column does not.
[ "$(awk -F'|' 'NR == 2 || NR == 4 || NR == 5 { print $2 "|" $3 }' "$T/out")" = " number | values      
      0 | [-inf, 3.0] 
      1 | [0.5, 4.0]  " ] || fail "trials of mo: $(cat "$T/out")"
run best-trials --storage $S --study-name mo -f value --flatten
expect_rc 0
checks=$((checks + 1))
[ "$(cut -d' ' -f1-3 "$T/out")" = "0 -inf 3.0
1 0.5 4.0" ] || fail "best-trials of mo: $(cat "$T/out")"
run trials --storage $S --study-name mo -f json
expect_out_has '"values": [-Infinity, 3.0]'
expect_out_has '"values": [0.5, 4.0]'

run trials --storage $S --study-name nope
expect_rc 1
expect_err_has "Study 'nope' not found"

# Verbosity: -q hides info lines, -v adds debug lines; --log-file gets them too.
run study-names --storage $S -q
expect_rc 0
checks=$((checks + 1))
[ -s "$T/err" ] && fail "-q: stderr not empty: $(cat "$T/err")"
run study-names --storage $S -v --log-file "$T/log.txt"
expect_err_has "[D "
checks=$((checks + 1))
grep -q "Opened storage" "$T/log.txt" 2>/dev/null || fail "--log-file did not get the log lines"

########################################################################### Optuna's own files: schema check and upgrade
if [ -f "$FIX/optuna-hitl-v3.2.0.a.db" ]; then
    cp "$FIX/optuna-hitl-v3.2.0.a.db" hitl.db
    H=sqlite:///hitl.db
    N="Human-in-the-loop Optimization"
    # Expected outputs printed by Optuna 5.0.0.dev's CLI for this fixture.
    run trials --storage $H --study-name "$N"
    expect_rc 0
    expect_out "+--------+------------------------------------+---------------------+---------------------+----------------+--------------------------------+----------+
| number | value                              | datetime_start      | datetime_complete   | duration       | params                         | state    |
+--------+------------------------------------+---------------------+---------------------+----------------+--------------------------------+----------+
|      0 | {'Looks like sunset color?': 1.0}  | 2026-11-28 02:28:49 | 2026-11-28 02:28:49 | 0:00:00.027628 | {'b': 154, 'g': 183, 'r': 140} | COMPLETE |
|      1 | {'Looks like sunset color?': 0.0}  | 2026-11-28 02:28:49 | 2026-11-28 02:28:49 | 0:00:00.016566 | {'b': 165, 'g': 108, 'r': 139} | COMPLETE |
|      2 | {'Looks like sunset color?': 1.0}  | 2026-11-28 02:28:49 | 2026-11-28 02:28:49 | 0:00:00.020885 | {'b': 246, 'g': 228, 'r': 112} | COMPLETE |
|      3 | {'Looks like sunset color?': 1.0}  | 2026-11-28 02:28:49 | 2026-11-28 02:28:49 | 0:00:00.015017 | {'b': 135, 'g': 202, 'r': 98}  | COMPLETE |
|      4 | {'Looks like sunset color?': 0.0}  | 2026-11-28 02:28:49 | 2026-11-28 02:28:49 | 0:00:00.015461 | {'b': 18, 'g': 236, 'r': 145}  | COMPLETE |
|      5 | {'Looks like sunset color?': 1.0}  | 2026-11-28 02:28:49 | 2026-11-28 02:28:49 | 0:00:00.015422 | {'b': 213, 'g': 5, 'r': 22}    | COMPLETE |
|      6 | {'Looks like sunset color?': 1.0}  | 2026-11-28 02:28:49 | 2026-11-28 02:28:49 | 0:00:00.017572 | {'b': 250, 'g': 222, 'r': 199} | COMPLETE |
|      7 | {'Looks like sunset color?': -1.0} | 2026-11-28 02:28:49 | 2026-11-28 02:28:49 | 0:00:00.017230 | {'b': 199, 'g': 118, 'r': 204} | COMPLETE |
|      8 | {'Looks like sunset color?': None} | 2026-11-28 02:28:49 | 2026-11-28 02:28:49 | 0:00:00.024008 | {'b': 36, 'g': 163, 'r': 30}   | FAIL     |
|      9 | {'Looks like sunset color?': None} | 2026-11-28 02:28:49 |                     |                | {'b': 106, 'g': 133, 'r': 241} | RUNNING  |
|     10 | {'Looks like sunset color?': None} | 2026-11-28 02:28:49 |                     |                | {'b': 116, 'g': 198, 'r': 67}  | RUNNING  |
|     11 | {'Looks like sunset color?': None} | 2026-11-28 02:28:49 |                     |                | {'b': 158, 'g': 4, 'r': 145}   | RUNNING  |
+--------+------------------------------------+---------------------+---------------------+----------------+--------------------------------+----------+"
    run best-trial --storage $H --study-name "$N" -f yaml
    expect_out "datetime_complete: '2026-11-28 02:28:49'
datetime_start: '2026-11-28 02:28:49'
duration: '0:00:00.017230'
number: 7
params:
  b: 199
  g: 118
  r: 204
state: COMPLETE
value:
  Looks like sunset color?: -1.0"
    run best-trials --storage $H --study-name "$N" -f table --flatten
    expect_out "+--------+--------------------------------+---------------------+---------------------+----------------+----------+----------+----------+----------+
| number | value_Looks like sunset color? | datetime_start      | datetime_complete   | duration       | params_b | params_g | params_r | state    |
+--------+--------------------------------+---------------------+---------------------+----------------+----------+----------+----------+----------+
|      7 |                           -1.0 | 2026-11-28 02:28:49 | 2026-11-28 02:28:49 | 0:00:00.017230 |      199 |      118 |      204 | COMPLETE |
+--------+--------------------------------+---------------------+---------------------+----------------+----------+----------+----------+----------+"
    run trials --storage $H --study-name "$N" -f value --flatten
    expect_rc 0
    checks=$((checks + 1))
    [ "$(sed -n '9p;10p' "$T/out")" = "8  2026-11-28 02:28:49 2026-11-28 02:28:49 0:00:00.024008 36 163 30 FAIL
9  2026-11-28 02:28:49   106 133 241 RUNNING" ] || fail "trials -f value --flatten of the fixture: $(sed -n '9p;10p' "$T/out")"
    run studies --storage $H -f json
    expect_out '[{"name": "Human-in-the-loop Optimization", "direction": ["MINIMIZE"], "n_trials": 12, "datetime_start": "2026-11-28 02:28:49"}]'
    # HITL step: tell a RUNNING trial, then it is the best (tie broken by number).
    run tell --storage $H --study-name "$N" --trial-number 9 --values -1
    expect_rc 0
    run best-trials --storage $H --study-name "$N" -f value --flatten
    expect_rc 0
    checks=$((checks + 1))
    [ "$(sed -n 1p "$T/out")" = "7 -1.0 2026-11-28 02:28:49 2026-11-28 02:28:49 0:00:00.017230 199 118 204 COMPLETE" ] ||
        fail "best trials after tell, first: $(cat "$T/out")"
    checks=$((checks + 1))
    sed -n 2p "$T/out" | grep -qE '^9 -1\.0 2026-11-28 02:28:49 [0-9]{4}-[0-9-]+ [0-9:]+ [0-9:.]+ 106 133 241 COMPLETE$' ||
        fail "best trials after tell, second: $(cat "$T/out")"
else
    echo "note: $FIX/optuna-hitl-v3.2.0.a.db missing; fixture checks skipped" >&2
fi

if [ -f "$FIX/optuna-3.1-hitl.db" ]; then
    cp "$FIX/optuna-3.1-hitl.db" old31.db
    O=sqlite:///old31.db
    run studies --storage $O
    expect_rc 1
    expect_err_has "v3.0.0.d"
    expect_err_has "loupe storage upgrade --storage $O"
    expect_err_has "--skip-schema-check"
    run studies --storage $O --skip-schema-check -f value
    expect_rc 0
    expect_out "Human-in-the-loop Optimization ('MINIMIZE',) 12 2026-11-28 02:28:49"
    cp old31.db up31.db
    run storage upgrade --storage sqlite:///up31.db
    expect_rc 0
    expect_err_has "Upgrading the storage schema to the latest version."
    expect_err_has "Completed to upgrade the storage."
    run storage upgrade --storage sqlite:///up31.db
    expect_rc 0
    expect_err_has "This storage is up-to-date."
    run study-names --storage sqlite:///up31.db
    expect_rc 0
    expect_out "Human-in-the-loop Optimization"
fi
if [ -f "$FIX/optuna-upgrade-assets/1.3.0.a.db" ]; then
    cp "$FIX/optuna-upgrade-assets/1.3.0.a.db" v130.db
    run studies --storage sqlite:///v130.db --skip-schema-check
    expect_rc 1
    expect_err_has "v1.3.0.a"
    expect_err_has "loupe storage upgrade --storage sqlite:///v130.db"
    run storage upgrade --storage sqlite:///v130.db
    expect_rc 0
    run studies --storage sqlite:///v130.db -f value
    expect_rc 0
    expect_out "single_empty ('MINIMIZE',) 0  {}
single ('MINIMIZE',) 1 2021-09-01 12:24:03 {'d': 3}"
fi
run storage upgrade --storage sqlite:///missing.db
expect_rc 1
expect_err_has "missing.db"
run studies --storage sqlite:///no/such/dir/x.db
expect_rc 1
expect_err_has "no/such/dir/x.db"
echo "not a database" >junk.db
run studies --storage sqlite:///junk.db
expect_rc 1
expect_err_has "not an SQLite database"
run studies --storage postgresql+psycopg2://db/x --storage-class JournalFileBackend
expect_rc 1
expect_err_has "--storage-class JournalFileBackend is not supported"

########################################################################### Python Optuna on the same files
PY=""
for cand in ${LOUPE_PYTHON:-} python3 /usr/bin/python3; do
    if "$cand" -c "import optuna" >/dev/null 2>&1; then
        PY=$cand
        break
    fi
done
if [ -z "$PY" ]; then
    echo "note: no python with optuna; Python interop part skipped" >&2
else
    OPY() { "$PY" -W ignore "$HERE/cli_optuna.py" "$@"; }
    checks=$((checks + 1))
    OPY summary $S >py_summary.txt 2>py_err.txt || fail "python summary: $(tail -3 py_err.txt)"
    grep -q "^study demo MINIMIZE user_attrs={'owner': 'alice'}$" py_summary.txt || fail "python sees demo: $(head -3 py_summary.txt)"
    grep -q "^  trial 0 COMPLETE values=\[1.5\] params={'c': 'a', 'n': 3, 'x': 0.5} user_attrs={} started=True completed=True$" py_summary.txt ||
        fail "python sees trial 0: $(grep 'trial 0' py_summary.txt | head -1)"
    grep -q '^    dist x {"name": "FloatDistribution", "attributes": {"step": null, "low": 0.5, "high": 0.5, "log": false}}$' py_summary.txt ||
        fail "python sees x's distribution: $(grep 'dist x' py_summary.txt | head -1)"
    grep -q '^    dist c {"name": "CategoricalDistribution", "attributes": {"choices": \["a"\]}}$' py_summary.txt ||
        fail "python sees c's distribution"
    grep -q "^  trial 2 PRUNED values=None " py_summary.txt || fail "python sees the PRUNED trial"
    grep -q "^  trial 4 FAIL values=None " py_summary.txt || fail "python sees the NaN trial as FAIL"
    grep -q "^  trial 7 RUNNING values=None params={} user_attrs={} started=True completed=False$" py_summary.txt ||
        fail "python sees the RUNNING trial"
    grep -q "^study mo MINIMIZE,MAXIMIZE " py_summary.txt || fail "python sees mo's directions"
    grep -q "^  trial 0 COMPLETE values=\[-inf, 3.0\] " py_summary.txt || fail "python sees mo's -inf value"

    # A trial enqueued by Python (WAITING, fixed params) is the one loupe's ask takes.
    run create-study --storage $S --study-name enq -q
    checks=$((checks + 1))
    OPY enqueue $S enq '{"lr": 0.01}' 2>py_err.txt || fail "python enqueue: $(tail -1 py_err.txt)"
    run ask --storage $S --study-name enq --search-space '{"lr": {"name": "FloatDistribution", "attributes": {"low": 1e-05, "high": 1.0, "log": true}}}'
    expect_rc 0
    expect_out '{"number": 0, "params": {"lr": 0.01}}'
    run ask --storage $S --study-name enq
    expect_out '{"number": 1, "params": {}}'
    checks=$((checks + 1))
    OPY summary $S >py_summary.txt 2>py_err.txt
    grep -q "^  trial 0 RUNNING values=None params={'lr': 0.01} user_attrs={} started=True completed=False$" py_summary.txt ||
        fail "python sees the enqueued trial taken: $(grep -A1 'study enq' py_summary.txt)"
    run delete-study --storage $S --study-name enq

    # loupe prints what Optuna's formatting code prints for the same records.
    mkdir -p pyfmt
    OPY formats $S demo pyfmt 2>py_err.txt || fail "python formats: $(tail -1 py_err.txt)"
    for verb in studies trials best-trial best-trials; do
        for fmt in table json yaml; do
            for flat in 0 1; do
                flag=""
                [ $flat = 1 ] && flag=--flatten
                # shellcheck disable=SC2086
                if [ $verb = studies ]; then run $verb --storage $S -f $fmt $flag; else run $verb --storage $S --study-name demo -f $fmt $flag; fi
                expect_out_file pyfmt/${verb}_${fmt}_${flat}.txt
            done
        done
    done
    mkdir -p pymo
    OPY formats $S mo pymo 2>py_err.txt || fail "python formats of mo: $(tail -1 py_err.txt)"
    for fmt in table json yaml; do
        run trials --storage $S --study-name mo -f $fmt
        expect_out_file pymo/trials_${fmt}_0.txt
        run best-trials --storage $S --study-name mo -f $fmt --flatten
        expect_out_file pymo/best-trials_${fmt}_1.txt
    done

    # Optuna's own CLI on a file both can open (revision v3.0.0.d, --skip-schema-check
    # for loupe): the same commands print the same text.
    if [ -f "$FIX/optuna-3.1-hitl.db" ]; then
        cp "$FIX/optuna-3.1-hitl.db" both.db
        B=sqlite:///both.db
        run create-study --storage $B --study-name mixed --skip-schema-check -q
        expect_rc 0
        OPY cli ask --storage $B --study-name mixed --search-space "$SP" >py_ask.txt 2>/dev/null
        run ask --storage $B --study-name mixed --search-space "$SP" --skip-schema-check -q
        expect_out '{"number": 1, "params": {"x": 0.5, "n": 3, "c": "a"}}'
        checks=$((checks + 1))
        [ "$(cat py_ask.txt)" = '{"number": 0, "params": {"x": 0.5, "n": 3, "c": "a"}}' ] || fail "optuna ask: $(cat py_ask.txt)"
        for fmt in table yaml; do
            for flag in "" --flatten; do
                # shellcheck disable=SC2086
                OPY cli ask --storage $B --study-name mixed --search-space "$SP" -f $fmt $flag >py_ask.txt 2>/dev/null
                # shellcheck disable=SC2086
                run ask --storage $B --study-name mixed --search-space "$SP" -f $fmt $flag --skip-schema-check -q
                # Same layout, trial numbers one apart.
                n_py=$(grep -oE '[0-9]+' py_ask.txt | head -1)
                sed -E "s/\b$n_py\b/N/" py_ask.txt >py_ask.norm
                n_lo=$((n_py + 1))
                sed -E "s/\b$n_lo\b/N/" "$T/out" >lo_ask.norm
                checks=$((checks + 1))
                cmp -s py_ask.norm lo_ask.norm || fail "ask -f $fmt $flag differs from optuna: $(diff py_ask.norm lo_ask.norm | head -5)"
            done
        done
        # Cross tells: Optuna tells loupe's trials and the other way round.
        OPY cli tell --storage $B --study-name mixed --trial-number 1 --values 0.75 2>/dev/null || fail "optuna tell of loupe's trial"
        run tell --storage $B --study-name mixed --trial-number 0 --values 0.5 --skip-schema-check
        expect_rc 0
        run tell --storage $B --study-name mixed --trial-number 2 --state pruned --skip-schema-check
        run tell --storage $B --study-name mixed --trial-number 3 --values nan --skip-schema-check
        run study set-user-attr --storage $B --study-name mixed -k note --value "é 'quoted'" --skip-schema-check
        mkdir -p pycli
        : >pycli/lines
        for verb in studies trials best-trial best-trials; do
            for fmt in table json yaml; do
                for flag in "" --flatten; do
                    study_arg="--study-name mixed"
                    [ $verb = studies ] && study_arg=""
                    echo "$verb --storage $B $study_arg -f $fmt $flag" >>pycli/lines
                done
            done
        done
        OPY cli-batch pycli <pycli/lines 2>/dev/null || fail "optuna cli-batch failed"
        i=0
        while read -r line; do
            checks=$((checks + 1))
            [ "$(cat pycli/$i.rc 2>/dev/null)" = 0 ] || fail "optuna $line: exit status $(cat pycli/$i.rc 2>/dev/null)"
            # shellcheck disable=SC2086
            run $line --skip-schema-check
            expect_rc 0
            expect_out_file pycli/$i.txt
            i=$((i + 1))
        done <pycli/lines
        # Optuna 3.1 still opens the file loupe wrote to.
        checks=$((checks + 1))
        OPY summary $B >py_both.txt 2>py_err.txt || fail "python summary of both.db: $(tail -1 py_err.txt)"
        grep -q "^study mixed MINIMIZE user_attrs={'note': \"é 'quoted'\"}$" py_both.txt || fail "python sees mixed: $(grep mixed py_both.txt)"
    fi
fi

echo "test_cli: $checks checks, $failures failures"
[ "$failures" -eq 0 ]
