/* 优选健康商城 front end: renders the catalogue from /api/products.json after start-up. */
(function () {
  "use strict";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function renderProduct(product) {
    var card = el("div", "prod");
    card.setAttribute("data-sku", product.sku);
    var img = el("img");
    img.src = product.image;
    img.alt = product.name;
    card.appendChild(img);
    card.appendChild(el("div", "title", product.name));
    card.appendChild(el("div", "claim", product.slogan));
    card.appendChild(el("p", "desc", product.description));
    card.appendChild(el("div", "price", "¥" + product.price.toFixed(2)));
    card.appendChild(el("button", "buy", "立即购买"));
    return card;
  }

  function render(catalogue) {
    var app = document.getElementById("app");
    app.innerHTML = "";
    app.appendChild(el("div", "banner", catalogue.banner));
    var list = el("div", "list");
    catalogue.products.forEach(function (product) { list.appendChild(renderProduct(product)); });
    app.appendChild(list);
    document.title = catalogue.title;
  }

  function load() {
    fetch("/api/products.json", { headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(render)
      .catch(function () {
        document.getElementById("app").textContent = "网络错误，请刷新重试";
      });
  }

  // Like many shop front ends, wait for the splash screen before loading the catalogue.
  window.setTimeout(load, 300);
})();
