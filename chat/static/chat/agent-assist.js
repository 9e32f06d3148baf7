/* Agent assist from the shop's large model (chat.assist), shown when the conversation's shop has one: 起草回复
   puts a draft into the reply box (growing as the model writes it), 更礼貌 / 更简洁 rewrite what the agent wrote there, 总结对话 shows a summary
   above the transcript. Nothing is sent to the shopper until the agent presses 发送 (and the check before send
   runs then). */
"use strict";

(function () {
  var $ = function (id) { return document.getElementById(id); };
  var bar = $("assist");
  var note = $("assist-note");
  var before = "";  // the reply box before the request: back in place if a streamed answer fails
  var streamed = "";

  bar.addEventListener("click", function (event) {
    var task = event.target.dataset && event.target.dataset.task;
    var conversation = Shopbee.consoleCurrent();
    if (!task || !conversation) return;
    note.textContent = "AI 正在生成…";
    before = $("input").value;
    streamed = "";
    Shopbee.consoleSocket.send({ type: "assist", conversation: conversation, task: task, text: $("input").value });
  });

  Shopbee.consoleListeners = (Shopbee.consoleListeners || []).concat([function (frame) {
    if (frame.type === "history" && frame.conversation === Shopbee.consoleCurrent()) {
      bar.hidden = !frame.model_assist || frame.status !== "agent";
      $("assist-summary").hidden = true;
      note.textContent = "";
    }
    if (frame.type === "error" && note.textContent) note.textContent = frame.message;
    if (frame.conversation !== Shopbee.consoleCurrent()) return;
    if (frame.type === "assist_stream") {  // a draft or rewrite as it is written (assist_stream frames)
      streamed += frame.delta;
      $("input").value = streamed;
      return;
    }
    if (frame.type !== "assist") return;
    note.textContent = frame.error;
    if (!frame.text) {
      if (streamed) $("input").value = before;
      streamed = "";
      return;
    }
    streamed = "";
    if (frame.task === "summary") {
      $("assist-summary").textContent = "AI 总结：" + frame.text;
      $("assist-summary").hidden = false;
    } else {
      $("input").value = frame.text;
      $("input").focus();
    }
  }]);
})();
