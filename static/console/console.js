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
// A 503 ("busy, nothing was changed, try again") carries its message for #notices: show it
// instead of dropping it as htmx does with error responses.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr.status === 503) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
