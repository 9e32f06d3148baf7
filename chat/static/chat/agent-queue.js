/* The agent console's part of assignment (docs/chat.md): the presence switch, the chats held against the
   maximum, queue items' skill group and left messages (留言), transfer to a skill group. Listens to the
   frames of agent.js's socket (Shopbee.consoleListeners) and sends on it (Shopbee.consoleSocket). */
"use strict";

(function () {
  var $ = function (id) { return document.getElementById(id); };
  var el = Shopbee.el;
  var socket = Shopbee.consoleSocket;
  var GROUPS = { presales: "售前", aftersales: "售后" };
  var PRESENCE = { online: "在线", away: "离开", offline: "离线" };
  var current = null;  // the conversation whose history was shown last

  function showPresence(frame) {
    $("presence").value = frame.status;
    $("presence").dataset.status = frame.status;
    $("load").textContent = frame.seats.map(function (seat) {
      return seat.shop_name + " 接待中 " + seat.load + "/" + seat.max_chats
        + (seat.skill_group ? "（" + GROUPS[seat.skill_group] + "）" : "");
    }).join("；");
  }

  function markQueue(frame) {
    frame.waiting.forEach(function (item, index) {
      var li = $("waiting").querySelector('[data-conversation="' + item.conversation + '"]');
      if (!li) return;
      li.insertBefore(el("span", "position", "#" + (index + 1)), li.firstChild);
      if (item.skill_group) li.appendChild(el("span", "badge group", GROUPS[item.skill_group]));
      if (item.left_message) li.appendChild(el("span", "badge left-message", "留言"));
    });
  }

  function showGroups(frame) {
    current = frame.status === "agent" ? frame.conversation : current;
    var select = $("transfer-group");
    select.replaceChildren();
    (frame.groups || []).forEach(function (group) {
      var text = group.name + "（在线 " + group.online + " 人，接待 " + group.load + "/" + group.capacity + "）";
      var option = el("option", null, text);
      option.value = group.group;
      select.appendChild(option);
    });
    $("transfer-to-group").disabled = frame.status !== "agent" || !select.options.length;
  }

  Shopbee.consoleListeners = (Shopbee.consoleListeners || []).concat([function (frame) {
    switch (frame.type) {
      case "queue":
        markQueue(frame);
        socket.send({ type: "presence" });  // the load per shop moved with the queue
        break;
      case "presence":
        showPresence(frame);
        break;
      case "history":
        showGroups(frame);
        break;
      case "status":
        if (frame.conversation === current && frame.status !== "agent") $("transfer-to-group").disabled = true;
        break;
    }
  }]);

  $("presence").addEventListener("change", function () {
    socket.send({ type: "presence", status: $("presence").value });
    $("status").textContent = PRESENCE[$("presence").value];
  });
  $("transfer-to-group").addEventListener("click", function () {
    var group = $("transfer-group").value;
    if (current && group) socket.send({ type: "transfer", conversation: current, group: group });
  });
})();
