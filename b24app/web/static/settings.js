/* b24app settings pages: list items added, removed and reordered (native HTML5 drag and drop on the
   handle, or the keyboard: the ↑ ↓ buttons), pool rows keeping their weight's user in step, the live
   preview of contract numbers, the 1C connection test. No library, no build step.

   The server reads list items in the order they arrive, so moving an element in the page is all a
   reorder needs; new items get a fresh number in place of their template's placeholder. */
(function () {
  "use strict";
  var counter = Date.now() % 100000;
  var dragged = null;

  function api() { return window.b24app || { fetch: window.fetch.bind(window), url: function (u) { return u; } }; }

  function itemOf(el) { return el && el.closest ? el.closest("[data-item]") : null; }

  function announce(text) {
    var live = document.getElementById("settings-live");
    if (!live) {
      live = document.createElement("div");
      live.id = "settings-live";
      live.className = "visually-hidden";
      live.setAttribute("aria-live", "polite");
      document.body.appendChild(live);
    }
    live.textContent = text;
  }

  /* --- new items from templates --- */
  function rename(root, ph, value) {
    var all = root.querySelectorAll("*");
    for (var i = 0; i < all.length; i++) {
      var el = all[i];
      for (var j = 0; j < el.attributes.length; j++) {
        var a = el.attributes[j];
        if (a.value.indexOf(ph) !== -1) { el.setAttribute(a.name, a.value.split(ph).join(value)); }
      }
      if (el.tagName === "TEMPLATE") { rename(el.content, ph, value); }
    }
  }

  function addItem(button) {
    var name = button.getAttribute("data-add");
    var box = button.closest("[data-list]");
    var tpl = box && box.querySelector('template[data-template="' + CSS.escape(name) + '"]');
    var items = box && box.querySelector('[data-items="' + CSS.escape(name) + '"]');
    if (!tpl || !items) { return; }
    var ph = tpl.getAttribute("data-ph");
    var frag = tpl.content.cloneNode(true);
    counter += 1;
    rename(frag, ph, String(counter));
    var item = frag.querySelector("[data-item]");
    items.appendChild(item);
    var first = item.querySelector("input:not([type=hidden]), select, textarea");
    if (first) { first.focus(); }
  }

  function move(item, up) {
    var sibling = up ? item.previousElementSibling : item.nextElementSibling;
    while (sibling && !sibling.hasAttribute("data-item")) {
      sibling = up ? sibling.previousElementSibling : sibling.nextElementSibling;
    }
    if (!sibling) { return; }
    item.parentElement.insertBefore(item, up ? sibling : sibling.nextElementSibling);
    var btn = item.querySelector(up ? "[data-up]" : "[data-down]");
    if (btn) { btn.focus(); }
    item.classList.add("moved");
    setTimeout(function () { item.classList.remove("moved"); }, 600);
    announce(up ? "↑" : "↓");
  }

  document.addEventListener("click", function (e) {
    var t = e.target.closest ? e.target.closest("button") : null;
    if (!t) { return; }
    if (t.hasAttribute("data-add")) { e.preventDefault(); addItem(t); return; }
    var item = itemOf(t);
    if (!item) { return; }
    if (t.hasAttribute("data-up")) { e.preventDefault(); move(item, true); }
    else if (t.hasAttribute("data-down")) { e.preventDefault(); move(item, false); }
    else if (t.hasAttribute("data-remove")) { e.preventDefault(); item.parentElement.removeChild(item); }
  });

  /* --- drag and drop: only from the handle, only among the siblings of one list --- */
  document.addEventListener("mousedown", function (e) {
    var h = e.target.closest ? e.target.closest("[data-handle]") : null;
    if (h) { var it = itemOf(h); if (it) { it.setAttribute("draggable", "true"); } }
  });
  document.addEventListener("mouseup", function () {
    if (!dragged) {
      var items = document.querySelectorAll('[data-item][draggable="true"]');
      for (var i = 0; i < items.length; i++) { items[i].removeAttribute("draggable"); }
    }
  });
  document.addEventListener("dragstart", function (e) {
    var it = itemOf(e.target);
    if (!it || it.getAttribute("draggable") !== "true") { return; }
    dragged = it;
    it.classList.add("dragging");
    if (e.dataTransfer) { e.dataTransfer.effectAllowed = "move"; e.dataTransfer.setData("text/plain", "item"); }
  });
  document.addEventListener("dragover", function (e) {
    if (!dragged) { return; }
    var over = itemOf(e.target);
    while (over && over.parentElement !== dragged.parentElement) { over = itemOf(over.parentElement); }
    if (!over) { return; }
    e.preventDefault();
    if (over === dragged) { return; }
    var r = over.getBoundingClientRect();
    var after = (e.clientY - r.top) > r.height / 2;
    over.parentElement.insertBefore(dragged, after ? over.nextElementSibling : over);
  });
  document.addEventListener("drop", function (e) { if (dragged) { e.preventDefault(); } });
  document.addEventListener("dragend", function () {
    if (!dragged) { return; }
    dragged.classList.remove("dragging");
    dragged.removeAttribute("draggable");
    dragged = null;
  });

  /* --- a pool row's weight belongs to the user chosen in that row --- */
  document.addEventListener("change", function (e) {
    var sel = e.target;
    if (!sel || sel.tagName !== "SELECT") { return; }
    var row = sel.closest(".pool-users [data-item]");
    if (!row || sel.closest("td") !== row.children[1]) { return; }
    var key = row.querySelector(".weight-key");
    if (key) { key.value = sel.value; }
  });

  /* --- the next contract number, as the format is typed --- */
  function typeItems() {
    return document.querySelectorAll('[data-list="contracts.types"] > [data-items] > [data-item]');
  }
  function field(item, suffix) {
    var all = item.querySelectorAll("[name]");
    for (var i = 0; i < all.length; i++) {
      var n = all[i].getAttribute("name");
      var parts = n.split(".");
      if (parts.length === 4 && parts[3] === suffix) { return all[i]; }
    }
    return null;
  }
  function renderPreview(box, data) {
    box.innerHTML = "";
    var title = document.createElement("span");
    title.className = "np-title";
    title.textContent = box.getAttribute("data-title") || "";
    box.appendChild(title);
    if (!data.ok) {
      var err = document.createElement("span");
      err.className = "field-error np-error";
      err.textContent = data.error || "?";
      box.appendChild(err);
    } else {
      (data.items || []).forEach(function (it) {
        var s = document.createElement("span");
        s.className = "np-item";
        if (it.text) {
          var c = document.createElement("code");
          c.className = "np-text";
          c.textContent = it.text;
          s.appendChild(c);
          if (it.legal_entity) { s.appendChild(document.createTextNode(" (" + it.legal_entity + ")")); }
        } else {
          s.className += " field-error";
          s.textContent = it.error || "?";
        }
        box.appendChild(s);
      });
    }
    (data.warnings || []).forEach(function (w) {
      var n = document.createElement("span");
      n.className = "np-warning notice";
      n.textContent = w;
      box.appendChild(n);
    });
  }
  function setupPreviews() {
    var holder = document.getElementById("number-previews");
    if (!holder) { return; }
    var url = holder.getAttribute("data-url");
    var items = typeItems();
    var given = holder.querySelectorAll(".number-preview");
    for (var i = 0; i < items.length; i++) {
      attachPreview(items[i], given[i] || null, url);
    }
    document.addEventListener("click", function (e) {
      var b = e.target.closest ? e.target.closest('[data-add="contracts.types"]') : null;
      if (!b) { return; }
      setTimeout(function () {
        var all = typeItems();
        var last = all[all.length - 1];
        if (last && !last.querySelector(".number-preview")) { attachPreview(last, null, url); }
      }, 0);
    });
  }
  function attachPreview(item, box, url) {
    var fmt = field(item, "format");
    if (!box) {
      box = document.createElement("div");
      box.className = "number-preview";
      box.setAttribute("aria-live", "polite");
    }
    box.setAttribute("data-title", (box.querySelector(".np-title") || { textContent: "" }).textContent);
    var fold = item.querySelector(":scope > .item-body > details.fold");
    var anchor = fold || (fmt ? fmt.closest(".field") : null);
    if (anchor && anchor.parentElement) { anchor.parentElement.insertBefore(box, anchor.nextSibling); }
    else { item.appendChild(box); }
    var timer = null;
    function refresh() {
      var q = new URLSearchParams();
      ["code", "format", "prefix", "reset", "sequence", "per_legal_entity", "start", "step", "legal_entity"]
        .forEach(function (k) { var f = field(item, k); if (f && f.value) { q.set(k, f.value); } });
      api().fetch(api().url(url) + "&" + q.toString()).then(function (r) { return r.json(); })
        .then(function (data) { renderPreview(box, data); })
        .catch(function () { /* the preview is a help; the save checks the format anyway */ });
    }
    item.addEventListener("input", function (e) {
      var n = e.target.getAttribute && e.target.getAttribute("name");
      if (!n || n.split(".").length !== 4) { return; }
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    });
    item.addEventListener("change", function (e) {
      var n = e.target.getAttribute && e.target.getAttribute("name");
      if (n && n.split(".").length === 4) { clearTimeout(timer); timer = setTimeout(refresh, 50); }
    });
    if (!box.querySelector(".np-text") && !box.querySelector(".np-error")) { refresh(); }
  }

  /* --- 1C: test a saved connection --- */
  document.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("[data-test-connection]") : null;
    if (!b) { return; }
    e.preventDefault();
    var base = b.getAttribute("data-test-connection");
    var row = document.querySelector('[data-test-result="' + CSS.escape(base) + '"]');
    var out = row ? row.querySelector(".test-output") : null;
    if (row) { row.hidden = false; }
    if (out) { out.textContent = "…"; }
    b.disabled = true;
    var body = new URLSearchParams();
    body.set("base", base);
    api().fetch(b.getAttribute("data-url"), { method: "POST", body: body })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (!out) { return; }
        out.innerHTML = "";
        var head = document.createElement("p");
        head.className = data.ok ? "ok test-summary" : "field-error test-summary";
        head.textContent = data.summary || data.error || "";
        out.appendChild(head);
        var ul = document.createElement("ul");
        (data.steps || []).forEach(function (s) {
          var li = document.createElement("li");
          li.className = s.ok ? "ok" : "field-error";
          li.textContent = (s.ok ? "✓ " : "✗ ") + s.step + ": " + s.detail + " (" + s.ms + " ms)";
          ul.appendChild(li);
        });
        out.appendChild(ul);
      })
      .catch(function (err) { if (out) { out.textContent = String(err); } })
      .then(function () { b.disabled = false; });
  });

  /* --- problems list: go to the field --- */
  document.addEventListener("click", function (e) {
    var a = e.target.closest ? e.target.closest("[data-goto]") : null;
    if (!a) { return; }
    var el = document.getElementById("f-" + a.getAttribute("data-goto"));
    if (el) { e.preventDefault(); el.scrollIntoView({ block: "center" }); var i = el.querySelector("input,select,textarea"); if (i) { i.focus(); } }
  });

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", setupPreviews); }
  else { setupPreviews(); }
})();
