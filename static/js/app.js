// Small page behaviours: confirmations, auto-submitting selects, copy buttons, the token form.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
});

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const text = document.querySelector(button.dataset.copy).textContent.trim();
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    button.textContent = "Select and copy";
  }
});

// The project is only for ingest tokens: hide it for organisation tokens.
document.querySelectorAll("form[data-token-form]").forEach((form) => {
  const scope = form.querySelector("[name=scope]");
  const project = form.querySelector("[name=project]");
  if (!scope || !project) return;
  const sync = () => { project.closest(".field").hidden = scope.value !== "ingest"; };
  scope.addEventListener("change", sync);
  sync();
});
