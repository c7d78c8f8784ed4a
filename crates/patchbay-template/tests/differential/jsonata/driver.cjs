#!/usr/bin/env node
// Differential-test driver for crates/patchbay-template/tests/differential_truto_jsonata.rs.
//
// Usage: TZ=UTC node driver.cjs <install-dir> < cases.json > results.json
//
// <install-dir> holds the package.json / package-lock.json of this folder and the
// node_modules that `npm ci` installed there (the Rust test manages it).
//
// Input (stdin): {"cases": [{"expr": <source>, "input": <value, optional>,
//                 "input_json": <JSON text, optional>, "bindings": {<name>: <value>}}, ...]}
// Output (stdout): a JSON array with one entry per case, in order:
//   {"value": <result>}                      the result, as JSON.stringify writes it
//   {"undefined": true}                      the result was `undefined`
//   {"error": "<message>", "code": "<code>"} compiling or evaluating threw
// Each expression is compiled and evaluated by @truto/truto-jsonata 3.0.6, which is what
// Truto evaluates integration-config expressions with.
'use strict';

const { requirePinned, answerStdin } = require('../pinned.cjs');

const trutoJsonata = requirePinned('@truto/truto-jsonata', '3.0.6');

async function run(testCase) {
  try {
    const expression = trutoJsonata(testCase.expr);
    const input = 'input_json' in testCase ? JSON.parse(testCase.input_json) : testCase.input;
    const result = await expression.evaluate(input, testCase.bindings || undefined);
    if (result === undefined) return { undefined: true };
    const text = JSON.stringify(result);
    if (text === undefined) return { undefined: true };
    return { value: JSON.parse(text) };
  } catch (err) {
    return { error: String(err && err.message), code: (err && err.code) || null };
  }
}

answerStdin(async (input) => {
  const results = [];
  for (const testCase of input.cases) results.push(await run(testCase));
  return results;
});
