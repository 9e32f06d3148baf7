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

  // Who wrote a message, shown beside it: avatar letter and name (options.names overrides the names).
  var SENDERS = {
    bot: { avatar: "蜂", name: "智能客服小蜂" },
    agent: { avatar: "客", name: "人工客服" },
    system: { avatar: "i", name: "系统通知" },
    shopper: { avatar: "顾", name: "顾客" },
  };

  function productCard(product, onAsk) {
    var card = el("div", "product");
    card.dataset.productId = product.id;
    if (product.image) {
      var image = el("img", "image");
      image.src = product.image;  // an attribute, never markup
      image.alt = "";
      card.appendChild(image);
    } else {
      card.appendChild(el("span", "image placeholder", (product.title || "?").charAt(0)));
    }
    card.appendChild(el("span", "title", product.title));
    card.appendChild(el("span", "price", price(product.price)));
    var options = [].concat(product.colors || [], product.sizes || []).join(" / ");
    if (options) card.appendChild(el("span", "options", options));
    if (onAsk) {
      var ask = el("button", "ask-product", "问问这款");
      ask.type = "button";
      ask.addEventListener("click", function () { onAsk(product); });
      card.appendChild(ask);
    }
    return card;
  }

  function orderCard(order) {
    var card = el("div", "order-card");
    var head = el("div", "order-head");
    head.appendChild(el("span", "order-number", "订单 " + order.number));
    head.appendChild(el("span", "order-status " + order.status, order.status_text));
    card.appendChild(head);
    var lines = el("ul", "order-lines");
    order.lines.forEach(function (line) {
      var item = el("li");
      item.appendChild(el("span", "line-title", line.title));
      if (line.options) item.appendChild(el("span", "line-options", line.options));
      item.appendChild(el("span", "line-quantity", "×" + line.quantity));
      lines.appendChild(item);
    });
    if (order.more_lines) lines.appendChild(el("li", "more", "另有 " + order.more_lines + " 件商品"));
    card.appendChild(lines);
    var foot = el("div", "order-foot");
    foot.appendChild(el("span", "order-time", "下单 " + order.created_at));
    foot.appendChild(el("span", "order-total", "合计 " + price(order.total)));
    card.appendChild(foot);
    if (order.tracking_number) {
      card.appendChild(el("div", "order-tracking", order.carrier + " " + order.tracking_number));
    }
    return card;
  }

  /* One message: avatar, name, bubble, product cards, quick replies. onChoose(text) is called when a quick
     reply is clicked; options.askProduct(product), when given, puts a 问问这款 button on each product card. */
  function messageNode(frame, onChoose, options) {
    options = options || {};
    var sender = SENDERS[frame.sender] ? frame.sender : "system";
    var node = el("div", "message " + sender);
    node.dataset.id = frame.id;
    var name = (options.names && options.names[sender]) || SENDERS[sender].name;
    node.appendChild(el("span", "avatar " + sender, name === SENDERS[sender].name ? SENDERS[sender].avatar : name.charAt(0)));
    var body = el("div", "body");
    node.appendChild(body);
    body.appendChild(el("div", "name", name));
    body.appendChild(el("div", "bubble", frame.text));
    if (frame.order) body.appendChild(orderCard(frame.order));
    if (frame.products && frame.products.length) {
      var cards = el("div", "products");
      frame.products.forEach(function (product) { cards.appendChild(productCard(product, options.askProduct)); });
      body.appendChild(cards);
    }
    // A mail's attachments (email channel): links for the agents, and the names of those not kept.
    if (frame.attachments && (frame.attachments.length || frame.attachments_too_large.length)) {
      var files = el("div", "attachments");
      frame.attachments.forEach(function (file) {
        var link = el("a", "attachment", "附件：" + file.name + "（" + Math.max(1, Math.round(file.size / 1024)) + " KB）");
        link.href = file.url;
        link.download = file.name;
        files.appendChild(link);
      });
      frame.attachments_too_large.forEach(function (name) {
        files.appendChild(el("span", "attachment too-large", "附件：" + name + "（超过大小限制，未保存，请在邮箱中查看）"));
      });
      body.appendChild(files);
    }
    // A page with a rating bar asks the closing survey there, not a second time as quick replies.
    var asksElsewhere = frame.survey && options && options.ratingBar;
    if (frame.quick_replies && frame.quick_replies.length && !asksElsewhere) {
      var replies = el("div", "quick-replies");
      frame.quick_replies.forEach(function (text) {
        var button = el("button", "quick-reply", text);
        button.type = "button";
        button.addEventListener("click", function () { onChoose(text); });
        replies.appendChild(button);
      });
      body.appendChild(replies);
    }
    return node;
  }

  return { el: el, wsUrl: wsUrl, newId: newId, reconnecting: reconnecting, messageNode: messageNode };
})();
