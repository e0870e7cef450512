// Validates every object in the given multi-document YAML files against the JSON schemas shipped by the
// pinned kubernetes-models packages. An object whose apiVersion/kind has no schema here is an error too,
// so nothing passes unvalidated. Prints one line per problem; exits 1 if there was any.
import { readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { parseAllDocuments } from "yaml";

const require = createRequire(import.meta.url);
const PACKAGES = [
  "kubernetes-models",
  "@kubernetes-models/argo-rollouts",
  "@kubernetes-models/argo-cd",
  "@kubernetes-models/karpenter",
  "@kubernetes-models/keda",
  "@kubernetes-models/external-secrets",
  "@kubernetes-models/prometheus-operator",
];
const roots = PACKAGES.map((p) => dirname(require.resolve(`${p}/package.json`)));
const cache = new Map();

async function modelFor(apiVersion, kind) {
  const key = `${apiVersion}/${kind}`;
  if (cache.has(key)) return cache.get(key);
  const groupVersion = apiVersion.includes("/") ? apiVersion : `v1`;
  let found = null;
  for (const root of roots) {
    const file = join(root, groupVersion, `${kind}.js`);
    if (!existsSync(file)) continue;
    const mod = await import(file);
    const cls = mod[kind];
    if (cls && cls.apiVersion === apiVersion && cls.kind === kind) {
      found = cls;
      break;
    }
  }
  cache.set(key, found);
  return found;
}

function describe(err) {
  const details = (err.errors ?? err.details ?? [])
    .map((e) => `${e.instancePath || "/"} ${e.message ?? e.keyword}${e.params ? " " + JSON.stringify(e.params) : ""}`);
  return details.length ? details.join("; ") : String(err.message ?? err);
}

let problems = 0;
let objects = 0;
for (const path of process.argv.slice(2)) {
  const docs = parseAllDocuments(readFileSync(path, "utf8"));
  for (const [i, doc] of docs.entries()) {
    if (doc.errors.length) {
      console.log(`ERROR ${path}#${i}: YAML: ${doc.errors[0].message}`);
      problems++;
      continue;
    }
    const obj = doc.toJS();
    if (obj == null) continue;
    objects++;
    const where = `${path}#${i} ${obj.kind}/${obj.metadata?.name}`;
    if (!obj.apiVersion || !obj.kind) {
      console.log(`ERROR ${where}: missing apiVersion or kind`);
      problems++;
      continue;
    }
    const Model = await modelFor(obj.apiVersion, obj.kind);
    if (!Model) {
      console.log(`ERROR ${where}: no schema for ${obj.apiVersion} ${obj.kind}`);
      problems++;
      continue;
    }
    try {
      new Model(obj).validate();
    } catch (err) {
      console.log(`ERROR ${where}: ${describe(err)}`);
      problems++;
    }
  }
}
console.log(`${objects} objects validated, ${problems} problems`);
process.exit(problems ? 1 : 0);
