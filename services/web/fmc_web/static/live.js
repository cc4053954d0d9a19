// Progressive enhancement of pages that show something that changes (a stage's public result, the
// arena's stages): every element with data-live is refreshed from that path of this site (an HTML
// fragment the web tier keeps a few seconds) every data-live-seconds, while the page is visible, and
// replaced only when it changed. Without this script the page shows what was true when loaded.
"use strict";

(function () {
  const parts = Array.prototype.slice.call(document.querySelectorAll("[data-live]"));
  if (!parts.length || !window.fetch) {
    return;
  }
  document.querySelectorAll(".live-note").forEach(function (note) {
    note.hidden = false;
  });

  function refresh(part) {
    if (document.hidden) {
      return Promise.resolve();
    }
    return fetch(part.dataset.live, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        // Compared as the browser serialises both: the same fragment is never swapped in again.
        const probe = document.createElement("div");
        probe.innerHTML = html;
        if (probe.innerHTML !== part.innerHTML) {
          part.innerHTML = probe.innerHTML;
          part.dataset.liveUpdated = new Date().toISOString();
        }
      })
      .catch(function () {
        // A network hiccup: the part keeps what it shows and is asked again next period.
      });
  }

  parts.forEach(function (part) {
    const seconds = Math.max(2, parseInt(part.dataset.liveSeconds, 10) || 15);
    window.setInterval(function () {
      refresh(part);
    }, seconds * 1000);
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      parts.forEach(refresh);
    }
  });
})();
