/* The exhibition hall's charts (Apache ECharts, served by the platform), its live corridor (server-sent events)
   and the kiosk that shows every page in turn. No request leaves the machine. */
(function () {
  "use strict";

  function data() {
    var el = document.getElementById("chart-data");
    return el ? JSON.parse(el.textContent) : {};
  }

  // Chart text in the page's own fonts (the shipped CJK subset included) and, on a kiosk slide, in its large type.
  function textStyle() {
    var root = getComputedStyle(document.body);
    return { fontFamily: root.fontFamily, fontSize: Math.round(parseFloat(root.fontSize) * 0.8) };
  }

  // What the chart draws, as its text alternative: the caption, then each label with its value.
  function describe(el, rows) {
    var caption = el.getAttribute("aria-label").split(" — ")[0];
    el.setAttribute("aria-label", caption + " — " + rows.map(function (r) {
      return r[0] + ": " + (r[1] === null || r[1] === undefined ? "–" : r[1]);
    }).join("; "));
  }

  function empty(el) {
    el.textContent = "–";
    el.classList.add("empty");
  }

  var drawn = [];

  // A chart that follows the window's size and is laid out again once a late web font arrives (ECharts measures
  // its labels when it draws them).
  function init(id) {
    var chart = echarts.init(document.getElementById(id));
    window.addEventListener("resize", function () { chart.resize(); });
    return {
      setOption: function (option) {
        chart.setOption(option);
        drawn.push([chart, option]);
      }
    };
  }
  if (document.fonts) {
    document.fonts.addEventListener("loadingdone", function () {
      drawn.forEach(function (d) { d[0].setOption(d[1], true); });
    });
  }

  // The chart's box, described by the rows it will draw; null (and "–" in the box) when there is nothing to draw.
  function box(id, rows) {
    var el = document.getElementById(id);
    if (!el) return null;
    if (!rows.length) { empty(el); return null; }
    describe(el, rows);
    return el;
  }

  function bar(id, rows) {
    if (!box(id, rows)) return;
    var style = textStyle();
    init(id).setOption({
      animation: false, textStyle: style,
      grid: { left: 10, right: 40, top: 10, bottom: 10, containLabel: true },
      xAxis: { type: "value", minInterval: 1, axisLabel: { fontSize: style.fontSize } },
      yAxis: { type: "category", inverse: true, axisLabel: { fontSize: style.fontSize },
        data: rows.map(function (r) { return r[0]; }) },
      series: [{ type: "bar", data: rows.map(function (r) { return r[1]; }),
        label: { show: true, position: "right", fontSize: style.fontSize } }]
    });
  }

  function pie(id, rows) {
    if (!box(id, rows)) return;
    var style = textStyle();
    init(id).setOption({
      animation: false, textStyle: style,
      series: [{ type: "pie", radius: ["35%", "65%"], label: { formatter: "{b}: {c}", fontSize: style.fontSize },
        data: rows.map(function (r) { return { name: r[0], value: r[1] }; }) }]
    });
  }

  // A time series: rows of [label, value]; an optional second series drawn on its own axis.
  function line(id, labels, series) {
    var last = labels.length - 1;  // a long series is described by its latest point
    var latest = labels.length ? series.map(function (s) { return [s.name + " (" + labels[last] + ")", s.values[last]]; }) : [];
    if (!box(id, latest)) return;
    var style = textStyle(), label = { fontSize: style.fontSize };
    var axes = [{ type: "value", minInterval: 1, axisLabel: label }];
    if (series.some(function (s) { return s.axis === 1; })) {
      axes.push({ type: "value", min: 0, max: 1, axisLabel: { fontSize: style.fontSize,
        formatter: function (v) { return Math.round(v * 100) + "%"; } } });
    }
    init(id).setOption({
      animation: false, textStyle: style, legend: { top: 0, textStyle: label },
      grid: { left: 10, right: 10, top: 2 * style.fontSize + 10, bottom: 10, containLabel: true },
      xAxis: { type: "category", data: labels, axisLabel: label }, yAxis: axes,
      series: series.map(function (s) {
        return { name: s.name, type: s.type || "line", yAxisIndex: s.axis || 0, data: s.values,
          step: s.step ? "end" : false, connectNulls: true, showSymbol: labels.length <= 24 };
      })
    });
  }

  // Amounts in minor units, shown in major units with the asset's code.
  function money(amount, asset, exponents, lang) {
    var exp = exponents[asset] === undefined ? 2 : exponents[asset];
    var value = amount / Math.pow(10, exp);
    return value.toLocaleString(lang, { minimumFractionDigits: exp, maximumFractionDigits: exp }) + " " + asset;
  }

  function setText(root, name, text) {
    var el = root.querySelector('[data-field="' + name + '"]');
    if (el && el.textContent !== text) el.textContent = text;
  }

  // The live corridor: figures and the latest flows, replaced by each snapshot the server pushes.
  function corridor() {
    var root = document.getElementById("corridor");
    if (!root) return;
    var lang = document.documentElement.lang;
    var words = JSON.parse(document.getElementById("corridor-words").textContent);
    var state = root.querySelector(".live");
    var seen = {};
    function volumes(byAsset, exponents) {
      var keys = Object.keys(byAsset).sort();
      return keys.length ? keys.map(function (k) { return money(byAsset[k], k, exponents, lang); }).join(" · ") : "–";
    }
    function render(s) {
      setText(root, "per_second", s.per_second.toLocaleString(lang));
      setText(root, "per_second_demo", s.per_second_demo.toLocaleString(lang));
      setText(root, "today_count", s.today.count.toLocaleString(lang));
      setText(root, "today_demo_count", s.today_demo.count.toLocaleString(lang));
      setText(root, "today_volumes", volumes(s.today.by_asset, s.exponents));
      setText(root, "today_demo_volumes", volumes(s.today_demo.by_asset, s.exponents));
      setText(root, "updated", new Date(s.at).toLocaleTimeString(lang));
      var body = root.querySelector(".flows tbody");
      var rows = document.createDocumentFragment();
      var next = {};
      s.flows.forEach(function (f) {
        var key = f.settled_at + f.corridor + f.source_amount + f.target_amount;
        var tr = document.createElement("tr");
        if (!seen[key] && Object.keys(seen).length) tr.className = "fresh";
        next[key] = true;
        var cells = [new Date(f.settled_at).toLocaleTimeString(lang), words.corridors[f.corridor] || f.corridor,
          money(f.source_amount, f.source_asset, s.exponents, lang),
          money(f.target_amount, f.target_asset, s.exponents, lang)];
        cells.forEach(function (text, i) {
          var td = document.createElement("td");
          td.textContent = text;
          if (i >= 2) td.className = "amount";
          tr.appendChild(td);
        });
        var tag = document.createElement("td");
        if (f.demo) { var b = document.createElement("span"); b.className = "badge"; b.textContent = words.demo; tag.appendChild(b); }
        tr.appendChild(tag);
        rows.appendChild(tr);
      });
      if (!s.flows.length) {
        var tr = document.createElement("tr"), td = document.createElement("td");
        td.colSpan = 5; td.textContent = words.none; tr.appendChild(td); rows.appendChild(tr);
      }
      seen = next;
      body.replaceChildren(rows);
      root.dataset.updates = String(Number(root.dataset.updates || 0) + 1);
    }
    function live(on) {
      state.dataset.state = on ? "live" : "reconnecting";
      state.textContent = on ? words.live : words.reconnecting;
    }
    var source = new EventSource("/hall/corridor/events");
    source.addEventListener("corridor", function (e) { live(true); render(JSON.parse(e.data)); });
    source.onerror = function () { live(false); };  // EventSource reconnects on its own (retry: 1000)
    render(data().snapshot);
  }

  // The kiosk: each slide loads unseen in the back frame and takes the front only once it has loaded; while the
  // platform cannot be reached, the last slide stays, greyed, under a clear offline notice, and the kiosk retries.
  function kiosk() {
    var cfg = JSON.parse(document.getElementById("kiosk-config").textContent);
    var frames = [document.getElementById("slide-a"), document.getElementById("slide-b")];
    var offline = document.getElementById("offline");
    var marks = document.querySelectorAll(".kiosk-bar li");
    var front = 0, index = 0;
    function setOffline(on) {
      offline.hidden = !on;
      document.body.classList.toggle("is-offline", on);
    }
    function mark() {
      marks.forEach(function (li, i) { if (i === index) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current"); });
      document.body.dataset.slide = String(index);
    }
    function reachable() {
      return fetch(cfg.health, { cache: "no-store" }).then(function (r) { if (!r.ok) throw new Error(r.status); });
    }
    function load(frame, url) {
      return new Promise(function (resolve, reject) {
        var timer = setTimeout(function () { reject(new Error("slide timed out")); }, 15000);
        frame.onload = function () {
          clearTimeout(timer);
          var ok = false;
          try { ok = !!frame.contentDocument.querySelector("[data-slide]"); } catch (e) { ok = false; }
          if (ok) resolve(); else reject(new Error("not a slide"));
        };
        frame.src = url;
      });
    }
    function show(next) {
      var back = frames[1 - front];
      return reachable().then(function () { return load(back, cfg.slides[next]); }).then(function () {
        back.classList.remove("behind");
        frames[front].classList.add("behind");
        front = 1 - front;
        index = next;
        mark();
        setOffline(false);
      });
    }
    function cycle() {
      show((index + 1) % cfg.slides.length).then(function () {
        setTimeout(cycle, cfg.rotate * 1000);
      }, function () {
        setOffline(true);
        setTimeout(cycle, 2000);
      });
    }
    setInterval(function () { reachable().then(function () { setOffline(false); }, function () { setOffline(true); }); }, 5000);
    index = -1;
    cycle();
  }

  // Charts are drawn once the page's fonts have loaded: a canvas keeps the glyphs it was drawn with, and Chinese
  // labels need the CJK font the page may still be fetching.
  function whenFonts(draw) {
    return function () {
      var args = arguments;
      var go = function () { draw.apply(null, args); };
      if (document.fonts && document.fonts.ready) document.fonts.ready.then(go); else go();
    };
  }

  window.FZHall = { data: data, bar: whenFonts(bar), pie: whenFonts(pie), line: whenFonts(line), corridor: corridor,
    kiosk: kiosk };
})();
