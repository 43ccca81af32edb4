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
