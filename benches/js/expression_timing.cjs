#!/usr/bin/env node
// Times JSONata expressions under jsonata-js and @truto/truto-jsonata, for
// benches/benches/expression_vs_js.rs.
//
// Usage: node expression_timing.cjs <install-dir> < request.json > timings.json
// <install-dir> holds node_modules with @truto/truto-jsonata 3.0.6 (and its jsonata).
// Request: {"input": <value>, "expressions": [<source>, ...], "millis": <time per expression>}
// Output: [{"jsonata": <µs per evaluation>, "truto": <µs per evaluation>}, ...]
// Each expression is compiled once and evaluated repeatedly on the same already-parsed
// input (how a host application uses jsonata-js), after a warm-up.
'use strict';

const path = require('path');
const { createRequire } = require('module');

const requireFromInstall = createRequire(path.join(path.resolve(process.argv[2]), 'package.json'));
const jsonata = requireFromInstall('jsonata');
const trutoJsonata = requireFromInstall('@truto/truto-jsonata').default;

async function time(expression, input, millis) {
  for (let i = 0; i < 50; i++) await expression.evaluate(input);
  let runs = 0;
  const started = process.hrtime.bigint();
  const budget = BigInt(millis) * 1000000n;
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 20; i++) await expression.evaluate(input);
    runs += 20;
    elapsed = process.hrtime.bigint() - started;
  }
  return Number(elapsed) / 1000 / runs;
}

const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', async () => {
  const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const out = [];
  for (const source of request.expressions) {
    out.push({
      jsonata: await time(jsonata(source), request.input, request.millis),
      truto: await time(trutoJsonata(source), request.input, request.millis),
    });
  }
  process.stdout.write(JSON.stringify(out));
});
