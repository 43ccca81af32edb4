// The visual policy editor beside the JSON one (create policy, new version). The JSON textarea is
// what the form sends and the server validates; this file only shows the tabs, builds statements
// from the catalog the page carries (#policy-catalog), and writes the JSON back as they change.
// Without it, the textarea is the editor. Its words come from the scripts' catalog (/jsi18n/,
// loaded before this deferred file): gettext() and interpolate().
(() => {
  "use strict";

  // interpolate() with named placeholders: format("%(n)s left", {n: 3}).
  const format = (text, values) => interpolate(text, values, true);

  const box = document.querySelector("[data-policy-editor]");
  const catalogElement = document.getElementById("policy-catalog");
  if (!box || !catalogElement) { return; }
  const catalog = JSON.parse(catalogElement.textContent);
  const textarea = box.querySelector("textarea.policy-editor");
  const tabs = { visual: document.getElementById("editor-tab-visual"), json: document.getElementById("editor-tab-json") };
  const panels = { visual: document.getElementById("editor-panel-visual"), json: document.getElementById("editor-panel-json") };
  const unavailable = document.getElementById("visual-unavailable");
  const servicesByName = new Map(catalog.services.map((service) => [service.name, service]));
  const operatorsByName = new Map(catalog.operators.map((operator) => [operator.name, operator]));
  const STATEMENT_KEYS = new Set(["Sid", "Effect", "Action", "Resource", "Condition"]);
  const STORED_TAB = "policyEditorTab";
  let statements = [];
  let counter = 0;

  // --- JSON -> model: what the visual editor can show, or why not -----------------------------

  class Unrepresentable extends Error {}

  // An empty or missing list is shown (a statement being built); the evaluator names the error.
  function strings(value, where, element) {
    const list = value === undefined ? [] : typeof value === "string" ? [value] : value;
    if (!Array.isArray(list) || !list.every((item) => typeof item === "string")) {
      throw new Unrepresentable(format(gettext("%(where)s: %(element)s is not a string or a list of strings."), { where, element }));
    }
    return list;
  }

  function splitOperator(name, where) {
    let qualifier = "";
    let rest = name;
    for (const candidate of catalog.qualifiers) {
      if (name.startsWith(candidate)) { qualifier = candidate; rest = name.slice(candidate.length); }
    }
    let ifExists = false;
    if (!operatorsByName.has(rest) && rest.endsWith("IfExists")) {
      ifExists = true;
      rest = rest.slice(0, -"IfExists".length);
    }
    if (!operatorsByName.has(rest)) {
      throw new Unrepresentable(format(gettext("%(where)s uses the operator “%(operator)s”, which the visual editor does not know."), { where, operator: name }));
    }
    return { qualifier, operator: rest, ifExists };
  }

  function isScalar(value) {
    return ["string", "number", "boolean"].includes(typeof value);
  }

  function conditionsOf(condition, where) {
    if (condition === undefined) { return []; }
    if (!isObject(condition)) { throw new Unrepresentable(format(gettext("%(where)s: %(element)s is not an object."), { where, element: "Condition" })); }
    const rows = [];
    for (const [name, block] of Object.entries(condition)) {
      const operator = splitOperator(name, where);
      if (!isObject(block)) { throw new Unrepresentable(format(gettext("%(where)s: %(element)s is not an object."), { where, element: `Condition.${name}` })); }
      for (const [key, value] of Object.entries(block)) {
        const values = Array.isArray(value) ? value : [value];
        if (!values.every(isScalar)) {
          throw new Unrepresentable(format(gettext("%(where)s: %(element)s holds values the visual editor cannot show."), { where, element: `Condition.${name}.${key}` }));
        }
        rows.push({ ...operator, key, values: [...values] });
      }
    }
    return rows;
  }

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function serviceOf(actions) {
    for (const action of actions) {
      const prefix = action.split(":")[0].toLowerCase();
      if (servicesByName.has(prefix)) { return prefix; }
    }
    return "";
  }

  function statementOf(statement, index) {
    const where = statementName(index);
    if (!isObject(statement)) { throw new Unrepresentable(format(gettext("%(where)s is not an object."), { where })); }
    for (const key of Object.keys(statement)) {
      if (!STATEMENT_KEYS.has(key)) {
        throw new Unrepresentable(format(gettext("%(where)s uses “%(element)s”, which the visual editor cannot show; edit it as JSON."), { where, element: key }));
      }
    }
    if (statement.Effect !== "Allow" && statement.Effect !== "Deny") {
      throw new Unrepresentable(format(gettext("%(where)s needs an Effect of \"Allow\" or \"Deny\"."), { where }));
    }
    if (statement.Sid !== undefined && typeof statement.Sid !== "string") {
      throw new Unrepresentable(format(gettext("%(where)s has a Sid that is not a string."), { where }));
    }
    const actions = strings(statement.Action, where, "Action");
    return {
      sid: statement.Sid,
      effect: statement.Effect,
      service: serviceOf(actions),
      actions: [...actions],
      resources: [...strings(statement.Resource, where, "Resource")],
      conditions: conditionsOf(statement.Condition, where),
    };
  }

  function statementName(index) {
    return format(gettext("Statement %(number)s"), { number: index + 1 });
  }

  function modelOf(text) {
    let policy;
    try {
      policy = JSON.parse(text);
    } catch {
      throw new Unrepresentable(gettext("The JSON is not valid yet: correct it on the JSON tab to use the visual editor."));
    }
    if (!isObject(policy)) { throw new Unrepresentable(gettext("The document is not a JSON object.")); }
    for (const key of Object.keys(policy)) {
      if (key !== "Version" && key !== "Statement") {
        throw new Unrepresentable(format(gettext("The document has “%(element)s”, which the visual editor cannot show."), { element: key }));
      }
    }
    if (policy.Version !== "1") { throw new Unrepresentable(gettext("The visual editor writes \"Version\": \"1\" only.")); }
    if (!Array.isArray(policy.Statement)) { throw new Unrepresentable(gettext("Statement is not a list.")); }
    return policy.Statement.map(statementOf);
  }

  // --- model -> JSON ----------------------------------------------------------------------------

  function conditionJson(rows) {
    const condition = {};
    for (const row of rows) {
      if (!row.key.trim()) { continue; }
      const name = `${row.qualifier}${row.operator}${row.ifExists ? "IfExists" : ""}`;
      const block = condition[name] ?? (condition[name] = {});
      const values = [...(block[row.key] === undefined ? [] : [].concat(block[row.key])), ...row.values];
      block[row.key] = values.length === 1 ? values[0] : values;
    }
    return Object.keys(condition).length ? condition : undefined;
  }

  function statementJson(statement) {
    const json = {};
    if (statement.sid) { json.Sid = statement.sid; }
    json.Effect = statement.effect;
    json.Action = statement.actions;
    json.Resource = statement.resources;
    const condition = conditionJson(statement.conditions);
    if (condition) { json.Condition = condition; }
    return json;
  }

  function writeJson() {
    const policy = { Version: "1", Statement: statements.map(statementJson) };
    textarea.value = JSON.stringify(policy, null, 2);
    // htmx's live check listens for input on the textarea.
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // --- building the visual editor ---------------------------------------------------------------

  function element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === false || value === undefined || value === null) { continue; }
      if (name === "text") { node.textContent = value; } else { node.setAttribute(name, value === true ? "" : value); }
    }
    node.append(...children.filter((child) => child !== null && child !== undefined));
    return node;
  }

  function nextId(name) {
    counter += 1;
    return `visual-${name}-${counter}`;
  }

  function labelled(labelText, control, hint) {
    const id = control.id || (control.id = nextId("field"));
    const wrapper = element("div", { class: "visual-field" }, element("label", { for: id, text: labelText }), control);
    if (hint) {
      const hintId = `${id}-hint`;
      control.setAttribute("aria-describedby", hintId);
      wrapper.append(element("p", { class: "hint", id: hintId, text: hint }));
    }
    return wrapper;
  }

  function lines(text) {
    return text.split("\n").map((line) => line.trim()).filter(Boolean);
  }

  function effectField(statement) {
    const name = nextId("effect");
    const fieldset = element("fieldset", { class: "plain visual-effect" }, element("legend", { text: gettext("Effect") }));
    const names = { Allow: gettext("Allow"), Deny: gettext("Deny") };
    for (const effect of ["Allow", "Deny"]) {
      const id = `${name}-${effect.toLowerCase()}`;
      const radio = element("input", { type: "radio", name, id, value: effect, checked: statement.effect === effect });
      radio.addEventListener("change", () => { statement.effect = effect; writeJson(); });
      fieldset.append(element("label", { class: "inline-choice", for: id }, radio, ` ${names[effect]}`));
    }
    return fieldset;
  }

  function serviceField(statement, rerender) {
    const select = element("select", { "data-field": "service" },
      element("option", { value: "", text: gettext("— Choose a service —") }));
    for (const service of catalog.services) {
      select.append(element("option", { value: service.name, selected: statement.service === service.name, text: `${service.title} (${service.name})` }));
    }
    select.addEventListener("change", () => { statement.service = select.value; rerender(); });
    return labelled(gettext("Service"), select);
  }

  function sameAction(left, right) {
    return left.toLowerCase() === right.toLowerCase();
  }

  function actionsField(statement) {
    const fieldset = element("fieldset", { class: "visual-actions" }, element("legend", { text: gettext("Actions") }));
    const service = servicesByName.get(statement.service);
    const offered = service ? [`${service.name}:*`, ...service.actions.map((name) => `${service.name}:${name}`)] : [];
    const has = (action) => statement.actions.some((existing) => sameAction(existing, action));
    const others = () => statement.actions.filter((action) => !offered.some((item) => sameAction(item, action)));
    const other = element("textarea", { rows: 2, class: "short", spellcheck: "false", "data-field": "other-actions" });
    other.value = others().join("\n");
    const boxes = [];
    const collect = () => {
      const checked = boxes.filter((checkbox) => checkbox.checked).map((checkbox) => checkbox.value);
      statement.actions = [...checked, ...lines(other.value)];
      writeJson();
    };
    if (service) {
      const list = element("div", { class: "action-list" });
      offered.forEach((action, index) => {
        const id = nextId("action");
        const checkbox = element("input", { type: "checkbox", id, value: action, checked: has(action) });
        checkbox.addEventListener("change", collect);
        boxes.push(checkbox);
        const text = index === 0 ? format(gettext("All actions (%(action)s)"), { action }) : action.split(":")[1];
        const label = element("label", { class: index === 0 ? "choice all-actions" : "inline-choice", for: id }, checkbox, ` ${text}`);
        if (index === 0) { fieldset.append(label); } else { list.append(label); }
      });
      if (offered.length > 1) {
        fieldset.append(filterField(list), list);
      }
    } else {
      fieldset.append(element("p", { class: "hint", text: gettext("Choose a service to pick its actions, or write them below.") }));
    }
    other.addEventListener("input", collect);
    fieldset.append(labelled(gettext("Other actions, one a line"), other, gettext("service:Action, wildcards allowed, e.g. ecs:Describe* or * for every action.")));
    return fieldset;
  }

  function filterField(list) {
    const filter = element("input", { type: "search", "data-field": "filter-actions" });
    filter.addEventListener("input", () => {
      const wanted = filter.value.trim().toLowerCase();
      list.querySelectorAll("label").forEach((label) => {
        label.hidden = wanted !== "" && !label.textContent.toLowerCase().includes(wanted);
      });
    });
    return labelled(gettext("Filter actions"), filter);
  }

  function resourcesField(statement) {
    const textarea = element("textarea", { rows: 3, class: "short", spellcheck: "false", "data-field": "resources" });
    textarea.value = statement.resources.join("\n");
    textarea.addEventListener("input", () => { statement.resources = lines(textarea.value); writeJson(); });
    const field = labelled(gettext("Resources, one a line"), textarea, gettext("ARNs, wildcards allowed; * is every resource."));
    const service = servicesByName.get(statement.service);
    const hints = ["*", ...(service ? service.resources : [])];
    const row = element("p", { class: "resource-hints" }, gettext("Add: "));
    for (const hint of hints) {
      const button = element("button", { type: "button", class: "link-button", "aria-label": format(gettext("Add resource %(resource)s"), { resource: hint }), text: hint });
      button.addEventListener("click", () => {
        if (!statement.resources.includes(hint)) { statement.resources.push(hint); }
        textarea.value = statement.resources.join("\n");
        writeJson();
      });
      row.append(button, " ");
    }
    field.append(row);
    return field;
  }

  function qualifierSelect(row) {
    const operator = operatorsByName.get(row.operator);
    const select = element("select", { "data-field": "qualifier" }, element("option", { value: "", text: gettext("Single value") }));
    for (const qualifier of catalog.qualifiers) {
      const accepted = operator.qualifiers.includes(qualifier);
      const text = accepted ? qualifier : format(gettext("%(qualifier)s (not with %(operator)s)"), { qualifier, operator: row.operator });
      select.append(element("option", { value: qualifier, text, selected: row.qualifier === qualifier, disabled: !accepted && row.qualifier !== qualifier }));
    }
    return select;
  }

  function conditionRow(statement, row, rerender) {
    const fieldset = element("fieldset", { class: "condition-row" }, element("legend", { text: format(gettext("Condition %(number)s"), { number: statement.conditions.indexOf(row) + 1 }) }));
    const qualifier = qualifierSelect(row);
    qualifier.addEventListener("change", () => { row.qualifier = qualifier.value; writeJson(); });
    const operator = element("select", { "data-field": "operator" });
    for (const entry of catalog.operators) {
      operator.append(element("option", { value: entry.name, text: entry.name, selected: entry.name === row.operator }));
    }
    operator.addEventListener("change", () => {
      row.operator = operator.value;
      const entry = operatorsByName.get(row.operator);
      if (!entry.qualifiers.includes(row.qualifier)) { row.qualifier = ""; }
      if (!entry.if_exists) { row.ifExists = false; }
      writeJson();
      rerender();
    });
    const ifExistsId = nextId("if-exists");
    const accepted = operatorsByName.get(row.operator).if_exists;
    const ifExists = element("input", { type: "checkbox", id: ifExistsId, checked: row.ifExists, disabled: !accepted && !row.ifExists });
    ifExists.addEventListener("change", () => { row.ifExists = ifExists.checked; writeJson(); });
    const key = element("input", { type: "text", list: "policy-condition-keys", spellcheck: "false", "data-field": "key" });
    key.value = row.key;
    key.addEventListener("input", () => { row.key = key.value.trim(); writeJson(); });
    const values = element("textarea", { rows: 2, class: "short", spellcheck: "false", "data-field": "values" });
    values.value = row.values.map(String).join("\n");
    values.addEventListener("input", () => { row.values = typedValues(lines(values.value), row.values); writeJson(); });
    const remove = element("button", { type: "button", class: "danger", text: gettext("Remove condition") });
    remove.addEventListener("click", () => {
      statement.conditions.splice(statement.conditions.indexOf(row), 1);
      writeJson();
      rerender();
    });
    fieldset.append(
      element("div", { class: "condition-grid" },
        labelled(gettext("Set qualifier"), qualifier),
        labelled(gettext("Operator"), operator),
        element("label", { class: "inline-choice if-exists", for: ifExistsId }, ifExists, ` ${gettext("IfExists (holds when the key is absent)")}`),
        labelled(gettext("Condition key"), key),
        labelled(gettext("Values, one a line"), values)),
      remove);
    return fieldset;
  }

  // A value the user did not change keeps its JSON type (true, 10); new text is a string.
  function typedValues(texts, previous) {
    return texts.map((text) => previous.find((value) => String(value) === text) ?? text);
  }

  function conditionsField(statement, rerender) {
    const fieldset = element("fieldset", { class: "visual-conditions" }, element("legend", { text: gettext("Conditions") }));
    if (statement.conditions.length === 0) {
      fieldset.append(element("p", { class: "hint", text: gettext("None: the statement applies whatever the request's context.") }));
    }
    for (const row of statement.conditions) { fieldset.append(conditionRow(statement, row, rerender)); }
    const add = element("button", { type: "button", text: gettext("Add condition") });
    add.addEventListener("click", () => {
      statement.conditions.push({ qualifier: "", operator: catalog.operators[0].name, ifExists: false, key: "", values: [] });
      rerender((replacement) => replacement.querySelector(".condition-row:last-of-type select")?.focus());
    });
    fieldset.append(add);
    return fieldset;
  }

  function sidField(statement) {
    const input = element("input", { type: "text", spellcheck: "false", "data-field": "sid" });
    input.value = statement.sid ?? "";
    input.addEventListener("input", () => { statement.sid = input.value.trim() || undefined; writeJson(); });
    return labelled(gettext("Statement ID (Sid, optional)"), input);
  }

  function statementEditor(statement, index) {
    const fieldset = element("fieldset", { class: "statement-editor", "data-statement": index });
    // Rebuilt after a change of shape (service, operator, a condition added or removed); focus
    // goes back to the control in the same place, or where ``focus`` puts it.
    const rerender = (focus) => {
      const controls = () => [...fieldset.querySelectorAll("input, select, textarea, button")];
      const position = controls().indexOf(document.activeElement);
      const replacement = statementEditor(statement, index);
      fieldset.replaceWith(replacement);
      if (typeof focus === "function") {
        focus(replacement);
      } else if (position >= 0) {
        [...replacement.querySelectorAll("input, select, textarea, button")][position]?.focus();
      }
    };
    const remove = element("button", { type: "button", class: "danger", text: format(gettext("Remove statement %(number)s"), { number: index + 1 }) });
    remove.addEventListener("click", () => {
      statements.splice(index, 1);
      writeJson();
      renderVisual();
      panels.visual.querySelector("[data-add-statement]").focus();
    });
    fieldset.append(
      element("legend", { text: statementName(index) }),
      effectField(statement),
      serviceField(statement, rerender),
      actionsField(statement),
      resourcesField(statement),
      conditionsField(statement, rerender),
      sidField(statement),
      remove);
    return fieldset;
  }

  function renderVisual() {
    const keys = element("datalist", { id: "policy-condition-keys" });
    for (const key of catalog.condition_keys) { keys.append(element("option", { value: key })); }
    const add = element("button", { type: "button", "data-add-statement": true, text: gettext("Add statement") });
    add.addEventListener("click", () => {
      statements.push({ effect: "Allow", service: "", actions: [], resources: [], conditions: [] });
      writeJson();
      renderVisual();
      panels.visual.querySelector(".statement-editor:last-of-type select")?.focus();
    });
    panels.visual.replaceChildren(keys, ...statements.map(statementEditor), add);
  }

  // --- tabs ----------------------------------------------------------------------------------

  function representable() {
    try {
      modelOf(textarea.value);
      return "";
    } catch (error) {
      if (error instanceof Unrepresentable) { return error.message; }
      throw error;
    }
  }

  function updateVisualTab() {
    const reason = representable();
    tabs.visual.setAttribute("aria-disabled", reason ? "true" : "false");
    unavailable.textContent = reason ? format(gettext("Visual editor unavailable: %(reason)s"), { reason }) : "";
    unavailable.hidden = !reason;
    return reason;
  }

  function select(name) {
    if (name === "visual") {
      if (updateVisualTab()) { return; }
      statements = modelOf(textarea.value);
      renderVisual();
    }
    for (const [key, tab] of Object.entries(tabs)) {
      tab.setAttribute("aria-selected", key === name ? "true" : "false");
      tab.tabIndex = key === name ? 0 : -1;
      panels[key].hidden = key !== name;
    }
    box.dataset.mode = name;
  }

  function onTabKey(event) {
    const order = ["visual", "json"];
    const current = order.indexOf(event.currentTarget === tabs.visual ? "visual" : "json");
    const moves = { ArrowLeft: current - 1, ArrowRight: current + 1, Home: 0, End: order.length - 1 };
    if (!(event.key in moves)) { return; }
    event.preventDefault();
    const target = order[(moves[event.key] + order.length) % order.length];
    tabs[target].focus();
    choose(target);
  }

  // The editor opens on the tab last chosen (JSON the first time), the visual one only when it
  // can show the document.
  function choose(name) {
    select(name);
    try { localStorage.setItem(STORED_TAB, box.dataset.mode); } catch { /* storage refused */ }
  }

  function storedTab() {
    try { return localStorage.getItem(STORED_TAB) === "visual" ? "visual" : "json"; } catch { return "json"; }
  }

  for (const [name, tab] of Object.entries(tabs)) {
    tab.addEventListener("click", () => choose(name));
    tab.addEventListener("keydown", onTabKey);
  }
  textarea.addEventListener("input", () => { if (box.dataset.mode === "json") { updateVisualTab(); } });
  box.querySelector("[role=tablist]").hidden = false;
  select(updateVisualTab() ? "json" : storedTab());
})();
