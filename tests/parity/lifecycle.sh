#!/usr/bin/env bash
# The model lifecycle through the CLI, native and node (the same C compiled to wasm): a run
# interrupted on one target and resumed on the other ends with the weights of an
# uninterrupted run; both targets write the same model file and predict the same bytes from
# it; fine-tuning from a model agrees across targets; damaged model files and bad data are
# refused with exit status 2 and a message naming the place; every command has --help; the
# preparation runs in list order (three orders, three models; a chain's version 2 model file
# is the same from both targets); model files written before the chain predict and evaluate
# byte for byte as the build that wrote them did (tests/data/models).
# One line per check: "PASS name" or "FAIL name: why". Both builds must already exist
# (NATIVE and NODE_CLI override their locations).
set -uo pipefail
cd "$(dirname "$0")/../.."
native=${NATIVE:-build/native/lathe}
node_js=${NODE_CLI:-build/wasm/lathe.js}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

nodecli() { node --no-experimental-fetch "$node_js" "$@"; }
hash_of() { grep -o '"weights_sha256":[^,}]*' "$1" | head -n 1 | sed 's/.*"\([0-9a-f]*\)"$/\1/'; }
# shellcheck source=tests/lib/runner.sh
. tests/lib/runner.sh
# 4 resumes (one distilled from a teacher), 4 model files and 4 predictions, inspect and eval,
# 2 fine-tunes, 10 refusals, 7 help texts; the order test, a chain's model file, 4 old model
# files and an old eval, and a refused order.
plan 41

# 1. Interrupt on one target, resume on the other.
for name in iris digits_cnn moons digits_distilled; do
  exp=examples/$name.experiment.json
  "$native" run "$exp" --json --quiet >"$out/$name.whole.json" 2>/dev/null
  want=$(hash_of "$out/$name.whole.json")
  nodecli run "$exp" --json --quiet --checkpoint "$out/$name.node.ck" --stop-after 29 >"$out/$name.stop.json" 2>/dev/null
  if ! grep -q '"status":[[:space:]]*"stopped"' "$out/$name.stop.json"; then
    fail "resume $name" "the interrupted node run did not report status stopped"
    continue
  fi
  "$native" train "$exp" --resume "$out/$name.node.ck" --json --quiet >"$out/$name.resumed.json" 2>"$out/$name.err"
  got=$(hash_of "$out/$name.resumed.json")
  "$native" run "$exp" --json --quiet --checkpoint "$out/$name.native.ck" --stop-after 41 >/dev/null 2>&1
  nodecli train "$exp" --resume "$out/$name.native.ck" --json --quiet >"$out/$name.resumed2.json" 2>/dev/null
  got2=$(hash_of "$out/$name.resumed2.json")
  if [ -n "$want" ] && [ "$got" = "$want" ] && [ "$got2" = "$want" ]; then
    pass "resume $name: node→native and native→node both end at ${want:0:16}…"
  else
    fail "resume $name" "uninterrupted ${want:0:16}, node→native ${got:0:16}, native→node ${got2:0:16} $(head -c 300 "$out/$name.err")"
  fi
done

# 2. The same model file from both targets (apart from the producer line), the same
#    predictions from it, and the loaded model's weights hash is the run's.
for name in iris wine digits_cnn diabetes; do
  exp=examples/$name.experiment.json
  "$native" run "$exp" --quiet --out "$out/$name.native.lathe.json" >/dev/null 2>&1
  nodecli run "$exp" --quiet --out "$out/$name.node.lathe.json" >/dev/null 2>&1
  if cmp -s <(grep -v '"producer"' "$out/$name.native.lathe.json") <(grep -v '"producer"' "$out/$name.node.lathe.json"); then
    pass "model file $name: identical from native and node"
  else
    fail "model file $name" "the model files differ: $(diff <(grep -v producer "$out/$name.native.lathe.json") <(grep -v producer "$out/$name.node.lathe.json") | head -c 300)"
  fi
  data=data/builtin/$(sed -n 's/.*"builtin": *"\([^"]*\)".*/\1/p' "$exp").csv
  if [ ! -f "$data" ]; then
    skip "predict $name" "$data not fetched (scripts/fetch_data.sh)"
    continue
  fi
  "$native" predict "$out/$name.native.lathe.json" "$data" >"$out/$name.native.pred.csv" 2>"$out/$name.pred.err"
  nodecli predict "$out/$name.node.lathe.json" "$data" >"$out/$name.node.pred.csv" 2>/dev/null
  rows=$(($(wc -l <"$out/$name.native.pred.csv") - 1))
  if [ "$rows" -gt 0 ] && cmp -s "$out/$name.native.pred.csv" "$out/$name.node.pred.csv" &&
     [ "$rows" -eq $(($(wc -l <"$data") - 1)) ]; then
    pass "predict $name: $rows rows, identical on both targets"
  else
    fail "predict $name" "$rows rows; $(head -c 300 "$out/$name.pred.err")"
  fi
