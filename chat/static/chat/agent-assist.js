/* Agent assist from the shop's large model (chat.assist), shown when the conversation's shop has one: 起草回复
   puts a draft into the reply box, 更礼貌 / 更简洁 rewrite what the agent wrote there, 总结对话 shows a summary
   above the transcript. Nothing is sent to the shopper until the agent presses 发送 (and the check before send
   runs then). */
"use strict";

(function () {
  var $ = function (id) { return document.getElementById(id); };
  var bar = $("assist");
  var note = $("assist-note");

  bar.addEventListener("click", function (event) {
    var task = event.target.dataset && event.target.dataset.task;
    var conversation = Shopbee.consoleCurrent();
    if (!task || !conversation) return;
    note.textContent = "AI 正在生成…";
    Shopbee.consoleSocket.send({ type: "assist", conversation: conversation, task: task, text: $("input").value });
  });

  Shopbee.consoleListeners = (Shopbee.consoleListeners || []).concat([function (frame) {
    if (frame.type === "history" && frame.conversation === Shopbee.consoleCurrent()) {
      bar.hidden = !frame.model_assist || frame.status !== "agent";
      $("assist-summary").hidden = true;
      note.textContent = "";
    }
    if (frame.type === "error" && note.textContent) note.textContent = frame.message;
    if (frame.type !== "assist" || frame.conversation !== Shopbee.consoleCurrent()) return;
    note.textContent = frame.error;
    if (!frame.text) return;
    if (frame.task === "summary") {
      $("assist-summary").textContent = "AI 总结：" + frame.text;
      $("assist-summary").hidden = false;
    } else {
      $("input").value = frame.text;
      $("input").focus();
    }
  }]);
})();
