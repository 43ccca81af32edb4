// Small progressive enhancements; every page works without them.
// Copy buttons (data-copy): the button says "Copied" for two seconds and a live region tells
// screen readers; the region sits in the open dialog if there is one (the page behind a modal
// dialog is inert) and is filled a moment after it exists, or it may not be announced.
function copyStatus(container) {
  let status = container.querySelector(":scope > .copy-status");
  if (!status) {
    status = document.createElement("p");
    status.className = "copy-status visually-hidden";
    status.setAttribute("role", "status");
    container.append(status);
  }
  return status;
}
function showCopied(button, label) {
  button.dataset.label ||= button.textContent;
  button.textContent = label;
  const status = copyStatus(button.closest("dialog[open]") || document.body);
  status.textContent = "";
  setTimeout(() => { status.textContent = label === gettext("Copied") ? gettext("Copied to the clipboard.") : label; }, 100);
  clearTimeout(button.copiedTimer);
  button.copiedTimer = setTimeout(() => { button.textContent = button.dataset.label; }, 2000);
}
document.addEventListener("click", (event) => {
  const copy = event.target.closest("[data-copy]");
  if (!copy) { return; }
  const written = navigator.clipboard ? navigator.clipboard.writeText(copy.dataset.copy) : Promise.reject();
  written.then(() => showCopied(copy, gettext("Copied")), () => showCopied(copy, gettext("Copy failed")));
});
// Dialogs. A button hx-gets a dialog fragment into <dialog id="modal"> (base.html); it then opens
// as a modal dialog: named by its heading, focus moved into it and kept there (Tab and Shift+Tab
// wrap), closed by Escape, its close links or the server's closeModal event, and focus goes back
// to the element that opened it. Without JavaScript the same links open the dialog as a page.
const FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex='-1'])";
let modalOpener = null;
function modalHost() { return document.getElementById("modal"); }
function focusables(root) {
  return [...root.querySelectorAll(FOCUSABLE)].filter((element) => element.getClientRects().length > 0);
}
function focusIntoModal(host) {
  const field = host.querySelector("[autofocus], input:not([type=hidden]):not([disabled]), select, textarea");
  const heading = host.querySelector("h1, h2");
  const target = field || heading || host;
  if (target === heading) { heading.tabIndex = -1; }
  target.focus();
}
function syncModal() {
  const host = modalHost();
  if (!host) { return; }
  if (host.firstElementChild && !host.open) {
    const heading = host.querySelector("h1, h2");
    if (heading) {
      heading.id ||= "modal-title";
      host.setAttribute("aria-labelledby", heading.id);
    }
    modalOpener ||= document.activeElement;
    host.showModal();
    focusIntoModal(host);
  } else if (!host.firstElementChild && host.open) {
    host.close();
  } else if (host.open && !host.contains(document.activeElement)) {
    focusIntoModal(host);
  }
}
function closeModal() {
  const host = modalHost();
  if (host?.open) { host.close(); } else if (host) { host.replaceChildren(); }
}
modalHost()?.addEventListener("close", () => {
  const host = modalHost();
  host.replaceChildren();
  host.removeAttribute("aria-labelledby");
  const opener = modalOpener;
  modalOpener = null;
  (opener?.isConnected ? opener : document.getElementById("main"))?.focus();
});
document.addEventListener("htmx:beforeRequest", (event) => {
  if (event.detail.target?.id === "modal" && !modalHost().open) { modalOpener = event.detail.elt; }
});
document.addEventListener("htmx:afterSettle", syncModal);
document.addEventListener("closeModal", closeModal);
document.addEventListener("click", (event) => {
  if (event.target.closest("#modal [data-close-modal]")) {
    event.preventDefault();
    closeModal();
  }
});
document.addEventListener("keydown", (event) => {
  const host = modalHost();
  if (event.key !== "Tab" || !host?.open) { return; }
  const elements = focusables(host);
  if (!elements.length) { event.preventDefault(); return; }
  const first = elements[0], last = elements[elements.length - 1];
  const inside = host.contains(document.activeElement);
  if (event.shiftKey && (document.activeElement === first || !inside)) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (document.activeElement === last || !inside)) {
    event.preventDefault();
    first.focus();
  }
});
// A button that cannot be used (aria-disabled, with its reason beside it, console_tags.denied)
// stays focusable so its reason can be read, and does nothing when pressed.
document.addEventListener("click", (event) => {
  if (event.target.closest("[aria-disabled='true']")) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
// A destructive form asks first (data-confirm="the question"), plain or htmx. Once answered it
// says so (confirmed=yes); without JavaScript the server asks on a page instead (ask_first).
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset?.confirm;
  if (!question) { return; }
  if (!window.confirm(question)) {
    event.preventDefault();
    event.stopImmediatePropagation();
    return;
  }
  if (!form.querySelector("input[name=confirmed]")) {
    const confirmed = document.createElement("input");
    Object.assign(confirmed, { type: "hidden", name: "confirmed", value: "yes" });
    form.append(confirmed);
  }
}, true);
// Colours users chose for their roles (data-color="#rrggbb", checked by the server) become the
// element's --role-color, which the banner and badges paint with. Set through the CSSOM: the
// Content-Security-Policy forbids style attributes in the markup.
function applyColors(root) {
  const elements = [...root.querySelectorAll("[data-color]")];
  if (root.matches?.("[data-color]")) { elements.push(root); }
  elements.forEach((element) => {
    if (/^#[0-9a-fA-F]{6}$/.test(element.dataset.color)) {
      element.style.setProperty("--role-color", element.dataset.color);
    }
  });
}
applyColors(document);
document.addEventListener("htmx:load", (event) => applyColors(event.detail.elt));
// The switched-role banner counts down the time left in the role session.
function updateCountdowns() {
  document.querySelectorAll(".countdown[data-expires]").forEach((element) => {
    const left = Math.max(0, Number(element.dataset.expires) - Math.floor(Date.now() / 1000));
    const minutes = Math.floor(left / 60), seconds = left % 60;
    const time = `${minutes}:${String(seconds).padStart(2, "0")}`;
    element.textContent = left > 0 ? interpolate(gettext("%(time)s left"), { time }, true) : gettext("expired");
  });
}
updateCountdowns();
setInterval(updateCountdowns, 1000);
// A 503 ("busy, nothing was changed, try again") or a 409 ("this form was already sent from
// another logon session") carries its message for #notices: show it instead of dropping it as
// htmx does with error responses.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr.status === 503 || event.detail.xhr.status === 409) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
// A plain (non-htmx) form is sent once: its submit buttons are disabled until the next page
// loads. Disabled a tick later, so the clicked button's name and value still go with the form;
// htmx forms are left to htmx (hx-disabled-elt), which cancels the browser's own submission.
// The server does not rely on this: create forms carry a one-time token (console/once.py).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (event.defaultPrevented || form.method.toLowerCase() !== "post") { return; }
  setTimeout(() => {
    form.querySelectorAll("button:not([type=button]):not([type=reset]), input[type=submit]")
      .forEach((button) => {
        if (button.disabled) { return; }
        button.disabled = true;
        button.dataset.sending = "";
      });
  }, 0);
});
// Coming back to a page from the browser's cache: its buttons work again.
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) { return; }
  document.querySelectorAll("form button[disabled][data-sending], form input[disabled][data-sending]")
    .forEach((button) => { button.disabled = false; delete button.dataset.sending; });
});
// After an htmx form was answered, a form that stays on the page (Create AccessKey on the user's
// details, under the dialog) gets a fresh one-time token: sending it again is a new submission.
// A tick later, so a second submission htmx queued meanwhile still goes with the first token
// (and is answered as a repeat). After a failed request the form keeps its token, so resending
// it cannot do the work twice.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (!event.detail.successful || !(form instanceof HTMLFormElement)) { return; }
  setTimeout(() => {
    form.querySelectorAll("input[name=form_token]").forEach((input) => {
      const bytes = crypto.getRandomValues(new Uint8Array(18));
      input.value = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
    });
  }, 0);
});
// The wizard's trust policy editor follows the chosen trusted actors until the admin edits it: an
// update that was already on its way when they started typing must not overwrite what they typed.
document.addEventListener("htmx:beforeRequest", (event) => {
  const editor = document.getElementById("id_trust_policy");
  if (editor && event.detail.target?.id === "trust-editor") { editor.dataset.sent = editor.value; }
});
document.addEventListener("htmx:beforeSwap", (event) => {
  const editor = document.getElementById("id_trust_policy");
  if (editor && event.detail.target?.id === "trust-editor" && editor.value !== editor.dataset.sent) {
    event.detail.shouldSwap = false;
  }
});
