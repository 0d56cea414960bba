// Validates JSON documents against one of the Open311 GeoReport v2 JSON Schemas with ajv.
// usage: node validate.mjs <schema.json> <document.json>...
// Every other *.json schema in the schema's directory is registered under its file name, so the
// "$ref": "request.json" of requests.json resolves. Prints one line per document; exits 1 when
// any document is invalid, 2 on a usage or read error.
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { readFileSync, readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";

const [schemaPath, ...docs] = process.argv.slice(2);
if (!schemaPath || docs.length === 0) {
  console.error("usage: node validate.mjs <schema.json> <document.json>...");
  process.exit(2);
}
// The schemas predate strict mode (keywords such as minItems sit where no type says array).
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const dir = dirname(schemaPath);
for (const name of readdirSync(dir)) {
  if (!name.endsWith(".json") || name === "swagger.json") continue;
  ajv.addSchema(JSON.parse(readFileSync(join(dir, name), "utf8")), name);
}
const validate = ajv.getSchema(basename(schemaPath));
if (!validate) {
  console.error(`validate.mjs: no schema ${basename(schemaPath)} in ${dir}`);
  process.exit(2);
}
let failed = 0;
for (const doc of docs) {
  const data = JSON.parse(readFileSync(doc, "utf8"));
  if (validate(data)) {
    console.log(`valid   ${doc}`);
  } else {
    failed++;
    console.log(`INVALID ${doc}: ${ajv.errorsText(validate.errors, { separator: "; " })}`);
  }
}
process.exit(failed ? 1 : 0);
