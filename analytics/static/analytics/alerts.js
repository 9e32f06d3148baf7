// Live QA alerts in the admin: joins /ws/alerts/ and shows each high-severity finding as a line in the
// bar. Shopper and agent text is inserted with textContent only, never as HTML.
(function () {
  "use strict";
  const bar = document.getElementById("qa-alert-bar");
  if (!bar || !window.WebSocket) return;
  const list = bar.querySelector("ul");
  const MAX_LINES = 5;
  let delay = 1000;

  function show(alert) {
    const line = document.createElement("li");
    line.className = "flex gap-3 items-baseline";
    const title = document.createElement("strong");
    // A missed SLA response target comes on the same socket, as an "sla_breach" frame.
    const label = alert.type === "sla_breach" ? bar.dataset.slaLabel : bar.dataset.label;
    title.textContent = label + " · " + alert.shop_name + " · " + alert.kind_display + (alert.agent ? " · " + alert.agent : "");
    const text = document.createElement("span");
    text.textContent = alert.text || alert.evidence;
    const link = document.createElement("a");
    link.href = alert.url;
    link.className = "underline";
    link.textContent = "#" + alert.conversation;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "ml-auto border border-white rounded-default px-2";
    close.textContent = bar.dataset.dismiss;
    close.addEventListener("click", function () {
      line.remove();
      bar.hidden = list.children.length === 0;
    });
    line.append(title, text, link, close);
    list.prepend(line);
    while (list.children.length > MAX_LINES) list.lastElementChild.remove();
    bar.hidden = false;
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + window.location.host + bar.dataset.socket);
    socket.addEventListener("open", function () { delay = 1000; });
    socket.addEventListener("message", function (event) {
      const frame = JSON.parse(event.data);
      if (frame.type === "alert" || frame.type === "sla_breach") show(frame);
    });
    socket.addEventListener("close", function (event) {
      if (event.code === 4401 || event.code === 4403) return;  // not allowed: do not retry
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }
  connect();
})();
