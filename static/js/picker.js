// The metric picker: a search box over a select of series grouped by metric (<optgroup>s).
// Every word typed must appear in the option's field, its metric's label or its metric's type;
// groups with nothing left are hidden, the count says how many fields match, Enter or ↓ moves to
// the list. The select stays a plain form field: without this script it still works, grouped.
// `select[data-picker]` is enhanced on load; the dashboard's editor calls MetricPicker.enhance.
(function () {
  "use strict";

  function words(text) {
    return text.toLocaleLowerCase().split(/[\s·,=—]+/).filter(Boolean);
  }

  function enhance(select) {
    if (!select || select.dataset.pickerReady) return select;
    select.dataset.pickerReady = "1";
    const search = document.createElement("input");
    search.type = "search";
    search.className = "picker-search";
    search.placeholder = "Search metrics and fields…";
    search.setAttribute("aria-label", "Search metrics and fields");
    search.setAttribute("data-testid", "picker-search");
    const count = document.createElement("small");
    count.className = "picker-count muted";
    count.setAttribute("data-testid", "picker-count");
    count.setAttribute("aria-live", "polite");
    const box = document.createElement("span");
    box.className = "picker";
    select.replaceWith(box);
    box.append(search, select, count);
    select.size = Math.min(10, Math.max(4, select.options.length + select.querySelectorAll("optgroup").length));
    select.classList.add("picker-list");

    const haystack = new Map();
    for (const option of select.options) {
      const group = option.parentElement.tagName === "OPTGROUP" ? option.parentElement.label : "";
      haystack.set(option, `${option.text} ${group} ${option.dataset.type || ""}`.toLocaleLowerCase());
    }
    const real = () => [...select.options].filter((o) => o.value !== "");

    function filter() {
      const wanted = words(search.value);
      let shown = 0;
      for (const option of select.options) {
        const match = option.value === "" ? wanted.length === 0 : wanted.every((w) => haystack.get(option).includes(w));
        option.hidden = !match;
        if (match && option.value !== "") shown += 1;
      }
      for (const group of select.querySelectorAll("optgroup")) {
        group.hidden = ![...group.children].some((o) => !o.hidden);
      }
      const total = real().length;
      count.textContent = wanted.length ? `${shown} of ${total} fields match` : `${total} fields`;
      const chosen = select.selectedOptions[0];
      if (wanted.length && (!chosen || chosen.hidden)) {
        const first = real().find((o) => !o.hidden);
        if (first) { select.value = first.value; select.dispatchEvent(new Event("change", { bubbles: true })); }
      }
    }
    search.addEventListener("input", filter);
    search.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === "ArrowDown") {
        event.preventDefault();
        select.focus();
      }
    });
    filter();
    return select;
  }

  window.MetricPicker = { enhance };
  const start = () => document.querySelectorAll("select[data-picker]").forEach(enhance);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
