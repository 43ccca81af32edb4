// Small progressive enhancements; every page works without them.
document.addEventListener("click", (event) => {
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    navigator.clipboard?.writeText(copy.dataset.copy);
    copy.textContent = "Copied";
    setTimeout(() => { copy.textContent = "Copy"; }, 1500);
  }
  const close = event.target.closest("[data-close-modal]");
  if (close) {
    event.preventDefault();
    document.getElementById("modal").innerHTML = "";
  }
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") { document.getElementById("modal").innerHTML = ""; }
});
document.body?.addEventListener("closeModal", () => { document.getElementById("modal").innerHTML = ""; });
document.addEventListener("htmx:load", () => {
  document.body.addEventListener("closeModal", () => { document.getElementById("modal").innerHTML = ""; }, { once: true });
});
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
    element.textContent = left > 0 ? `${minutes}:${String(seconds).padStart(2, "0")} left` : "expired";
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
