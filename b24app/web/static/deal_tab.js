/* b24app deal tab: the actions («Сформировать договор», «Выставить счет в 1С») queue a job and show
   its progress by polling a small JSON endpoint; when the job is done the tab reloads with the result,
   when it failed for good its last error is shown in plain words. Every request carries the session
   (header), the CSRF token (POST) and the deal grant (header X-B24App-Deal). */
(function () {
  "use strict";
  var root = document.getElementById("deal-tab");
  if (!root) { return; }
  var grantMeta = document.querySelector('meta[name="b24app-deal"]');
  var grant = grantMeta ? grantMeta.getAttribute("content") : "";
  var progress = document.getElementById("job-progress");
  var POLL_MS = 1000;
  var MAX_POLLS = 600;

  function api() { return window.b24app; }
  function headers(extra) {
    var h = extra || {};
    h["X-B24App-Deal"] = grant;
    h.Accept = "application/json";
    return h;
  }
  function line(job) {
    var id = String(job.id);
    var p = progress.querySelector('[data-job="' + id + '"]');
    if (!p) {
      p = document.createElement("p");
      p.setAttribute("data-job", id);
      progress.appendChild(p);
    }
    p.className = job.failed ? "error" : (job.done ? "ok" : "notice");
    p.setAttribute("data-state", job.state || "");
    p.textContent = "";
    var b = document.createElement("b");
    b.textContent = (job.what || "") + ": ";
    p.appendChild(b);
    p.appendChild(document.createTextNode(job.message || job.error || ""));
    return p;
  }
  function poll(id, n) {
    var url = root.getAttribute("data-job-url").replace("/job/0?", "/job/" + id + "?");
    api().fetch(api().url(url), { headers: headers() })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        if (job.error && !job.id) { throw new Error(job.error); }
        line(job);
        if (job.done) {
          window.location.href = api().url(root.getAttribute("data-tab-url"));
        } else if (!job.failed && n < MAX_POLLS) {
          setTimeout(function () { poll(id, n + 1); }, POLL_MS);
        } else {
          enableForms();
        }
      })
      .catch(function (err) {
        line({ id: id, failed: true, what: "", message: String(err && err.message || err) });
        enableForms();
      });
  }
  function enableForms() {
    var buttons = root.querySelectorAll(".action-form button");
    for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = false; }
  }
  root.addEventListener("submit", function (e) {
    var form = e.target.closest(".action-form");
    if (!form || !api()) { return; }
    e.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
    api().fetch(form.getAttribute("action"), { method: "POST", body: new FormData(form), headers: headers() })
      .then(function (r) {
        return r.json().catch(function () { throw new Error(r.status + " " + r.statusText); });
      })
      .then(function (job) {
        line(job);
        if (job.done) { window.location.href = api().url(root.getAttribute("data-tab-url")); return; }
        if (job.failed) { if (button) { button.disabled = false; } return; }
        setTimeout(function () { poll(job.id, 0); }, POLL_MS / 2);
      })
      .catch(function (err) {
        line({ id: "x", failed: true, what: "", message: String(err && err.message || err) });
        if (button) { button.disabled = false; }
      });
  });
  var pending = progress ? progress.querySelectorAll("[data-job]") : [];
  for (var i = 0; i < pending.length; i++) {
    var st = pending[i].getAttribute("data-state");
    if (st === "queued" || st === "running" || st === "retrying") { poll(pending[i].getAttribute("data-job"), 0); }
  }
})();
