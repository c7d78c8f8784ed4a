// What the differential-test drivers share: loading the pinned package from the install
// directory named on the command line, and answering one JSON request read from stdin.
'use strict';

const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

// The default export of the package `name` (e.g. '@truto/truto-jsonata') installed under
// the install directory given as the first argument. Exits 2 when no directory is given
// and 3 when the installed version is not `version`.
function requirePinned(name, version) {
  const installDir = process.argv[2];
  if (!installDir) {
    process.stderr.write('usage: node driver.cjs <install-dir> < cases.json\n');
    process.exit(2);
  }
  const root = path.resolve(installDir);
  const exported = createRequire(path.join(root, 'package.json'))(name).default;
  const manifest = path.join(root, 'node_modules', ...name.split('/'), 'package.json');
  const installedVersion = JSON.parse(fs.readFileSync(manifest, 'utf8')).version;
  if (installedVersion !== version) {
    process.stderr.write(`expected ${name} ${version}, found ${installedVersion}\n`);
    process.exit(3);
  }
  return exported;
}

// Reads stdin to the end as JSON, and writes what `answer` (sync or async) returns for
// it to stdout as JSON.
function answerStdin(answer) {
  const chunks = [];
  process.stdin.on('data', (chunk) => chunks.push(chunk));
  process.stdin.on('end', async () => {
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    process.stdout.write(JSON.stringify(await answer(input)));
  });
}

module.exports = { requirePinned, answerStdin };
