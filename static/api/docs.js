// Lists the API's operations from its OpenAPI document (no third-party code).
"use strict";

(function () {
  const target = document.getElementById("operations");

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function typeOf(schema, document) {
    if (!schema) return "";
    if (schema.$ref) return schema.$ref.split("/").pop();
    if (schema.enum) return schema.enum.join(" | ");
    if (schema.type === "array") return typeOf(schema.items, document) + "[]";
    return schema.format ? schema.type + " (" + schema.format + ")" : schema.type || "";
  }

  function table(headings, rows) {
    const result = element("table");
    const head = element("tr");
    headings.forEach((heading) => head.append(element("th", heading)));
    result.append(head);
    rows.forEach((cells) => {
      const row = element("tr");
      cells.forEach((cell) => row.append(element("td", cell)));
      result.append(row);
    });
    return result;
  }

  function operation(path, method, op, document) {
    const details = element("details");
    const summary = element("summary");
    summary.append(element("span", method.toUpperCase(), "method " + method), " ", element("code", path));
    summary.append(element("div", op.summary + (op.security ? " (token needed)" : ""), "muted"));
    details.append(summary);
    const body = element("div", undefined, "body");
    const parameters = op.parameters || [];
    if (parameters.length) {
      body.append(element("h3", "Parameters"));
      body.append(table(["Name", "In", "Type", "About"], parameters.map((p) => [
        p.name + (p.required ? " *" : ""), p.in, typeOf(p.schema, document), p.description || "",
      ])));
    }
    const request = op.requestBody && op.requestBody.content["application/json"];
    if (request) body.append(element("p", "Body: " + typeOf(request.schema, document)));
    body.append(element("h3", "Responses"));
    body.append(table(["Status", "Body"], Object.entries(op.responses).map(([status, answer]) => {
      const content = answer.content ? Object.values(answer.content)[0] : null;
      return [status, content ? typeOf(content.schema, document) : answer.description];
    })));
    details.append(body);
    return details;
  }

  function show(document) {
    target.textContent = "";
    const byTag = new Map();
    Object.entries(document.paths).forEach(([path, methods]) => {
      Object.entries(methods).forEach(([method, op]) => {
        const tag = (op.tags || ["other"])[0];
        if (!byTag.has(tag)) byTag.set(tag, []);
        byTag.get(tag).push(operation(path, method, op, document));
      });
    });
    byTag.forEach((operations, tag) => {
      const section = element("section");
      section.append(element("h2", tag), ...operations);
      target.append(section);
    });
  }

  fetch("/api/v1/openapi.json", { headers: { Accept: "application/json" } })
    .then((response) => {
      if (!response.ok) throw new Error(response.status);
      return response.json();
    })
    .then(show)
    .catch(() => {
      target.textContent = "The API's document could not be loaded; try again later.";
    });
})();
