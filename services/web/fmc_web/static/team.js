// Progressive enhancement of the team portal: the runs' progress is redrawn every few seconds from
// /team/progress while a run is still moving, and every countdown to an objection deadline ticks
// once a minute (from the server's time). Without this script the page shows what was true when it was loaded.
"use strict";

(function () {
  const POLL_MS = 5000;
  const loaded = Date.now();

  function countdowns() {
    for (const time of document.querySelectorAll("time[data-template]")) {
      // Counted from the server's clock when the page was drawn, not the device's (which may be off).
      const now = Date.parse(time.dataset.now) + (Date.now() - loaded);
      const left = Math.floor((Date.parse(time.getAttribute("datetime")) - now) / 1000);
      if (left <= 0) {
        time.textContent = time.dataset.closed;
        continue;
      }
      time.textContent = time.dataset.template
        .replace("{days}", String(Math.floor(left / 86400)))
        .replace("{hours}", String(Math.floor((left % 86400) / 3600)))
        .replace("{minutes}", String(Math.floor((left % 3600) / 60)));
    }
  }

  function cell(row, tag, className) {
    const found = row.querySelector("." + className);
    if (found) {
      return found;
    }
    const made = document.createElement(tag);
    made.className = className;
    row.append(made);
    return made;
  }

  function draw(body, run) {
    let row = body.querySelector('tr[data-run="' + run.id + '"]');
    if (!row) {
      row = document.createElement("tr");
      row.dataset.run = run.id;
      const suite = document.createElement("th");
      suite.scope = "row";
      suite.textContent = run.suite;
      row.append(suite);
      body.append(row);
    }
    const done = cell(row, "td", "done");
    let bar = done.querySelector("progress");
    let words = done.querySelector("span");
    if (!bar) {
      bar = document.createElement("progress");
      bar.setAttribute("aria-hidden", "true");
      words = document.createElement("span");
      done.append(bar, " ", words);
    }
    bar.max = run.total || 1;
    bar.value = run.done;
    words.textContent = run.done_text;
    cell(row, "td", "errored").textContent = run.errored_text;
    const status = cell(row, "td", "status");
    status.dataset.status = run.status;
    status.textContent = run.status_text;
  }

  async function poll(section) {
    let answer;
    try {
      const response = await fetch(section.dataset.url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.status >= 500) {
        window.setTimeout(() => poll(section), POLL_MS * 2); // a service is down: ask again later
        return;
      }
      if (!response.ok) {
        return; // signed out or refused: leave the page as it is, no retry loop
      }
      answer = await response.json();
    } catch (error) {
      window.setTimeout(() => poll(section), POLL_MS * 2); // the network blinked: try again later
      return;
    }
    const table = document.getElementById("runs");
    if (table && answer.runs) {
      const body = table.tBodies[0];
      for (const run of answer.runs) {
        draw(body, run);
      }
    } else if (!table && answer.runs && answer.runs.length) {
      window.location.reload(); // the first runs appeared: the server draws the table
      return;
    }
    section.dataset.polling = answer.running ? "true" : "false";
    if (answer.running) {
      window.setTimeout(() => poll(section), POLL_MS);
    }
  }

  countdowns();
  window.setInterval(countdowns, 60000);
  const section = document.getElementById("progress");
  if (section && window.fetch && section.dataset.polling === "true") {
    window.setTimeout(() => poll(section), POLL_MS);
  }
})();
