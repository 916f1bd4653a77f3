// Hand-out page: while a hand-out or a collect runs, show each student's
// row as soon as they are done, from the hub's event feed, instead of a
// page that waits for the whole class. The hand-out is posted with fetch
// so the page stays, and its final page (every row, the kept files) is
// swapped in when it is done; a collect is posted as it is, since its
// answer is a download that leaves the page where it is. Without
// JavaScript the forms post and answer the same way, all rows at once.
"use strict";
(function () {
  if (!document.getElementById("live") || !window.EventSource || !window.fetch || !window.FormData || !window.crypto) return;
  // The page's parts are looked up each time: a finished hand-out swaps
  // in a new page body.
  function live() { return document.getElementById("live"); }
  function status() { return document.getElementById("live-status"); }
  function tbody() { return document.getElementById("live-rows").tBodies[0]; }
  var xsrfInput = document.querySelector('input[name="_xsrf"]');
  var xsrf = xsrfInput ? xsrfInput.value : "";
  var feed = null;
  var kind = "";
  var doing = { "handout-progress": "Handed out to ", "collect-progress": "Collected from " };

  // row writes one student's result in as text: nothing in it is markup.
  function row(e) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-user", e.user);
    var th = document.createElement("th");
    th.scope = "row";
    th.textContent = e.user;
    var td = document.createElement("td");
    if (e.failed) {
      var badge = document.createElement("span");
      badge.className = "state state-failed";
      badge.textContent = "Failed";
      td.appendChild(badge);
      td.appendChild(document.createTextNode(" "));
    }
    td.appendChild(document.createTextNode(e.message || ""));
    tr.appendChild(th);
    tr.appendChild(td);
    tbody().appendChild(tr);
    status().textContent = doing[kind] + e.current + " of " + e.total + " students.";
  }

  function stop() {
    if (feed) feed.close();
    feed = null;
  }

  // named gives the run form starts a name of its own, in its job field
  // and in the feed's address: another instructor's run at the same time
  // has another, and its rows go to their page, not this one.
  function named(form) {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var job = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    var input = form.querySelector('input[name="job"]');
    if (input) input.value = job;
    return job;
  }

  // watch opens the feed for one run of kind named job, then calls go
  // once it is open, so that no student's row comes before it.
  function watch(k, job, go) {
    stop();
    kind = k;
    var rows = tbody();
    while (rows.firstChild) rows.removeChild(rows.firstChild);
    status().textContent = "Starting…";
    live().hidden = false;
    var started = false;
    feed = new EventSource(live().getAttribute("data-events-url") + "?_xsrf=" + encodeURIComponent(xsrf) +
      "&job=" + encodeURIComponent(job));
    feed.onopen = function () {
      if (started) return;
      started = true;
      go();
    };
    feed.onerror = function () {
      // The page works without the feed: the answer still comes.
      if (!started) { started = true; stop(); go(); }
    };
    feed.onmessage = function (m) {
      var e;
      try { e = JSON.parse(m.data); } catch (err) { return; }
      if (e.kind !== kind) return;
      row(e);
      if (e.current >= e.total && kind === "collect-progress") {
        status().textContent = "Collected from all " + e.total + " students; the zip is being made and downloaded.";
        stop();
      }
    };
  }

  // Submits are caught on the document, so the forms of a swapped-in
  // page are caught too.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form.id === "handout-form") {
      ev.preventDefault();
      var button = form.querySelector('button[type="submit"]');
      if (button) button.disabled = true;
      var job = named(form);
      var body = new FormData(form);
      watch("handout-progress", job, function () {
        fetch(form.action, { method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "text/html" } })
          .then(function (res) { return res.text(); })
          .then(function (html) {
            stop();
            // The final page: every row with the kept files, or why
            // nothing was done.
            var main = new DOMParser().parseFromString(html, "text/html").getElementById("main");
            if (main) document.getElementById("main").replaceWith(document.importNode(main, true));
          })
          .catch(function () {
            stop();
            status().textContent = "The hub did not answer. Reload the page to see whether the hand-out ran.";
            if (button) button.disabled = false;
          });
      });
    } else if (form.id === "collect-form") {
      ev.preventDefault();
      watch("collect-progress", named(form), function () { form.submit(); });
    }
  });
})();
