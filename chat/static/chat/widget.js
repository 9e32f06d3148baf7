/* Shopbee's chat widget for a merchant's own site:
     <script src="https://SHOPBEE_HOST/widget.js" data-shop="SLUG" async></script>
   Optional data-customer, data-ts, data-signature: the signed shopper identity (docs/chat.md).
   A floating button with an unread badge opens the shop's chat in a panel, a frame of Shopbee's own origin
   that only the shop's allowed sites may embed; on any other site the panel says why it is refused.
   Everything lives in a shadow root, so the merchant's styles and ours never meet. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.shop) {
    console.error("Shopbee widget: the <script> tag needs data-shop=\"<shop slug>\".");
    return;
  }
  var base = new URL(script.src, location.href).origin;
  var slug = script.dataset.shop;
  var identity = { customer: script.dataset.customer, ts: script.dataset.ts, sig: script.dataset.signature };

  var STYLE = [
    ":host { all: initial; }",
    ".launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483646; width: 58px; height: 58px;",
    "  border: 0; border-radius: 50%; background: var(--accent); color: #fff; cursor: pointer;",
    "  box-shadow: 0 4px 14px rgba(0,0,0,.25); display: flex; align-items: center; justify-content: center; }",
    ".launcher svg { width: 28px; height: 28px; fill: currentColor; }",
    ".badge { position: absolute; top: -4px; right: -4px; min-width: 20px; height: 20px; padding: 0 5px;",
    "  border-radius: 10px; background: #e4393c; color: #fff; font: bold 12px/20px sans-serif; text-align: center; }",
    ".panel { position: fixed; right: 20px; bottom: 90px; z-index: 2147483647; width: 380px; height: 600px;",
    "  max-height: calc(100vh - 110px); border-radius: 14px; overflow: hidden; background: #fff;",
    "  box-shadow: 0 8px 30px rgba(0,0,0,.25); }",
    ".panel.refused { height: auto; }",
    ".panel iframe { width: 100%; height: 100%; border: 0; display: block; }",
    ".refusal { padding: 24px; font: 15px/1.6 sans-serif; color: #333; }",
    ".refusal strong { display: block; margin-bottom: 8px; color: #c62828; }",
    ".refusal button { margin-top: 12px; padding: 6px 14px; border: 0; border-radius: 6px; background: #eee; cursor: pointer; }",
    "[hidden] { display: none !important; }",
    "@media (max-width: 600px) {",
    "  .panel { inset: 0; width: 100%; height: 100%; max-height: none; border-radius: 0; }",
    "  .panel:not([hidden]) ~ .launcher { display: none; }",
    "}",
  ].join("\n");
  var ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 3C6.5 3 2 6.8 2 11.5c0 2.4 1.2 4.6 3.1 6.1L4 21l4.1-1.9c1.2.4 2.5.6 3.9.6 5.5 0 10-3.8 10-8.5S17.5 3 12 3z"/></svg>';

  var host = document.createElement("div");
  host.id = "shopbee-widget";
  var root = host.attachShadow({ mode: "open" });
  var style = document.createElement("style");
  style.textContent = STYLE;
  var panel = document.createElement("div");
  panel.className = "panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  var launcher = document.createElement("button");
  launcher.className = "launcher";
  launcher.type = "button";
  launcher.setAttribute("aria-label", "在线客服");
  launcher.innerHTML = ICON;  // a constant of this file, nothing from the page or the server
  var badge = document.createElement("span");
  badge.className = "badge";
  badge.hidden = true;
  launcher.appendChild(badge);
  root.appendChild(style);
  root.appendChild(panel);
  root.appendChild(launcher);
  host.style.setProperty("--accent", "#ffb400");

  var frame = null;
  var unread = 0;

  function setUnread(count) {
    unread = count;
    badge.textContent = count > 99 ? "99+" : String(count);
    badge.hidden = count === 0;
  }

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    setUnread(0);
    if (frame) frame.contentWindow.postMessage({ shopbee: "opened" }, base);
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
  }

  launcher.addEventListener("click", function () { if (panel.hidden) open(); else close(); });

  function refuse(message) {
    console.warn("Shopbee widget: " + message);
    var box = document.createElement("div");
    box.className = "refusal";
    var title = document.createElement("strong");
    title.textContent = "在线客服无法在此网站使用";
    var text = document.createElement("div");
    text.className = "reason";
    text.textContent = message;
    var dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.textContent = "关闭";
    dismiss.addEventListener("click", close);
    box.appendChild(title);
    box.appendChild(text);
    box.appendChild(dismiss);
    panel.classList.add("refused");
    panel.appendChild(box);
  }

  function embed(config) {
    host.style.setProperty("--accent", config.colour);
    launcher.setAttribute("aria-label", config.shop + " 在线客服");
    var url = new URL(config.chat_url);
    if (identity.customer && identity.ts && identity.sig) {
      url.searchParams.set("customer", identity.customer);
      url.searchParams.set("ts", identity.ts);
      url.searchParams.set("sig", identity.sig);
    }
    frame = document.createElement("iframe");
    frame.title = config.shop + " 在线客服";
    frame.src = url.toString();
    panel.appendChild(frame);
    window.addEventListener("message", function (event) {
      if (event.origin !== base || event.source !== frame.contentWindow || !event.data) return;
      if (event.data.shopbee === "message" && panel.hidden) setUnread(unread + 1);
      if (event.data.shopbee === "close") close();
    });
  }

  function start() {
    document.body.appendChild(host);
    fetch(base + "/widget/" + encodeURIComponent(slug) + "/config", { credentials: "omit" })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (result.ok) embed(result.body);
        else refuse(result.body.message || "店铺不存在或已停止服务");
      })
      .catch(function () { refuse("暂时连不上客服服务器，请稍后再试。"); });
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
