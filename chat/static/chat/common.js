/* Shared by the shopper page and the agent console: a socket that reconnects by itself, and
   message rendering that only ever sets textContent (shopper text is never treated as HTML). */
"use strict";

var Shopbee = (function () {
  // Close codes after which reconnecting cannot help: unknown shop, not allowed.
  var FINAL_CLOSE_CODES = [4403, 4404];
  // Closed for sending nothing for a while (CHAT_IDLE_SOCKET_SECONDS): reconnect once the page is in front.
  var IDLE_CLOSE_CODE = 4408;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function wsUrl(path) {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  }

  function newId() {
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
  }

  /* urlFor() is asked again before every attempt, so a reconnect carries the latest resume point. */
  function reconnecting(urlFor, handlers) {
    var socket = null;
    var delay = 500;
    var stopped = false;
    function open() {
      socket = new WebSocket(urlFor());
      socket.onopen = function () {
        delay = 500;
        handlers.open && handlers.open();
      };
      socket.onmessage = function (event) {
        var frame;
        try { frame = JSON.parse(event.data); } catch (e) { return; }
        handlers.frame(frame);
      };
      socket.onclose = function (event) {
        handlers.close && handlers.close(event);
        if (stopped || FINAL_CLOSE_CODES.indexOf(event.code) >= 0) return;
        if (event.code === IDLE_CLOSE_CODE && document.visibilityState !== "visible") {
          document.addEventListener("visibilitychange", function reopen() {
            if (document.visibilityState !== "visible") return;
            document.removeEventListener("visibilitychange", reopen);
            open();
          });
          return;
        }
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 10000);
      };
    }
    open();
    return {
      send: function (frame) {
        if (socket && socket.readyState === WebSocket.OPEN) {
          socket.send(JSON.stringify(frame));
          return true;
        }
        return false;
      },
      stop: function () { stopped = true; if (socket) socket.close(); },
    };
  }

  function price(value) { return "¥" + value; }

  /* One message bubble. onChoose(text) is called when a quick reply or product card is clicked. */
  function messageNode(frame, onChoose) {
    var node = el("div", "message " + frame.sender);
    node.dataset.id = frame.id;
    node.appendChild(el("div", "bubble", frame.text));
    if (frame.products && frame.products.length) {
      var cards = el("div", "products");
      frame.products.forEach(function (product) {
        var card = el("button", "product");
        card.type = "button";
        card.appendChild(el("span", "title", product.title));
        card.appendChild(el("span", "price", price(product.price)));
        var options = [].concat(product.colors || [], product.sizes || []).join(" / ");
        if (options) card.appendChild(el("span", "options", options));
        card.addEventListener("click", function () { onChoose("我想了解一下" + product.title); });
        cards.appendChild(card);
      });
      node.appendChild(cards);
    }
    if (frame.quick_replies && frame.quick_replies.length) {
      var replies = el("div", "quick-replies");
      frame.quick_replies.forEach(function (text) {
        var button = el("button", "quick-reply", text);
        button.type = "button";
        button.addEventListener("click", function () { onChoose(text); });
        replies.appendChild(button);
      });
      node.appendChild(replies);
    }
    return node;
  }

  return { el: el, wsUrl: wsUrl, newId: newId, reconnecting: reconnecting, messageNode: messageNode };
})();
