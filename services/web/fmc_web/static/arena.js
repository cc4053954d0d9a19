// Progressive enhancement of the arena page: stream both answers side by side as the models write
// them (scoring's NDJSON battle stream, through the web tier), then show the vote form for that
// battle. Without this script the form posts the whole battle and the page shows both answers.
"use strict";

(function () {
  const ask = document.getElementById("ask");
  if (!ask || !window.fetch || !window.TextDecoder) {
    return;
  }
  const answers = document.getElementById("answers");
  const sides = { a: document.getElementById("answer-a"), b: document.getElementById("answer-b") };
  const vote = document.getElementById("vote");
  const problem = document.getElementById("problem");
  const status = document.getElementById("status");
  const button = ask.querySelector("button[type=submit]");

  function showProblem(body) {
    problem.textContent = "";
    const message = document.createElement("p");
    message.textContent = body.message || "";
    const code = document.createElement("p");
    code.className = "code";
    code.textContent = problem.dataset.codeLabel.replace("{code}", body.code || "");
    problem.dataset.code = body.code || "";
    problem.append(message, code);
    problem.hidden = false;
  }

  function handle(event) {
    if (event.type === "text" && sides[event.side]) {
      sides[event.side].textContent += event.text;
    } else if (event.type === "done") {
      vote.action = vote.dataset.action.replace("{id}", event.battle_id);
      vote.hidden = false;
      status.textContent = "";
      vote.querySelector("button").focus();
    } else if (event.type === "error") {
      status.textContent = "";
      showProblem(event);
    }
  }

  async function stream(prompt) {
    const response = await fetch(ask.dataset.stream, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/x-ndjson",
        "X-CSRF-Token": ask.elements.csrf.value,
      },
      body: JSON.stringify({ prompt: prompt }),
      credentials: "same-origin",
    });
    if (!response.ok) {
      status.textContent = "";
      showProblem(await response.json());
      return;
    }
    answers.hidden = false;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        break;
      }
      buffered += decoder.decode(value, { stream: true });
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) {
          handle(JSON.parse(line));
        }
      }
    }
  }

  ask.addEventListener("submit", function (submitted) {
    submitted.preventDefault();
    problem.hidden = true;
    vote.hidden = true;
    sides.a.textContent = "";
    sides.b.textContent = "";
    status.textContent = status.dataset.streaming;
    button.disabled = true;
    stream(ask.elements.prompt.value)
      .catch(function () {
        showProblem({ message: status.dataset.interrupted, code: "stream-interrupted" });
      })
      .finally(function () {
        button.disabled = false;
      });
  });
})();
