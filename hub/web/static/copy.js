// Copy buttons: a button with data-copy="ID" copies the value of the
// input with that id, for the pages that show a password, setup code or
// token once. Without JavaScript the input is still there to select.
"use strict";
(function () {
  document.addEventListener("click", function (ev) {
    var button = ev.target.closest && ev.target.closest("button[data-copy]");
    if (!button) return;
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) return;
    function done(text) {
      var label = button.textContent;
      button.textContent = text;
      window.setTimeout(function () { button.textContent = label; }, 1500);
    }
    input.select();
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(input.value).then(function () { done("Copied"); }, function () { done("Press Ctrl+C"); });
    } else {
      done("Press Ctrl+C");
    }
  });
})();