done

# 3. inspect verifies the hash it prints; eval scores the whole file.
"$native" inspect "$out/iris.native.lathe.json" --json >"$out/inspect.json" 2>&1
"$native" run examples/iris.experiment.json --json --quiet >"$out/iris.json" 2>/dev/null
if [ "$(hash_of "$out/inspect.json")" = "$(hash_of "$out/iris.json")" ] &&
   grep -q '"parameters":[[:space:]]*131' "$out/inspect.json"; then
  pass "inspect iris: the run's weights hash and 131 parameters"
else
  fail "inspect iris" "$(head -c 300 "$out/inspect.json")"
fi
"$native" eval "$out/iris.native.lathe.json" data/builtin/iris.csv --json >"$out/eval.json" 2>&1
acc=$(grep -o '"accuracy":[[:space:]]*[0-9.]*' "$out/eval.json" | head -n 1 | grep -o '[0-9.]*$')
if awk -v a="${acc:-0}" 'BEGIN { exit !(a >= 0.95 && a <= 1) }' && grep -q '"rows":[[:space:]]*150' "$out/eval.json"; then
  pass "eval iris: accuracy $acc on all 150 rows"
else
  fail "eval iris" "$(head -c 300 "$out/eval.json")"
fi

# 4. Fine-tuning from a model: the same on both targets, and different from the model.
"$native" train examples/iris.experiment.json --init "$out/iris.native.lathe.json" --json --quiet >"$out/ft.native.json" 2>"$out/ft.err"
nodecli train examples/iris.experiment.json --init "$out/iris.native.lathe.json" --json --quiet >"$out/ft.node.json" 2>/dev/null
ft=$(hash_of "$out/ft.native.json")
if [ -n "$ft" ] && [ "$ft" = "$(hash_of "$out/ft.node.json")" ] && [ "$ft" != "$(hash_of "$out/iris.json")" ]; then
  pass "fine-tune iris from its model: ${ft:0:16}… on both targets"
else
  fail "fine-tune iris" "native ${ft:0:16}, node $(hash_of "$out/ft.node.json" | head -c 16) $(head -c 300 "$out/ft.err")"
fi

# 4b. Fine-tuning on data that lacks a class: the labels follow the model's class list (by
# name), the output keeps all three classes, and native and node agree.
grep -v virginica data/builtin/iris.csv >"$out/iris_two.csv"
"$native" train examples/iris.experiment.json --init "$out/iris.native.lathe.json" --data "$out/iris_two.csv" --out "$out/ft2.lathe.json" --json --quiet >"$out/ft2.native.json" 2>"$out/ft2.err"
nodecli train examples/iris.experiment.json --init "$out/iris.native.lathe.json" --data "$out/iris_two.csv" --json --quiet >"$out/ft2.node.json" 2>/dev/null
ft2=$(hash_of "$out/ft2.native.json")
classes=$(tr -d ' \t\n' <"$out/ft2.lathe.json" | grep -o '"classes":\[[^]]*\]' | head -n 1)
if [ -n "$ft2" ] && [ "$ft2" = "$(hash_of "$out/ft2.node.json")" ] && [ "$classes" = '"classes":["setosa","versicolor","virginica"]' ]; then
  pass "fine-tune iris on two of its classes: ${ft2:0:16}… on both targets, the model keeps 3 classes"
else
  fail "fine-tune on two classes" "native ${ft2:0:16}, node $(hash_of "$out/ft2.node.json" | head -c 16), $classes $(head -c 300 "$out/ft2.err")"
fi

