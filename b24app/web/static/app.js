/* b24app pages: a small helper for scripts inside the iframe. The session travels in the URL or a
   header (third-party cookies are often blocked in iframes), CSRF in a header for POSTs.
   window.b24app.fetch(url, options) adds both; window.b24app.url(path) adds ?s=<session>. */
(function () {
  "use strict";
  function meta(name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? { value: el.getAttribute("content"), header: el.getAttribute("data-header") } : null;
  }
  var session = meta("b24app-session");
  var csrf = meta("b24app-csrf");
  function withSession(path) {
    if (!session) { return path; }
    var u = new URL(path, window.location.href);
    u.searchParams.set("s", session.value);
    return u.pathname + u.search + u.hash;
  }
  function b24fetch(url, options) {
    options = options || {};
    var headers = new Headers(options.headers || {});
    if (session) { headers.set(session.header, session.value); }
    var method = (options.method || "GET").toUpperCase();
    if (csrf && method !== "GET" && method !== "HEAD") { headers.set(csrf.header, csrf.value); }
    options.headers = headers;
    return window.fetch(url, options);
  }
  window.b24app = { fetch: b24fetch, url: withSession };
})();
