/* The check before send in the console (chat.guard): a reply that breaks one of the shop's QA rules comes back
   as a "held" frame. The reasons are shown above the reply box, the text goes back into it to be edited, and
   where every broken rule allows it, 仍然发送 sends it as written (recorded on the message). */
"use strict";

(function () {
  var box = document.getElementById("held");
  var input = document.getElementById("input");
  var el = Shopbee.el;

  function hide() { box.hidden = true; box.replaceChildren(); }

  function show(frame) {
    box.replaceChildren();
    box.appendChild(el("strong", null, "消息未发送："));
    box.appendChild(el("span", null, frame.message));
    var list = el("ul");
    frame.reasons.forEach(function (reason) {
      list.appendChild(el("li", null, reason.kind + " · " + reason.rule + "：" + reason.evidence));
    });
    box.appendChild(list);
    var edit = el("button", null, "修改后再发");
    edit.type = "button";
    edit.addEventListener("click", function () { hide(); input.focus(); });
    box.appendChild(edit);
    if (frame.can_send_anyway) {
      var anyway = el("button", "send-anyway", "仍然发送（留记录）");
      anyway.type = "button";
      anyway.addEventListener("click", function () {
        Shopbee.consoleSocket.send({
          type: "reply", conversation: frame.conversation, text: frame.text,
          client_msg_id: frame.client_msg_id, send_anyway: true,
        });
        input.value = "";
        hide();
      });
      box.appendChild(anyway);
    } else {
      box.appendChild(el("span", "note", "这条规则不允许原样发送，请修改。"));
    }
    input.value = frame.text;
    box.hidden = false;
  }

  Shopbee.consoleListeners = (Shopbee.consoleListeners || []).concat([function (frame) {
    if (frame.type === "held" && frame.conversation === Shopbee.consoleCurrent()) show(frame);
    if (frame.type === "history" || (frame.type === "ack" && !box.hidden)) hide();
  }]);
})();