# 5. Refusals: exit status 2 and a message that names the place.
model=$out/iris.native.lathe.json
expect_refusal() { # NAME PATTERN COMMAND...
  local name=$1 pattern=$2
  shift 2
  "$@" >"$out/refusal.out" 2>"$out/refusal.err"
  local status=$?
  if [ "$status" -eq 2 ] && grep -q -- "$pattern" "$out/refusal.err"; then
    pass "refuses $name"
  else
    fail "refuses $name" "exit $status, stderr: $(head -c 300 "$out/refusal.err")"
  fi
}
head -c 2000 "$model" >"$out/truncated.lathe.json"
expect_refusal "a truncated model" "ends early" "$native" inspect "$out/truncated.lathe.json"
sed 's/"units":\t3/"units":\t4/' "$model" >"$out/shape.lathe.json"
expect_refusal "a model with a wrong shape" "layers\[2\].units: 4" "$native" predict "$out/shape.lathe.json" data/builtin/iris.csv
cut -d, -f1,2,3,5 data/builtin/iris.csv >"$out/no_petal_width.csv"
expect_refusal "data without a needed column" "no column 'petal_width'" "$native" predict "$model" "$out/no_petal_width.csv"
expect_refusal "eval without the target" "no column 'species'" "$native" eval "$model" <(cut -d, -f1-4 data/builtin/iris.csv)
expect_refusal "an experiment as a model" "this is an experiment file" "$native" inspect examples/iris.experiment.json
expect_refusal "another experiment's checkpoint" "checkpoint" "$native" train examples/wine.experiment.json --resume "$out/iris.node.ck"
expect_refusal "train without --resume or --init" "exactly one of" "$native" train examples/iris.experiment.json
sed 's/virginica/unknown/' data/builtin/iris.csv >"$out/iris_new_class.csv"
expect_refusal "fine-tuning on a class the model lacks" "class 'unknown' of the data is not one of the model's 3 classes" "$native" train examples/iris.experiment.json --init "$model" --data "$out/iris_new_class.csv"
mkdir -p "$out/teachers" && cp examples/teachers/digits.lathe.json "$out/teachers/"
sed 's/"test": 0.2,/"test": 0.25,/' examples/digits_distilled.experiment.json >"$out/distill_split.experiment.json"
expect_refusal "a teacher prepared on another split" "train.distill.teacher: the teacher's scaling step 1 differs" "$native" run "$out/distill_split.experiment.json" --quiet
sed 's|teachers/digits.lathe.json|teachers/none.lathe.json|' examples/digits_distilled.experiment.json >"$out/distill_none.experiment.json"
expect_refusal "a missing teacher file" "train.distill.teacher: could not load the teacher" "$native" run "$out/distill_none.experiment.json" --quiet

# 7. The preparation is an ordered chain: [split, standardize], [split, minmax] and
#    [split, standardize, minmax] train three different models, the same on both targets.
order_exp() { # NAME OPS_JSON: examples/iris with its prepare list after the split replaced
  sed "s|{ \"op\": \"standardize\" }|$2|" examples/iris.experiment.json >"$out/$1.experiment.json"
}
order_exp order_s '{ "op": "standardize" }'
order_exp order_m '{ "op": "minmax" }'
order_exp order_sm '{ "op": "standardize" }, { "op": "minmax" }'
order_exp order_ms '{ "op": "minmax" }, { "op": "standardize" }'
hashes=""
agree=1
for o in s m sm ms; do
  "$native" run "$out/order_$o.experiment.json" --json --quiet >"$out/order_$o.json" 2>"$out/order.err"
  nodecli run "$out/order_$o.experiment.json" --json --quiet >"$out/order_$o.node.json" 2>/dev/null
  h=$(hash_of "$out/order_$o.json")
  [ -n "$h" ] && [ "$h" = "$(hash_of "$out/order_$o.node.json")" ] || agree=0
  hashes="$hashes $h"
done
distinct=$(echo "$hashes" | tr ' ' '\n' | grep -c . )
unique=$(echo "$hashes" | tr ' ' '\n' | grep . | sort -u | wc -l)
if [ "$agree" = 1 ] && [ "$distinct" = 4 ] && [ "$unique" = 4 ] && [ "$(echo "$hashes" | cut -d' ' -f2)" = "$(hash_of "$out/iris.whole.json")" ]; then
  pass "prepare order: standardize, minmax, standardize→minmax and minmax→standardize train 4 different models, the same on node"
else
  fail "prepare order" "hashes$hashes (node agrees: $agree) $(head -c 300 "$out/order.err")"
fi

