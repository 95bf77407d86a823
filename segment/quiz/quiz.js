/* segment quiz: score the answers with the model file's parameters (embedded as JSON).
 *
 * The posterior is the one of segment.segments.model.SegmentModel.predict_proba: for each segment,
 * log prior + the sum over answered items of log max(P(answer | segment), floor), then
 * normalised in log space (subtract the largest, exponentiate, divide by the sum). A skipped
 * question, a code the codebook scores as missing and an answer nobody gave at fit add nothing.
 * Nothing here depends on the model: every number comes from #quiz-parameters.
 */
(function () {
  "use strict";

  var P = JSON.parse(document.getElementById("quiz-parameters").textContent);
  var C = JSON.parse(document.getElementById("quiz-content").textContent);
  var K = P.prior_shares.length;
  var N = P.items.length;
  var lang = C.default_language;
  var last = null;

  var form = document.getElementById("quiz");
  var result = document.getElementById("result");
  var $ = function (id) { return document.getElementById(id); };

  // ------------------------------------------------------------------ scoring
  /* Category index of an answer code for item j, or -1 when it drops out. */
  function category(j, value) {
    if (value === null || value === "skip") return -1;
    var code = Number(value);
    if (P.missing_codes[j].indexOf(code) >= 0) return -1;
    return P.categories[j].indexOf(code);
  }

  /* Posterior segment probabilities from category indices (-1 = missing). */
  function posterior(cats) {
    var row = new Array(K);
    var k, j;
    for (k = 0; k < K; k++) row[k] = Math.log(P.prior_shares[k]);
    for (j = 0; j < N; j++) {
      var c = cats[j];
      if (c < 0) continue;
      var probs = P.item_probs[j];
      for (k = 0; k < K; k++) row[k] += Math.log(Math.max(probs[k][c], P.probability_floor));
    }
    var top = row[0];
    for (k = 1; k < K; k++) top = Math.max(top, row[k]);
    var total = 0;
    for (k = 0; k < K; k++) { row[k] = Math.exp(row[k] - top); total += row[k]; }
    var inv = 1 / total;
    for (k = 0; k < K; k++) row[k] = row[k] * inv;
    return row;
  }

  function answers() {
    var out = [];
    for (var j = 0; j < N; j++) {
      var checked = form.querySelector('input[name="' + CSS.escape(P.items[j]) + '"]:checked');
      out.push(checked ? checked.value : null);
    }
    return out;
  }

  function score(values) {
    var cats = values.map(function (v, j) { return category(j, v); });
    var proba = posterior(cats);
    var order = proba.map(function (p, k) { return k; });
    // largest first; ties keep the model's order, as numpy's argmax does
    order.sort(function (a, b) { return proba[b] - proba[a] || a - b; });
    return {
      probabilities: proba,
      order: order,
      used: cats.filter(function (c) { return c >= 0; }).length,
    };
  }

  // ------------------------------------------------------------------ text
  function t(key, args) {
    var table = C.text[lang] || C.text.en;
    var s = table[key] !== undefined ? table[key] : C.text.en[key];
    if (args) {
      Object.keys(args).forEach(function (name) { s = s.split("{" + name + "}").join(String(args[name])); });
    }
    return s;
  }

  /* One decimal; never "100.0%" or "0.0%" for a probability that only rounds there. */
  function percent(p) {
    if (p < 0.0005) return "<" + percent(0.001);
    if (p >= 0.9995) return ">" + percent(0.999);
    try {
      return new Intl.NumberFormat(lang, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(p);
    } catch (e) {
      return (100 * p).toFixed(1) + "%";
    }
  }

  function setText(id, text) { $(id).textContent = text; }

  function applyLanguage(next) {
    lang = next;
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-t]").forEach(function (el) { el.textContent = t(el.getAttribute("data-t")); });
    if (C.title) setText("title", C.title);
    document.title = C.title || t("title");
    setText("intro", t("intro", { n: N, k: K }));
    C.questions.forEach(function (q, j) {
      var fs = $("q" + j);
      fs.querySelector(".qnum").textContent = t("question_n", { i: j + 1, n: N });
      fs.querySelector(".qtext").textContent = q.text[lang];
      q.options.forEach(function (o) {
        $("q" + j + "-" + o.code).parentNode.querySelector(".olabel").textContent = o.label[lang];
      });
    });
    var about = [];
    if (C.about.accuracy) about.push(t("about_tool", { n: N, acc: C.about.accuracy, items: C.about.of_items }));
    about.push(t("about_scoring"));
    setText("about", about.join(" "));
    setText("made-with", t("made_with", { version: C.about.version, file: C.about.file, checksum: C.about.checksum }));
    if (last) render();
  }

  // ------------------------------------------------------------------ result
  function render() {
    var r = last;
    var best = r.order[0];
    var second = K > 1 ? r.order[1] : null;
    var seg = C.segments[best];
    result.setAttribute("data-segment", seg.name);
    result.setAttribute("data-segment-index", String(best));
    result.setAttribute("data-probabilities", JSON.stringify(r.probabilities));
    result.setAttribute("data-items-used", String(r.used));
    setText("r-name", seg.name);
    setText("r-probability", t("probability", { p: percent(r.probabilities[best]) }));
    setText("r-runner-up", second === null ? "" : t("runner_up", { name: C.segments[second].name, p: percent(r.probabilities[second]) }));
    $("r-low").hidden = !(r.probabilities[best] < 0.5);
    setText("r-used", r.used === 0 ? t("none_answered") : t("used", { used: r.used, n: N }) + (r.used < N ? " " + t("used_note") : ""));

    var card = seg.card;
    setText("r-card-heading", t("profile") + ": " + seg.name);
    setText("r-tagline", card && card.tagline ? card.tagline : "");
    $("r-tagline").hidden = !(card && card.tagline);
    setText("r-share", seg.share === null || seg.share === undefined ? "" : t("share", { name: seg.name, p: percent(seg.share) }));
    var domains = $("r-domains");
    domains.replaceChildren();
    if (card) {
      card.domains.forEach(function (d) {
        var h = document.createElement("h4");
        h.textContent = d.title;
        var ul = document.createElement("ul");
        d.bullets.forEach(function (b) {
          var li = document.createElement("li");
          li.textContent = b;
          ul.appendChild(li);
        });
        domains.appendChild(h);
        domains.appendChild(ul);
      });
    }
    var source;
    if (!card) source = C.segments.some(function (s) { return s.card && s.card.source === "typology"; }) ? t("no_profile") : "";
    else if (card.source === "typology") source = t("from_typology", { reference: card.reference, typology: card.typology, score: card.score });
    else source = t("from_profiles", { file: card.file });
    if (lang !== "en") source = (source ? source + " " : "") + t("english_note");
    setText("r-source", source);
    $("r-source").hidden = !source;

    var list = $("r-all");
    list.replaceChildren();
    r.order.forEach(function (k) {
      var li = document.createElement("li");
      if (k === best) li.className = "best";
      var name = document.createElement("span");
      name.className = "bar-name";
      name.textContent = C.segments[k].name;
      var value = document.createElement("span");
      value.className = "bar-value";
      value.textContent = percent(r.probabilities[k]);
      var track = document.createElement("span");
      track.className = "bar-track";
      track.setAttribute("aria-hidden", "true");
      var fill = document.createElement("span");
      fill.className = "bar-fill";
      fill.style.width = (100 * r.probabilities[k]).toFixed(2) + "%";
      track.appendChild(fill);
      li.appendChild(name);
      li.appendChild(value);
      li.appendChild(track);
      list.appendChild(li);
    });
  }

  function showResult() {
    form.hidden = true;
    result.hidden = false;
    window.scrollTo(0, 0);
    $("result-heading").focus({ preventScroll: true });
  }

  function showForm(reset) {
    if (reset) form.reset();
    result.hidden = true;
    form.hidden = false;
    window.scrollTo(0, 0);
    // back to the first question: its chosen answer, else its first answer
    var first = $("q0");
    (first.querySelector("input:checked") || first.querySelector("input")).focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    last = score(answers());
    render();
    showResult();
  });
  form.addEventListener("reset", function () {
    last = null;
    result.hidden = true;
  });
  $("change").addEventListener("click", function () { showForm(false); });
  $("again").addEventListener("click", function () { showForm(true); });
  var select = $("lang");
  if (select) select.addEventListener("change", function () { applyLanguage(select.value); });

  applyLanguage(lang);
  // for scripted checks: the scoring of this page, without the form
  window.segmentQuiz = { score: score, category: category, posterior: posterior };
})();
