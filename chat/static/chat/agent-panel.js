/* Beside the chat in the agent console: the hand-off packet (why the conversation reached an agent and
   the bot's summary), the customer panel (the shopper, their past conversations, orders and refunds),
   and the SLA timer of every queued and held conversation. Every value is set as text, never HTML. */
"use strict";

(function () {
  var $ = function (id) { return document.getElementById(id); };
  var el = Shopbee.el;
  var shownPanel = null;
  var KIND = { first_response: "首次响应", next_response: "下次响应" };

  function section(title) {
    var box = el("section", "panel-section");
    box.appendChild(el("h3", null, title));
    return box;
  }

  function line(parent, label, value) {
    var row = el("div", "panel-line");
    row.appendChild(el("span", "label", label));
    row.appendChild(el("span", "value", value));
    parent.appendChild(row);
  }

  function renderPacket(history) {
    var box = $("handoff-packet");
    var packet = history.packet;
    box.replaceChildren();
    box.hidden = !packet || !packet.reason;
    if (box.hidden) return;
    box.appendChild(el("strong", "reason", "转人工原因：" + packet.reason_display));
    if (packet.intent) box.appendChild(el("span", "intent", "顾客在问：" + packet.intent_display));
    packet.slots.forEach(function (slot) { box.appendChild(el("span", "slot", slot.label + "：" + slot.value)); });
    if (packet.unanswered.length) {
      var list = el("ul", "unanswered");
      list.appendChild(el("li", "label", "机器人没答上来的问题："));
      packet.unanswered.forEach(function (text) { list.appendChild(el("li", null, text)); });
      box.appendChild(list);
    }
  }

  function renderPanel(frame) {
    var aside = $("customer-panel");
    aside.replaceChildren();
    var who = section("顾客");
    line(who, "名称", frame.customer.name + (frame.customer.known ? "" : "（未登录）"));
    var tags = el("div", "tags");
    frame.customer.tags.forEach(function (tag) { tags.appendChild(el("span", "tag", tag)); });
    if (!frame.customer.tags.length) tags.appendChild(el("span", "none", "暂无标签"));
    who.appendChild(tags);
    aside.appendChild(who);

    var past = section("历史会话");
    frame.conversations.forEach(function (c) {
      var text = "#" + c.id + " · " + c.started_at.slice(0, 10) + " · " + c.outcome;
      if (c.satisfaction) text += " · " + c.satisfaction + " 分";
      if (c.tags.length) text += " · " + c.tags.join("、");
      past.appendChild(el("div", "panel-line past", text));
    });
    if (!frame.conversations.length) past.appendChild(el("div", "none", "第一次来咨询"));
    aside.appendChild(past);

    var orders = section("订单");
    frame.orders.forEach(function (order) {
      var card = el("div", "order");
      card.appendChild(el("strong", "number", order.number + " · " + order.status_display + " · ¥" + order.total));
      order.items.forEach(function (item) {
        card.appendChild(el("div", "item", item.title + (item.options ? "（" + item.options + "）" : "") + " × " + item.quantity));
      });
      if (order.tracking_number) card.appendChild(el("div", "tracking", "物流：" + order.carrier + " " + order.tracking_number));
      order.refunds.forEach(function (refund) {
        card.appendChild(el("div", "refund", "退款 ¥" + refund.amount + " · " + refund.status_display + (refund.reason ? " · " + refund.reason : "")));
      });
      orders.appendChild(card);
    });
    if (!frame.orders.length) orders.appendChild(el("div", "none", "没有订单"));
    aside.appendChild(orders);
    aside.hidden = false;
  }

  // --- SLA timers on the queue: counted down every second from the server's due time ---
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".sla-timer").forEach(function (timer) {
      var left = Math.round((Date.parse(timer.dataset.due) - now) / 1000);
      var late = left < 0;
      var seconds = Math.abs(left);
      var clock = Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
      timer.textContent = KIND[timer.dataset.kind] + (late ? " 已超时 " : " 剩余 ") + clock;
      timer.classList.toggle("late", late);
    });
  }
  setInterval(tick, 1000);

  function decorateQueue(frame) {
    frame.waiting.concat(frame.mine).forEach(function (item) {
      if (!item.sla) return;
      document.querySelectorAll('.queue-item[data-conversation="' + item.conversation + '"]').forEach(function (li) {
        var timer = el("span", "sla-timer");
        timer.dataset.due = item.sla.due_at;
        timer.dataset.kind = item.sla.kind;
        li.appendChild(timer);
      });
    });
    tick();
  }

  Shopbee.consoleListeners = (Shopbee.consoleListeners || []).concat([function (frame) {
    switch (frame.type) {
      case "queue":
        decorateQueue(frame);
        break;
      case "history":
        if (frame.conversation !== Shopbee.consoleCurrent()) return;
        renderPacket(frame);
        shownPanel = frame.conversation;
        Shopbee.consoleSocket.send({ type: "panel", conversation: frame.conversation });
        break;
      case "panel":
        if (frame.conversation === shownPanel) renderPanel(frame);
        break;
      case "message":
        // A new shopper or agent message moves the SLA clock: the queue frame brings the new one.
        if (frame.sender === "shopper" || frame.sender === "agent") Shopbee.consoleSocket.send({ type: "queue" });
        break;
    }
  }]);
})();
