// Live pages: the element marked data-live is kept current by Server-Sent Events.
// "replace" events carry its new HTML (rendered and escaped by the server); "prepend"
// events carry new rows for a table body (the log's tail). No other script runs here.
"use strict";
(function () {
  var el = document.querySelector("[data-live]");
  if (!el || !window.EventSource) { return; }
  var keep = parseInt(el.getAttribute("data-keep") || "0", 10);
  var source = new EventSource(el.getAttribute("data-live"));
  var status = document.createElement("p");
  status.className = "meta";
  status.setAttribute("role", "status");
  status.textContent = "Live: this page updates by itself.";
  var holder = el.tagName === "TBODY" ? el.closest(".scroll") || el.parentNode : el;
  holder.parentNode.insertBefore(status, holder);
  source.addEventListener("replace", function (e) {
    var focused = document.activeElement && document.activeElement.id;
    el.innerHTML = e.data;
    if (focused) { var f = document.getElementById(focused); if (f) { f.focus(); } }
  });
  source.addEventListener("prepend", function (e) {
    el.insertAdjacentHTML("afterbegin", e.data);
    if (keep) { while (el.rows.length > keep) { el.deleteRow(el.rows.length - 1); } }
  });
  function stopped(text) {
    source.close();
    status.textContent = text;
    status.className = "meta live-off";
  }
  source.addEventListener("expired", function () { stopped("Your session has ended: reload the page to log in again."); });
  source.addEventListener("end", function () { stopped("The server stopped; live updates ended."); });
  source.addEventListener("error", function () {
    if (source.readyState === EventSource.CLOSED) { stopped("Live updates stopped: reload the page."); }
    else { status.textContent = "Live: reconnecting…"; }
  });
  source.addEventListener("open", function () { status.textContent = "Live: this page updates by itself."; status.className = "meta"; });
})();
