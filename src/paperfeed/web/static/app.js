// paperfeed: keyboard shortcuts and nothing else a page needs to work.
// "/" focuses the search box; "j"/"k" move between paper cards; Enter on a focused card opens it;
// "s" saves the focused card's paper (or the paper of a paper page).
(function () {
  "use strict";
  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (event.key === "/") {
      var box = document.getElementById("q") || document.getElementById("top-q");
      if (box) { event.preventDefault(); box.focus(); box.select(); }
      return;
    }
    if (event.key === "s") {
      var card = document.activeElement && document.activeElement.closest ? document.activeElement.closest(".card") : null;
      var save = (card || document).querySelector("form[data-save]");
      if (save) { event.preventDefault(); save.requestSubmit ? save.requestSubmit() : save.submit(); }
      return;
    }
    if (event.key !== "j" && event.key !== "k") return;
    var links = Array.prototype.slice.call(document.querySelectorAll(".card .title a"));
    if (!links.length) return;
    var index = links.indexOf(document.activeElement);
    index = event.key === "j" ? Math.min(index + 1, links.length - 1) : Math.max(index - 1, 0);
    links[index].focus();
    links[index].scrollIntoView({ block: "nearest" });
  });

  // Forms marked data-ATTR work without JavaScript; with it, they post in the background and
  // `apply` shows the answer in place (a 401 goes to the log-in page).
  function inPlace(attr, apply) {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.hasAttribute || !form.hasAttribute(attr) || !window.fetch) return;
      event.preventDefault();
      fetch(form.action, { method: "POST", body: new FormData(form), headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.json().then(function (data) { return [response, data]; }); })
        .then(function (pair) {
          var response = pair[0], data = pair[1];
          if (response.status === 401 && data.login) { window.location = data.login; return; }
          if (!response.ok) { window.alert(data.detail || "That did not work"); return; }
          apply(form, form.querySelector("button"), data);
        })
        .catch(function () { form.submit(); });
    });
  }

  // Upvotes: the count changes in place.
  inPlace("data-vote", function (form, button, data) {
    button.classList.toggle("on", data.voted);
    button.setAttribute("aria-pressed", data.voted ? "true" : "false");
    form.querySelector(".count").textContent = data.upvotes;
    var unit = form.querySelector(".unit");
    if (unit) unit.textContent = data.upvotes === 1 ? "upvote" : "upvotes";
  });

  // Saves: the button turns to "Saved" in place.
  inPlace("data-save", function (form, button, data) {
    button.classList.toggle("on", data.saved);
    button.setAttribute("aria-pressed", data.saved ? "true" : "false");
    button.querySelector(".label").textContent = data.saved ? "Saved" : "Save";
  });
})();