# 8. A chain's model file (version 2, its steps in order) is the same from both targets and
#    predicts the same bytes on both.
"$native" run "$out/order_sm.experiment.json" --quiet --out "$out/chain.native.lathe.json" >/dev/null 2>&1
nodecli run "$out/order_sm.experiment.json" --quiet --out "$out/chain.node.lathe.json" >/dev/null 2>&1
"$native" predict "$out/chain.native.lathe.json" data/builtin/iris.csv >"$out/chain.native.csv" 2>/dev/null
nodecli predict "$out/chain.native.lathe.json" data/builtin/iris.csv >"$out/chain.node.csv" 2>/dev/null
steps=$(tr -d ' \t\n' <"$out/chain.native.lathe.json" | grep -o '"op":"[a-z]*","shift"' | tr '\n' ' ')
if grep -q '"version":[[:space:]]*2,' "$out/chain.native.lathe.json" && [ "$steps" = '"op":"standardize","shift" "op":"minmax","shift" ' ] &&
   cmp -s <(grep -v '"producer"' "$out/chain.native.lathe.json") <(grep -v '"producer"' "$out/chain.node.lathe.json") &&
   [ -s "$out/chain.native.csv" ] && cmp -s "$out/chain.native.csv" "$out/chain.node.csv"; then
  pass "chain model file: version 2 with standardize then minmax, identical from native and node, the same predictions"
else
  fail "chain model file" "steps '$steps'; $(diff <(grep -v producer "$out/chain.native.lathe.json") <(grep -v producer "$out/chain.node.lathe.json") | head -c 200)"
fi

# 9. Model files written before the chain (main at 7d736c2) load and predict exactly as that
#    build printed, CSV and JSON, on both targets; and evaluate the same.
models=tests/data/models
abs_native=$(realpath "$native")
abs_node=$(realpath "$node_js")
for m in iris iris_minmax iris_all missing; do
  input=$models/iris_predict.csv
  [ "$m" = missing ] && input=$models/missing_predict.csv
  ok=1
  for cli in native node; do
    run() { if [ $cli = native ]; then (cd "$models" && "$abs_native" "$@"); else (cd "$models" && node --no-experimental-fetch "$abs_node" "$@"); fi; }
    run predict "old_$m.lathe.json" "$(basename "$input")" >"$out/old_$m.$cli.csv" 2>/dev/null || ok=0
    run predict "old_$m.lathe.json" "$(basename "$input")" --format json >"$out/old_$m.$cli.json" 2>/dev/null || ok=0
    cmp -s "$out/old_$m.$cli.csv" "$models/old_$m.predict.csv" || ok=0
    cmp -s "$out/old_$m.$cli.json" "$models/old_$m.predict.json" || ok=0
  done
  if [ "$ok" = 1 ]; then
    pass "old model file $m: predictions (CSV and JSON) byte for byte as the old build's, native and node"
  else
    fail "old model file $m" "$(diff "$out/old_$m.native.csv" "$models/old_$m.predict.csv" | head -c 300)"
  fi
done
(cd "$models" && "$abs_native" eval old_missing.lathe.json missing.csv --json >"$out/old_eval.native.json" 2>/dev/null)
(cd "$models" && node --no-experimental-fetch "$abs_node" eval old_missing.lathe.json missing.csv --json >"$out/old_eval.node.json" 2>/dev/null)
if cmp -s "$out/old_eval.native.json" "$models/old_missing.eval.json" && cmp -s "$out/old_eval.node.json" "$models/old_missing.eval.json"; then
  pass "old model file missing: eval byte for byte as the old build's, native and node"
else
  fail "old model eval" "$(diff "$out/old_eval.native.json" "$models/old_missing.eval.json" | head -c 300)"
fi

# 10. An order that makes no sense is refused, naming the step.
order_exp order_bad '{ "op": "minmax" }, { "op": "impute" }'
expect_refusal "an impute after a scaler" "prepare\[2\]: impute must come before the scaling steps" "$native" run "$out/order_bad.experiment.json" --quiet

# 6. Help for every command.
for cmd in run train eval predict inspect profile datasets; do
  if "$native" "$cmd" --help >"$out/help.txt" 2>&1 && grep -q "^usage: lathe $cmd" "$out/help.txt"; then
    pass "help $cmd"
  else
    fail "help $cmd" "$(head -c 200 "$out/help.txt")"
  fi
done
finish
