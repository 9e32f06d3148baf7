/* The agent console: queue of waiting conversations, accept, history, reply, suggested answers,
   transfer and close, over /ws/agent/. */
"use strict";

(function () {
  var $ = function (id) { return document.getElementById(id); };
  var el = Shopbee.el;
  var conversations = {};   // id -> {info, messages: {id: frame}, suggestions: []}
  var current = null;
  var wanted = null;  // the conversation the agent clicked 接入 on: shown as soon as it is theirs
  var typingTimer = null;
  var lastTypingSent = 0;
  var pinned = true;   // the transcript follows the newest message (see the ResizeObserver below)
  var scrolledAt = 0;
  var shown = null;    // the conversation the transcript shows: another one opens at its newest message

  var socket = Shopbee.reconnecting(function () { return Shopbee.wsUrl("/ws/agent/"); }, {
    open: function () {
      $("status").textContent = "在线";
      if (current) socket.send({ type: "history", conversation: current });
    },
    close: function (event) {
      $("status").textContent = event.code === 4403 ? "没有接待权限" : "连接中断，正在重连…";
    },
    frame: function (frame) {
      onFrame(frame);
      // Extensions of the console in their own files (agent-queue.js: presence, load, group transfer;
      // agent-canned.js: canned replies and macros; agent-panel.js: hand-off packet, customer panel, SLA timers).
      (Shopbee.consoleListeners || []).forEach(function (listen) { listen(frame); });
    },
  });
  Shopbee.consoleSocket = socket;
  Shopbee.consoleCurrent = function () { return current; };  // the open conversation (agent-canned.js, agent-panel.js)
  // Presence: the server counts this console as online while it hears from it.
  setInterval(function () { socket.send({ type: "ping" }); }, 20000);

  function entry(id) {
    if (!conversations[id]) conversations[id] = { info: null, messages: {}, suggestions: [] };
    return conversations[id];
  }

  function queueItem(item, mine) {
    var li = el("li", "queue-item");
    li.dataset.conversation = item.conversation;
    li.appendChild(el("strong", null, item.shopper));
    li.appendChild(el("span", "shop", item.shop_name + " · " + item.channel_label));
    li.dataset.channel = item.channel;
    li.appendChild(el("span", "preview", item.last_message));
    if (mine) {
      li.addEventListener("click", function () { open(item.conversation); });
    } else {
      var accept = el("button", "accept", "接入");
      accept.type = "button";
      accept.addEventListener("click", function () {
        wanted = item.conversation;
        socket.send({ type: "accept", conversation: item.conversation });
      });
      li.appendChild(accept);
    }
    return li;
  }

  function renderQueue(frame) {
    $("waiting").replaceChildren.apply($("waiting"), frame.waiting.map(function (i) { return queueItem(i, false); }));
    $("mine").replaceChildren.apply($("mine"), frame.mine.map(function (i) { return queueItem(i, true); }));
  }

  function holdsCurrent() {
    var data = current && conversations[current];
    return Boolean(data && data.info && data.info.status === "agent");
  }

  function open(id) {
    current = id;
    socket.send({ type: "history", conversation: id });
  }

  function toBottom() {
    scrolledAt = performance.now();
    $("messages").scrollTop = $("messages").scrollHeight;
  }

  function render() {
    var data = current && conversations[current];
    $("conversation").hidden = !data || !data.info;
    $("empty").hidden = !$("conversation").hidden;
    // On a phone the list and the open conversation take the screen in turn (chat.css).
    document.body.classList.toggle("reading", !$("conversation").hidden);
    if (!data || !data.info) return;
    if (shown !== current) { shown = current; pinned = true; }
    $("conversation-title").textContent =
      data.info.shopper + " · " + data.info.shop_name + " · " + data.info.channel_label;
    var list = $("messages");
    list.replaceChildren();
    Object.keys(data.messages).map(Number).sort(function (a, b) { return a - b; }).forEach(function (id) {
      var node = Shopbee.messageNode(data.messages[id], function () {});
      // The shopper's quick replies (the 1-5 survey…) are shown, not pressed, in the agent's transcript.
      node.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
      list.appendChild(node);
    });
    var box = $("suggestions");
    box.replaceChildren();
    if (data.suggestions.length) box.appendChild(el("div", "label", "推荐回复（点击发送）："));
    data.suggestions.forEach(function (item) {
      var button = el("button", "suggestion", item.answer);
      button.type = "button";
      button.title = item.question;
      button.addEventListener("click", function () { reply(item.answer); });
      box.appendChild(button);
    });
    // After the suggestions took their room: the newest message stays in view.
    if (pinned) toBottom();
    var select = $("transfer-to");
    select.replaceChildren();
    var colleagues = data.info.colleagues || [];
    colleagues.forEach(function (c) {
      var option = el("option", null, c.max_chats ? c.name + "（" + c.load + "/" + c.max_chats + "）" : c.name);
      option.value = c.id;
      select.appendChild(option);
    });
    if (!colleagues.length) select.appendChild(el("option", null, "没有在线的同事"));
    select.disabled = !colleagues.length;
    var held = data.info.status === "agent";
    $("transfer").disabled = !held || !colleagues.length;
    $("close").disabled = !held;
    $("send").disabled = !held;
  }

  function onFrame(frame) {
    var data;
    switch (frame.type) {
      case "queue":
        renderQueue(frame);
        break;
      case "history":
        data = entry(frame.conversation);
        data.info = frame;
        frame.messages.forEach(function (m) { data.messages[m.id] = m; });
        // An accepted conversation opens; one assigned automatically opens only if the agent is not in
        // a chat they hold (it waits under 我的会话 instead of taking the reply box away mid-sentence).
        if (!current || frame.conversation === wanted || (frame.status === "agent" && !holdsCurrent())) {
          current = frame.conversation;
        }
        render();
        break;
      case "message":
        data = entry(frame.conversation);
        data.messages[frame.id] = frame;
        if (frame.conversation === current) { $("typing").hidden = true; render(); }
        break;
      case "suggestions":
        entry(frame.conversation).suggestions = frame.items;
        if (frame.conversation === current) render();
        break;
      case "status":
        data = entry(frame.conversation);
        if (data.info) { data.info.status = frame.status; }
        if (frame.conversation === current) render();
        socket.send({ type: "queue" });
        break;
      case "typing":
        if (frame.conversation === current) {
          $("typing").hidden = false;
          clearTimeout(typingTimer);
          typingTimer = setTimeout(function () { $("typing").hidden = true; }, 4000);
        }
        break;
      case "error":
        $("status").textContent = frame.message;
        break;
    }
  }

  function reply(text) {
    text = text.trim();
    if (!text || !current) return;
    socket.send({ type: "reply", conversation: current, text: text, client_msg_id: Shopbee.newId() });
  }

  $("composer").addEventListener("submit", function (event) {
    event.preventDefault();
    reply($("input").value);
    $("input").value = "";
  });
  $("input").addEventListener("input", function () {
    if (current && Date.now() - lastTypingSent > 3000) {
      lastTypingSent = Date.now();
      socket.send({ type: "typing", conversation: current });
    }
  });
  $("transfer").addEventListener("click", function () {
    var to = parseInt($("transfer-to").value, 10);
    if (current && to) socket.send({ type: "transfer", conversation: current, agent: to });
  });
  $("close").addEventListener("click", function () {
    if (current) socket.send({ type: "close", conversation: current });
  });
  // Whatever takes room from the transcript after it is drawn (the hand-off packet, suggestions, a header
  // that wraps on a phone), the newest message stays in view unless the agent scrolled up to read.
  // Only the agent's own scrolling unpins it: a scroll event soon after ours reports a layout that may already
  // have lost room, not a wish to read back.
  $("messages").addEventListener("scroll", function () {
    var list = $("messages");
    if (performance.now() - scrolledAt > 200) pinned = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  });
  new ResizeObserver(function () {
    if (pinned) toBottom();
  }).observe($("messages"));
  // Phone layout: back to the list, the customer panel over the conversation and back.
  $("back").addEventListener("click", function () {
    current = null;
    document.body.classList.remove("panel-open");
    render();
  });
  $("show-panel").addEventListener("click", function () { document.body.classList.add("panel-open"); });
  $("hide-panel").addEventListener("click", function () { document.body.classList.remove("panel-open"); });
})();
