/* Canned replies (快捷短语) and macros in the agent console: typing "/" in the reply box asks the server
   for the matching replies of the conversation's shop and the agent's own, variables already filled; a
   plain reply is put into the box to edit and send, a macro runs at once (reply, tag, requeue or close). */
"use strict";

(function () {
  var $ = function (id) { return document.getElementById(id); };
  var el = Shopbee.el;
  var input = $("input");
  var menu = $("canned-menu");
  var items = [];
  var chosen = 0;
  var asked = null;  // the query last sent, so a late answer to an older one is ignored

  function hide() {
    menu.hidden = true;
    items = [];
  }

  function ask() {
    var value = input.value;
    var conversation = Shopbee.consoleCurrent();
    if (!conversation || (value.charAt(0) !== "/" && value.charAt(0) !== "／")) { hide(); return; }
    asked = value.slice(1, 31);
    Shopbee.consoleSocket.send({ type: "canned", conversation: conversation, query: asked });
  }

  function use(item) {
    hide();
    if (item.macro.length) {
      Shopbee.consoleSocket.send({
        type: "macro", conversation: Shopbee.consoleCurrent(), canned: item.id, client_msg_id: Shopbee.newId(),
      });
      input.value = "";
    } else {
      input.value = item.text;
    }
    input.focus();
  }

  function render() {
    menu.replaceChildren();
    items.forEach(function (item, index) {
      var li = el("li", "canned-item" + (index === chosen ? " chosen" : ""));
      li.setAttribute("role", "option");
      li.dataset.canned = item.id;
      li.appendChild(el("strong", "shortcut", "/" + item.shortcut));
      if (item.category) li.appendChild(el("span", "category", item.category));
      if (item.personal) li.appendChild(el("span", "badge", "个人"));
      if (item.macro.length) li.appendChild(el("span", "badge macro", "宏：" + item.macro.join(" → ")));
      li.appendChild(el("span", "text", item.text));
      li.addEventListener("mousedown", function (event) { event.preventDefault(); use(item); });
      menu.appendChild(li);
    });
    if (!items.length) menu.appendChild(el("li", "canned-none", "没有匹配的快捷短语"));
    menu.hidden = false;
  }

  Shopbee.consoleListeners = (Shopbee.consoleListeners || []).concat([function (frame) {
    if (frame.type !== "canned" || frame.query !== asked || frame.conversation !== Shopbee.consoleCurrent()) return;
    if (input.value.charAt(0) !== "/" && input.value.charAt(0) !== "／") return;
    items = frame.items;
    chosen = 0;
    render();
  }]);

  input.addEventListener("input", ask);
  input.addEventListener("blur", hide);
  // Before the composer's own submit: Enter picks the highlighted reply while the menu is open.
  input.addEventListener("keydown", function (event) {
    if (menu.hidden || !items.length) {
      if (event.key === "Escape") hide();
      return;
    }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      chosen = (chosen + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      render();
    } else if (event.key === "Enter") {
      event.preventDefault();
      use(items[chosen]);
    } else if (event.key === "Escape") {
      hide();
    }
  });
})();
