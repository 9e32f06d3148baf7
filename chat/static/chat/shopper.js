/* The shopper chat page, full page or inside the widget's frame: one socket to /ws/chat/<shop>/, resumed
   after every reconnect with ?visitor=&since=, unacknowledged messages sent again under the same
   client_msg_id. Opens with the shop's greeting and its most asked questions (猜你想问). */
"use strict";

(function () {
  var shop = document.body.dataset.shop;
  var embedded = document.body.classList.contains("embedded");
  var opening = JSON.parse(document.getElementById("opening").textContent);
  var tokenKey = "shopbee.visitor." + shop;
  var page = new URLSearchParams(location.search);
  var messages = document.getElementById("messages");
  var statusLine = document.getElementById("status");
  var input = document.getElementById("input");
  var typing = document.getElementById("typing");
  var rating = document.getElementById("rating");
  var seen = {};          // message id -> true: nothing is shown twice after a resume
  var lastId = 0;
  var pending = [];       // [{client_msg_id, text, node}] sent but not yet acknowledged
  var typingTimer = null;
  var lastTypingSent = 0;
  var current = { status: "bot", agent: "" };
  var NAMES = { shopper: "我" };
  var drafts = {};        // stream id -> the bubble of the shop model's answer being written (docs/llm.md)

  var STATUS_TEXT = { bot: "智能客服小蜂为您服务", waiting: "正在为您转接人工客服…", closed: "会话已结束" };

  function showStatus(status, agent) {
    current = { status: status, agent: agent || "" };
    statusLine.textContent = status === "agent" ? "客服 " + agent + " 为您服务" : (STATUS_TEXT[status] || "");
    rating.hidden = status !== "closed";
  }

  function scroll() { messages.scrollTop = messages.scrollHeight; }

  /* The widget's page counts what arrives while its panel is closed (the unread badge). */
  function tellWidget(frame) {
    if (embedded && window.parent !== window) {
      window.parent.postMessage({ shopbee: "message", sender: frame.sender }, "*");
    }
  }

  function showTyping(seconds) {
    typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { typing.hidden = true; }, seconds * 1000);
    scroll();
  }

  function show(frame, live) {
    if (seen[frame.id]) return;
    seen[frame.id] = true;
    lastId = Math.max(lastId, frame.id);
    messages.appendChild(Shopbee.messageNode(frame, say, { askProduct: askProduct, names: NAMES, ratingBar: true }));
    scroll();
    if (live && frame.sender !== "shopper") tellWidget(frame);
  }

  function showOpening() {
    var greeting = Shopbee.messageNode({ id: "", sender: "bot", text: opening.greeting }, say, { names: NAMES });
    greeting.classList.add("greeting");
    if (opening.questions.length) {
      var box = Shopbee.el("div", "suggested");
      box.appendChild(Shopbee.el("div", "label", "猜你想问"));
      opening.questions.forEach(function (question) {
        var button = Shopbee.el("button", "suggested-question", question);
        button.type = "button";
        button.addEventListener("click", function () { say(question); });
        box.appendChild(button);
      });
      greeting.querySelector(".body").appendChild(box);
    }
    messages.appendChild(greeting);
  }

  function url() {
    var query = new URLSearchParams();
    var token = localStorage.getItem(tokenKey);
    if (token) query.set("visitor", token);
    if (lastId) query.set("since", String(lastId));
    ["customer", "ts", "sig"].forEach(function (name) {
      if (page.get(name)) query.set(name, page.get(name));
    });
    return Shopbee.wsUrl("/ws/chat/" + encodeURIComponent(shop) + "/?" + query.toString());
  }

  function acknowledged(clientMsgId, id) {
    pending = pending.filter(function (item) {
      if (item.client_msg_id !== clientMsgId) return true;
      item.node.dataset.id = id;
      item.node.classList.remove("pending");
      seen[id] = true;
      lastId = Math.max(lastId, id);
      return false;
    });
  }

  showOpening();

  var socket = Shopbee.reconnecting(url, {
    close: function () { statusLine.textContent = "连接中断，正在重连…"; },
    frame: function (frame) {
      switch (frame.type) {
        case "welcome":
          localStorage.setItem(tokenKey, frame.visitor);
          frame.messages.forEach(function (message) {
            // Our own message stored before the connection dropped: it is the pending bubble.
            if (message.client_msg_id) acknowledged(message.client_msg_id, message.id);
            show(message, false);
          });
          showStatus(frame.status, frame.agent);
          // Whatever is still unacknowledged goes again under the same id: stored at most once.
          pending.forEach(function (item) {
            socket.send({ type: "message", text: item.text, client_msg_id: item.client_msg_id });
          });
          break;
        case "ack":
          acknowledged(frame.client_msg_id, frame.id);
          break;
        case "message":
          typing.hidden = true;
          show(frame, true);
          break;
        case "status":
          showStatus(frame.status, frame.agent);
          break;
        case "queue_position":
          statusLine.textContent = frame.opens_at
            ? "已留言，客服将于 " + new Date(frame.opens_at).toLocaleString("zh-CN", { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" }) + " 上班后回复您（排第 " + frame.position + " 位）"
            : "排队中：您排在第 " + frame.position + " 位，前面还有 " + (frame.position - 1) + " 位顾客";
          statusLine.dataset.position = frame.position;
          break;
        case "typing":
          showTyping(4);
          break;
        case "stream":
          // The shop's model writing its answer: a draft bubble, replaced by the message that is sent.
          typing.hidden = true;
          if (!drafts[frame.stream]) {
            drafts[frame.stream] = Shopbee.messageNode({ id: "", sender: "bot", text: "" }, say, { names: NAMES });
            drafts[frame.stream].classList.add("draft");
            messages.appendChild(drafts[frame.stream]);
          }
          drafts[frame.stream].querySelector(".bubble").textContent += frame.delta;
          scroll();
          break;
        case "stream_end":
          if (drafts[frame.stream]) { drafts[frame.stream].remove(); delete drafts[frame.stream]; }
          break;
        case "error":
          typing.hidden = true;
          if (frame.client_msg_id) {
            pending = pending.filter(function (item) {
              if (item.client_msg_id !== frame.client_msg_id) return true;
              item.node.classList.add("failed");
              item.node.querySelector(".body").appendChild(Shopbee.el("div", "error", frame.message));
              return false;
            });
          } else {
            messages.appendChild(Shopbee.el("div", "notice error", frame.message));
          }
          break;
      }
    },
  });

  function say(text) {
    text = text.trim();
    if (!text) return;
    var item = { client_msg_id: Shopbee.newId(), text: text };
    item.node = Shopbee.messageNode({ id: "", sender: "shopper", text: text }, say, { names: NAMES });
    item.node.classList.add("pending");
    messages.appendChild(item.node);
    pending.push(item);
    if (socket.send({ type: "message", text: text, client_msg_id: item.client_msg_id }) && current.status === "bot") {
      showTyping(8);  // the bot is answering; hidden by its reply
    }
    scroll();
  }

  /* A product card's 问问这款: the bot answers about that very product (by id, from the catalogue). */
  function askProduct(product) {
    if (socket.send({ type: "product_details", product_id: product.id })) showTyping(8);
  }

  document.getElementById("composer").addEventListener("submit", function (event) {
    event.preventDefault();
    say(input.value);
    input.value = "";
  });
  input.addEventListener("input", function () {
    if (Date.now() - lastTypingSent > 3000) {
      lastTypingSent = Date.now();
      socket.send({ type: "typing" });
    }
  });
  rating.addEventListener("click", function (event) {
    var score = event.target.dataset && event.target.dataset.score;
    if (score) {
      socket.send({ type: "rate", score: parseInt(score, 10) });
      rating.hidden = true;
    }
  });
  if (embedded) {
    document.getElementById("close-widget").addEventListener("click", function () {
      window.parent.postMessage({ shopbee: "close" }, "*");
    });
    window.addEventListener("message", function (event) {
      if (event.source === window.parent && event.data && event.data.shopbee === "opened") input.focus();
    });
  }
})();
