// Keyboard shortcuts for the moderation queue. Everything also works
// without this script: the buttons and fields are ordinary form controls.
(function () {
  "use strict";
  var items = Array.prototype.slice.call(document.querySelectorAll(".qitem"));
  if (!items.length) return;
  var current = -1;
  function focusItem(i) {
    if (i < 0 || i >= items.length) return;
    current = i;
    items[i].focus();
  }
  function itemOf(el) {
    for (var i = 0; i < items.length; i++) if (items[i].contains(el)) return i;
    return current;
  }
  function submit(form, action) {
    var b = form.querySelector('button[value="' + action + '"]');
    if (form.requestSubmit) form.requestSubmit(b); else b.click();
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var t = ev.target, typing = t.tagName === "INPUT" && t.type !== "checkbox" || t.tagName === "TEXTAREA" || t.tagName === "SELECT";
    if (typing) {
      // Enter in a reason field sends the action the shortcut started.
      if (ev.key === "Enter" && t.classList.contains("reason") && t.form.dataset.pending) {
        ev.preventDefault();
        submit(t.form, t.form.dataset.pending);
      } else if (ev.key === "Escape") {
        focusItem(itemOf(t));
      }
      return;
    }
    var i = itemOf(t);
    switch (ev.key) {
      case "j": focusItem(i + 1); break;
      case "k": focusItem(i - 1); break;
      case "x": if (i >= 0) { var cb = items[i].querySelector('input[type="checkbox"]'); cb.checked = !cb.checked; } break;
      case "a": if (i >= 0) submit(items[i].querySelector("form.decide"), "approve"); break;
      case "h": case "r":
        if (i < 0) return;
        var form = items[i].querySelector("form.decide"), reason = form.querySelector(".reason");
        form.dataset.pending = ev.key === "h" ? "hide" : "remove";
        if (reason.value.trim()) submit(form, form.dataset.pending);
        else reason.focus();
        break;
      default: return;
    }
    ev.preventDefault();
  });
})();
