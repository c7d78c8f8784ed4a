#!/usr/bin/env node
// Differential-test driver for crates/patchbay-template/tests/differential_replace_placeholders.rs.
//
// Usage: node driver.cjs <install-dir> < cases.json > results.json
//
// <install-dir> holds the package.json / package-lock.json of this folder and the
// node_modules that `npm ci` installed there (the Rust test manages it).
//
// Input (stdin): {"data": [<data object>, ...], "cases": [{"template": <string or JSON value>, "data": <index>}, ...]}
// Output (stdout): a JSON array with one entry per case, in order:
//   {"value": <result>}   the result, as JSON
//   {"undefined": true}   the result was `undefined`
//   {"error": "<message>"} replacePlaceholders threw
// Numbers JSON cannot hold (Infinity, -Infinity, NaN) are written as {"$nonfinite": "Infinity"}
// and functions (inherited prototype members) as {"$function": "<name>"}, so they cannot be
// mistaken for ordinary values. Strings holding lone UTF-16 surrogates (`JSON.parse('"\\ud800"')`)
// are written with each one replaced by U+FFFD (`toWellFormed`), as a Rust string holds them.
'use strict';

const { requirePinned, answerStdin } = require('./pinned.cjs');

const replacePlaceholders = requirePinned('@truto/replace-placeholders', '1.0.11');

function marker(key, value) {
  if (typeof value === 'number' && !Number.isFinite(value)) return { $nonfinite: String(value) };
  if (typeof value === 'function') return { $function: value.name };
  if (typeof value === 'string') return value.toWellFormed();
  return value;
}

answerStdin((input) =>
  input.cases.map(({ template, data }) => {
    // A fresh copy per case, so no case can observe another's side effects
    // (structuredClone, not a JSON round trip, which would turn -0 into 0).
    const context = structuredClone(input.data[data]);
    try {
      const result = replacePlaceholders(template, context);
      if (result === undefined) return { undefined: true };
      return { value: JSON.parse(JSON.stringify(result, marker)) };
    } catch (err) {
      return { error: String(err && err.message) };
    }
  }),
);
