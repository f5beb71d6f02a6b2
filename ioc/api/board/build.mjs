// Builds the live board into dist/: index.html, app.js (one bundle), app.css (one stylesheet),
// the Be Vietnam Pro woff2 files it names, favicon.svg and the third-party licences.
// Deterministic: the same sources and package-lock.json give the same bytes (the test
// tests/unit/test_board_bundle.py rebuilds and compares). Nothing is fetched at run time.
import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, process.argv[2] ?? "dist");

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

await esbuild.build({
  absWorkingDir: here,
  entryPoints: { app: "src/main.ts" },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  outdir: out,
  entryNames: "[name]",
  assetNames: "[name]-[hash]",
  publicPath: "/board/",
  loader: { ".woff2": "file" },
  legalComments: "eof",
  sourcemap: false,
  charset: "ascii",
  logLevel: "warning",
});

const digest = async (name) =>
  createHash("sha256").update(await readFile(join(out, name))).digest("hex").slice(0, 12);

// index.html names the bundle with its digest, so a wall screen never mixes old and new files.
const html = (await readFile(join(here, "src/index.html"), "utf8"))
  .replace("%JS_HASH%", await digest("app.js"))
  .replace("%CSS_HASH%", await digest("app.css"));
await writeFile(join(out, "index.html"), html);
await copyFile(join(here, "src/favicon.svg"), join(out, "favicon.svg"));

const licences = [
  ["uPlot (MIT)", "node_modules/uplot/LICENSE"],
  ["Be Vietnam Pro, via @fontsource/be-vietnam-pro (SIL Open Font License 1.1)", "node_modules/@fontsource/be-vietnam-pro/LICENSE"],
];
let notices = "Third-party software bundled in the ioc-monitor live board.\n";
for (const [name, file] of licences) {
  notices += `\n${"=".repeat(78)}\n${name}\n${"=".repeat(78)}\n\n${(await readFile(join(here, file), "utf8")).trim()}\n`;
}
await writeFile(join(out, "THIRD-PARTY-LICENSES.txt"), notices);

const files = (await readdir(out)).sort();
for (const name of files) {
  const size = (await readFile(join(out, name))).length;
  console.log(`${name.padEnd(48)} ${String(size).padStart(8)} bytes`);
}
