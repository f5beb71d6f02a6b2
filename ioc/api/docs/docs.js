// The API's reference page: reads /openapi.json and writes it out as HTML. Served from the
// API itself (no CDN) under its Content-Security-Policy: no inline script or style, and every
// text from the document goes in through textContent, never as markup.
"use strict";

(function () {
  const main = document.getElementById("api");
  const toc = document.getElementById("toc");

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function refName(ref) {
    return ref.split("/").pop();
  }

  // A schema as a short type: links to named schemas, `X | null`, `X[]`, enums.
  function typeOf(schema) {
    if (!schema) return el("span", {}, "any");
    if (schema.$ref) return el("a", { href: "#schema-" + refName(schema.$ref) }, refName(schema.$ref));
    const union = schema.anyOf || schema.oneOf;
    if (union) {
      const out = el("span", {});
      union.forEach((part, i) => {
        if (i) out.append(" | ");
        out.append(typeOf(part));
      });
      return out;
    }
    if (schema.const !== undefined) return el("code", {}, JSON.stringify(schema.const));
    if (schema.enum) return el("span", {}, schema.enum.map((v) => JSON.stringify(v)).join(" | "));
    if (schema.type === "array") {
      if (schema.prefixItems) {
        const out = el("span", {}, "[");
        schema.prefixItems.forEach((part, i) => {
          if (i) out.append(", ");
          out.append(typeOf(part));
        });
        out.append("]");
        return out;
      }
      return el("span", {}, typeOf(schema.items), "[]");
    }
    const text = (schema.type || "object") + (schema.format ? " (" + schema.format + ")" : "");
    return el("span", {}, text);
  }

  function parameters(list) {
    const rows = list.map((p) =>
      el(
        "tr",
        {},
        el("td", {}, el("code", {}, p.name), p.required ? el("span", { class: "required" }, " *") : null),
        el("td", {}, p.in),
        el("td", {}, typeOf(p.schema)),
        el("td", { class: "desc" }, p.description || (p.schema && p.schema.description) || ""),
      ),
    );
    return el(
      "table",
      {},
      el("tr", {}, el("th", {}, "Parameter"), el("th", {}, "In"), el("th", {}, "Type"), el("th", {}, "")),
      ...rows,
    );
  }

  function responses(map) {
    const rows = Object.entries(map).map(([status, response]) => {
      const media = el("td", {});
      for (const [type, body] of Object.entries(response.content || {})) {
        media.append(el("div", {}, el("code", {}, type), " ", typeOf(body.schema || body.itemSchema)));
      }
      return el("tr", {}, el("td", {}, status), el("td", {}, response.description || ""), media);
    });
    return el(
      "table",
      {},
      el("tr", {}, el("th", {}, "Status"), el("th", {}, "Meaning"), el("th", {}, "Body")),
      ...rows,
    );
  }

  function operation(method, path, op) {
    const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
    return el(
      "details",
      { class: "op", id: "op-" + op.operationId },
      el(
        "summary",
        {},
        el("span", { class: "method " + method }, method),
        el("span", { class: "path" }, path),
        el("span", { class: "op-summary" }, op.summary || ""),
      ),
      el("p", {}, "Operation id ", el("code", {}, op.operationId), op.security ? " · needs a key" : " · no key"),
      op.description ? el("p", { class: "desc" }, op.description) : null,
      op.parameters && op.parameters.length ? parameters(op.parameters) : null,
      body ? el("p", {}, "Body: ", typeOf(body.schema)) : null,
      responses(op.responses || {}),
    );
  }

  function schemaSection(name, schema) {
    const required = new Set(schema.required || []);
    const rows = Object.entries(schema.properties || {}).map(([field, sub]) =>
      el(
        "tr",
        {},
        el("td", {}, el("code", {}, field), required.has(field) ? el("span", { class: "required" }, " *") : null),
        el("td", {}, typeOf(sub)),
        el("td", { class: "desc" }, sub.description || ""),
      ),
    );
    return el(
      "section",
      { class: "schema", id: "schema-" + name },
      el("h3", {}, name),
      schema.description ? el("p", { class: "desc" }, schema.description) : null,
      rows.length
        ? el("table", {}, el("tr", {}, el("th", {}, "Field"), el("th", {}, "Type"), el("th", {}, "")), ...rows)
        : el("p", {}, typeOf(schema)),
    );
  }

  function render(doc) {
    document.getElementById("title").textContent = doc.info.title + " " + doc.info.version;
    document.getElementById("summary").textContent = doc.info.description || doc.info.summary || "";
    main.replaceChildren();
    const byTag = new Map((doc.tags || []).map((t) => [t.name, { tag: t, ops: [] }]));
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const name = (op.tags && op.tags[0]) || "other";
        if (!byTag.has(name)) byTag.set(name, { tag: { name }, ops: [] });
        byTag.get(name).ops.push(operation(method, path, op));
      }
    }
    for (const { tag, ops } of byTag.values()) {
      if (!ops.length) continue;
      const id = "tag-" + tag.name.replace(/\W+/g, "-");
      toc.append(el("a", { href: "#" + id }, tag.name));
      main.append(el("h2", { id }, tag.name), tag.description ? el("p", {}, tag.description) : null, ...ops);
    }
    const schemas = (doc.components && doc.components.schemas) || {};
    toc.append(el("a", { href: "#schemas" }, "schemas"));
    main.append(el("h2", { id: "schemas" }, "schemas"));
    for (const name of Object.keys(schemas).sort()) main.append(schemaSection(name, schemas[name]));
    if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
  }

  fetch("/openapi.json")
    .then((response) => {
      if (!response.ok) throw new Error("/openapi.json: HTTP " + response.status);
      return response.json();
    })
    .then(render)
    .catch((error) => {
      main.replaceChildren(el("p", { class: "error" }, String(error)));
    });
})();
