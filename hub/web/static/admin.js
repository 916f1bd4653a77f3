// Admin page: start and stop through the REST API instead of
// reloading the page, and redraw the table from the page itself whenever
// the hub's event feed says a server changed, so states are rendered in
// one place (the Go templates) and nothing polls. Without JavaScript the
// same forms post to /hub/admin/action.
"use strict";
(function () {
  var table = document.getElementById("users");
  if (!table || !window.fetch) return;
  var status = document.getElementById("admin-status");
  var xsrfInput = document.querySelector('input[name="_xsrf"]');
  var xsrf = xsrfInput ? xsrfInput.value : "";

  function say(text) { status.textContent = text; }

  function api(method, path) {
    return fetch(path, {
      method: method,
      credentials: "same-origin",
      headers: { "X-XSRFToken": xsrf, "Accept": "application/json" }
    }).then(function (res) {
      if (res.ok) return res;
      return res.json().catch(function () { return {}; }).then(function (body) {
        throw new Error(body.message || res.status + " " + res.statusText);
      });
    });
  }

  function userPath(name) { return "/hub/api/users/" + encodeURIComponent(name); }

  var calls = {
    start: function (name) { return api("POST", userPath(name) + "/server"); },
    stop: function (name) { return api("DELETE", userPath(name) + "/server"); }
  };
  var doing = { start: "Starting ", stop: "Stopping " };
  var done = { start: "Asked to start ", stop: "Stopped " };

  function selector(key) {
    return '[data-key="' + (window.CSS && CSS.escape ? CSS.escape(key) : key) + '"]';
  }

  // refresh fetches this page again and swaps in its table and summary,
  // keeping keyboard focus on the same button. It never rejects.
  function refresh() {
    return fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (res) { return res.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("users");
        if (!fresh) return;
        var key = document.activeElement && document.activeElement.getAttribute("data-key");
        table.replaceChild(document.importNode(fresh.tBodies[0], true), table.tBodies[0]);
        ["summary", "capacity", "nodes"].forEach(function (id) {
          var fresh = doc.getElementById(id), old = document.getElementById(id);
          if (fresh && old) old.replaceWith(document.importNode(fresh, true));
        });
        // An image chosen elsewhere (the tray's Settings, another
        // instructor), unless this instructor is choosing one right now.
        var image = doc.getElementById("image");
        var oldImage = document.getElementById("image");
        var typed = document.getElementById("image-other");
        var current = function (d) { var c = d.getElementById("image-current"); return c ? c.textContent : ""; };
        if (image && oldImage && current(doc) !== current(document) &&
            !oldImage.contains(document.activeElement) && !(typed && typed.value)) {
          oldImage.replaceWith(document.importNode(image, true));
        }
        if (key) {
          var el = document.querySelector(selector(key));
          if (el) el.focus();
        }
      })
      .catch(function () {});
  }

  // soon refreshes once per burst of events (a class starting at once
  // sends many): one refresh at a time, and one more after it if events
  // came in meanwhile.
  var busy = false, again = false;
  function soon() {
    if (busy) { again = true; return; }
    busy = true;
    window.setTimeout(function () {
      refresh().then(function () {
        busy = false;
        if (again) { again = false; soon(); }
      });
    }, 250);
  }

  // The feed sends an event for every server state change and start
  // step. Each time it opens, the first time too, refresh for what changed
  // while it was not open: since the page was made (a busy hub takes a
  // moment to open the feed, and a change then would go unseen until the
  // next), or while it was away. A login that ended answers 403, which
  // closes the feed for good.
  if (window.EventSource) {
    // EventSource cannot send headers: the token goes in the query.
    var feed = new EventSource(table.getAttribute("data-events-url") + "?_xsrf=" + encodeURIComponent(xsrf));
    feed.onopen = soon;
    feed.onmessage = soon;
    // Every few seconds the running servers' CPU and memory, and the
    // capacity, written in as text: nothing in them is markup.
    feed.addEventListener("usage", function (ev) {
      var d;
      try { d = JSON.parse(ev.data); } catch (e) { return; }
      table.querySelectorAll("tbody tr[data-user]").forEach(function (tr) {
        var u = d.servers && Object.prototype.hasOwnProperty.call(d.servers, tr.getAttribute("data-user")) ? d.servers[tr.getAttribute("data-user")] : null;
        tr.querySelectorAll("td[data-usage]").forEach(function (td) {
          td.textContent = u ? u[td.getAttribute("data-usage")] : "\u2013";
        });
      });
      var sentence = document.getElementById("capacity-sentence");
      if (sentence && d.capacity) sentence.textContent = d.capacity;
      var detail = document.getElementById("capacity-detail");
      if (detail && d.detail) detail.textContent = d.detail;
      var nodes = document.getElementById("nodes");
      if (nodes && d.nodes) {
        nodes.replaceChildren.apply(nodes, d.nodes.map(function (line) {
          var li = document.createElement("li");
          li.textContent = line;
          return li;
        }));
      }
    });
  }

  function rows(states) {
    var out = [];
    table.querySelectorAll("tbody tr[data-user]").forEach(function (tr) {
      if (states.indexOf(tr.getAttribute("data-state")) >= 0) out.push(tr.getAttribute("data-user"));
    });
    return out;
  }

  function servers(n) { return n === 1 ? "1 server" : n + " servers"; }

  // outcome says what a bulk start or stop of n servers did: how many
  // failed, and the first reason.
  function outcome(verb, n, failures) {
    if (!failures.length) return verb === "start" ? "Asked " + servers(n) + " to start." : "Stopped " + servers(n) + ".";
    var how = failures.length < n ? failures.length + " failed" : n === 1 ? "it failed" : "all " + n + " failed";
    var more = failures.length > 1 ? " (and " + (failures.length - 1) + " more)" : "";
    return "Asked " + servers(n) + " to " + verb + "; " + how + ". " + (failures.length > 1 ? "First reason: " : "Why: ") + failures[0] + more;
  }

  // each runs call on every name, four at a time: a browser opens only
  // six connections to a host, the event feed holds one, and starts wait
  // for their servers.
  function each(names, call) {
    var failures = [];
    var i = 0;
    function worker() {
      if (i >= names.length) return Promise.resolve();
      var name = names[i++];
      return call(name).catch(function (err) { failures.push(name + ": " + err.message); }).then(worker);
    }
    var workers = [];
    for (var n = 0; n < Math.min(4, names.length); n++) workers.push(worker());
    return Promise.all(workers).then(function () { return failures; });
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var action = form.getAttribute("data-action");
    var name = form.getAttribute("data-user");
    if (action === "reset-password") {
      if (!window.confirm("Reset " + name + "'s password? Their password, logins and tokens stop working at once; their running server keeps running. You get a new setup code to hand them (an instructor: a new password).")) {
        ev.preventDefault();
        return;
      }
      var c = document.createElement("input");
      c.type = "hidden"; c.name = "confirm"; c.value = "yes";
      form.appendChild(c);
      return; // an ordinary post: the REST API has no such call
    }
    if (action === "start-all" || action === "stop-all") {
      ev.preventDefault();
      var start = action === "start-all";
      // Stop all also cancels starts still queued, as the hub's own does.
      var names = rows(start ? ["stopped", "failed"] : ["running", "starting"]);
      if (!names.length) { say(start ? "Every listed server is running or on its way." : "No listed server is running or starting."); return; }
      if (!start && !window.confirm("Stop " + servers(names.length) + "? Starts still under way are cancelled. Unsaved work in open notebooks is lost; files are kept.")) return;
      // Past the laptop's capacity, the hub's question with its numbers.
      var capacity = document.getElementById("capacity");
      var question = capacity ? capacity.getAttribute("data-start-question") : "";
      if (start && question && !window.confirm(question)) return;
      say((start ? "Starting " : "Stopping ") + servers(names.length) + "…");
      each(names, start ? calls.start : calls.stop).then(function (failures) {
        say(outcome(start ? "start" : "stop", names.length, failures));
      }).then(refresh);
      return;
    }
    // Anything else (delete, reset: they ask what to do with the files,
    // on the hub's own page) is an ordinary post.
    if (!calls[action] || !name) return;
    ev.preventDefault();
    var button = form.querySelector("button");
    if (button) button.disabled = true;
    say(doing[action] + name + "…");
    calls[action](name).then(function () { say(done[action] + name + "."); },
      function (err) { say(name + ": " + err.message); }).then(refresh);
  });
})();
