// Writes src/api.gen.ts, the API's types, from its OpenAPI document (never edit it by hand):
//   python -c 'from ioc.api.openapi import print_document; print_document()' > openapi.json
//   node gen-types.mjs openapi.json [out.ts]
// tests/tools/test_board_types.py regenerates it from the app's document and compares, so
// the board's types cannot drift from what the server sends.
import { readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import openapiTS, { astToString } from "openapi-typescript";

const here = dirname(fileURLToPath(import.meta.url));
const [input, output = resolve(here, "src/api.gen.ts")] = process.argv.slice(2);
if (!input) {
  console.error("usage: node gen-types.mjs <openapi.json> [out.ts]");
  process.exit(2);
}
const document = JSON.parse(await readFile(input, "utf8"));
const ast = await openapiTS(document, {
  alphabetize: true,
  exportType: true,
  // A default is what the server assumes when a field is absent, not a promise it is sent.
  defaultNonNullable: false,
});
const header =
  "/** The API's types, generated from its OpenAPI document by gen-types.mjs: do not edit. */\n\n";
await writeFile(output, header + astToString(ast));
