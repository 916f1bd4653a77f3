// The class page's live counts: the stream sends them whenever they
// change. Without script the page shows them as they were when it loaded.
(function () {
  "use strict";
  var counts = document.getElementById("class-counts");
  if (!counts || !window.EventSource) return;
  // EventSource cannot send headers: the token goes in the query.
  var feed = new EventSource(counts.getAttribute("data-events-url") + "?_xsrf=" + encodeURIComponent(counts.getAttribute("data-xsrf")));
  feed.onmessage = function (ev) {
    var c;
    try { c = JSON.parse(ev.data); } catch (e) { return; }
    set("class-joined", c.joined);
    set("class-students", c.students);
    set("class-running", c.running);
  };
  function set(id, n) {
    var el = document.getElementById(id);
    if (el && typeof n === "number") el.textContent = String(n);
  }
})();
