// Spawn progress page: follows the REST API's progress stream, shows each
// step (and image download bytes), opens the notebook when it is ready and
// says in a sentence when the start failed. Without JavaScript the page
// reloads itself instead.
"use strict";
(function () {
  var root = document.getElementById("spawn");
  if (!root || !window.EventSource) return;
  var bar = document.getElementById("progress-bar");
  var message = document.getElementById("progress-message");
  var log = document.getElementById("progress-log");
  var pull = document.getElementById("pull");
  var pullBar = document.getElementById("pull-bar");
  var pullDetail = document.getElementById("pull-detail");
  var failed = document.getElementById("spawn-failed");
  var actions = document.getElementById("spawn-actions");
  var next = root.getAttribute("data-next") || root.getAttribute("data-url");
  var finished = false;
  // Once the cancel form is sent, its own answer moves the page on; leaving
  // earlier would abort that request halfway.
  var cancelForm = document.getElementById("spawn-cancel");
  var cancelling = false;
  if (cancelForm) {
    cancelForm.addEventListener("submit", function () { cancelling = true; });
  }

  function withXSRF(url, xsrf) {
    return url + (url.indexOf("?") < 0 ? "?" : "&") + "_xsrf=" + encodeURIComponent(xsrf || "");
  }

  function bytes(n) {
    var units = ["B", "kB", "MB", "GB", "TB"];
    var i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return (i ? n.toFixed(1) : String(n)) + " " + units[i];
  }

  function addLog(text) {
    var li = document.createElement("li");
    li.textContent = text;
    log.appendChild(li);
  }

  function fail(text) {
    finished = true;
    root.classList.add("failed");
    failed.textContent = text || "The server could not be started.";
    failed.hidden = false;
    actions.hidden = false;
    message.textContent = "The start did not succeed.";
  }

  // EventSource cannot send headers: the anti-forgery token goes in the
  // query, as JupyterHub's spawn page sends it.
  var es = new EventSource(withXSRF(root.getAttribute("data-progress-url"), root.getAttribute("data-xsrf")));
  es.onopen = function () {
    // Each connection replays the whole start, so start the list afresh.
    log.textContent = "";
  };
  es.onmessage = function (ev) {
    var e;
    try { e = JSON.parse(ev.data); } catch (err) { return; }
    if (typeof e.progress === "number" && e.progress >= 0) {
      // The stream replays the spawn from its start; the page was drawn
      // at the current step, so never move the bar back.
      bar.value = Math.max(bar.value, Math.min(e.progress, 100));
      bar.textContent = bar.value + "%";
    }
    if (e.kind === "image-progress" && e.total > 0) {
      pull.hidden = false;
      pullBar.max = e.total;
      pullBar.value = Math.min(e.current || 0, e.total);
      pullDetail.textContent = bytes(e.current || 0) + " of " + bytes(e.total);
    }
    if (e.message) {
      message.textContent = e.message;
      addLog(e.message);
    }
    if (e.ready) {
      finished = true;
      es.close();
      bar.value = 100;
      message.textContent = "Your server is ready. Opening it…";
      window.location.replace(next || e.url);
    } else if (e.failed && e.reason === "cancelled") {
      // Stopped from the home page, the tray or the admin page: not a
      // failure, and nothing to retry here.
      finished = true;
      es.close();
      if (cancelling) {
        message.textContent = "Cancelling the start…";
      } else if (cancelForm) {
        window.location.replace("/hub/home?cancelled=1");
      } else {
        fail("The start was cancelled.");
      }
    } else if (e.failed) {
      es.close();
      fail(e.message);
    }
  };
  es.onerror = function () {
    if (finished || es.readyState !== EventSource.CLOSED) return; // the browser reconnects by itself
    // The hub refused the stream: the start is over one way or another.
    // The page itself knows which, so load it again.
    message.textContent = "Lost contact with the hub; checking again…";
    window.setTimeout(function () { window.location.reload(); }, 3000);
  };
})();
