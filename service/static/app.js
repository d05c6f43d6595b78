// govqa's page: ask, read a cited answer, check each claim against its source.
// Everything that comes from a question or a document is inserted as text, never as HTML.
"use strict";

(() => {
  const MAX_QUESTION = 1000;
  const DEFAULTS = { mode: "hybrid", k: "5" };
  const MODE_NAMES = { hybrid: "searched by keywords and meaning", keyword: "searched by keywords", dense: "searched by meaning" };
  const $ = (id) => document.getElementById(id);

  const state = {
    documents: new Map(),      // doc_id -> metadata from /v1/documents
    documentsLoad: null,       // the pending or finished load, null after a failure
    answers: new Map(),        // request key -> response, so back/forward and repeats cost nothing
    texts: new Map(),          // doc_id -> whole document text
    inFlight: null,            // { key, controller } of the question being answered
    shown: null,               // the response on screen
    wantedDocs: new Set(),     // documents ticked by the URL, applied once the list is known
    opener: null,              // what opened the reader, to return focus to
    citation: "",
  };

  // ---------- small helpers ----------

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }

  // Offsets from the API count code points (Python), not UTF-16 units.
  function codePoints(text) {
    const points = Array.from(text);
    return { length: points.length, slice: (a, b) => points.slice(a, b).join("") };
  }

  function langOf(docId) {
    const language = (state.documents.get(docId) || {}).language || "zh";
    return language === "zh" ? "zh-Hans" : language;
  }

  function questionLang(text) {
    return /[\u3400-\u9fff]/.test(text) ? "zh" : "en";
  }

  const reducedMotion = () => window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  // ---------- URL <-> form ----------

  function paramsFromUrl() {
    const p = new URLSearchParams(location.search);
    return {
      view: p.get("view") === "documents" ? "documents" : "ask",
      q: p.get("q") || "",
      mode: ["hybrid", "keyword", "dense"].includes(p.get("mode")) ? p.get("mode") : DEFAULTS.mode,
      k: ["3", "5", "10", "20"].includes(p.get("k")) ? p.get("k") : DEFAULTS.k,
      docs: p.getAll("doc"),
      read: p.get("read") || "",
      start: /^\d+$/.test(p.get("start") || "") ? Number(p.get("start")) : null,
      end: /^\d+$/.test(p.get("end") || "") ? Number(p.get("end")) : null,
    };
  }

  function paramsFromForm() {
    const docs = Array.from(document.querySelectorAll("#doc-options input:checked"), (box) => box.value);
    return { view: "ask", q: $("question").value.trim(), mode: $("mode").value, k: $("top-k").value, docs };
  }

  function urlFor(params) {
    const p = new URLSearchParams();
    if (params.view === "documents") p.set("view", "documents");
    if (params.q) p.set("q", params.q);
    if (params.q && params.mode !== DEFAULTS.mode) p.set("mode", params.mode);
    if (params.q && params.k !== DEFAULTS.k) p.set("k", params.k);
    if (params.q) for (const d of params.docs) p.append("doc", d);
    const query = p.toString();
    return query ? `/?${query}` : "/";
  }

  function fillForm(params) {
    $("question").value = params.q;
    $("mode").value = params.mode;
    $("top-k").value = params.k;
    state.wantedDocs = new Set(params.docs);
    for (const box of document.querySelectorAll("#doc-options input")) box.checked = state.wantedDocs.has(box.value);
    if (params.mode !== DEFAULTS.mode || params.k !== DEFAULTS.k || params.docs.length) $("filters").open = true;
    updateCount();
    updateFilterSummary();
  }

  function updateCount() {
    const n = Array.from($("question").value.trim()).length;
    const count = $("question-count");
    count.textContent = n > MAX_QUESTION ? `${n} / ${MAX_QUESTION}: too long` : `${n} / ${MAX_QUESTION}`;
    count.classList.toggle("over", n > MAX_QUESTION);
  }

  function updateFilterSummary() {
    const ticked = document.querySelectorAll("#doc-options input:checked").length;
    const docs = ticked ? `${ticked} document${ticked > 1 ? "s" : ""}` : "all documents";
    $("filter-summary").textContent = `${$("mode").value} · ${docs} · ${$("top-k").value} passages`;
  }

  // ---------- views ----------

  function showView(view) {
    $("ask-view").hidden = view !== "ask";
    $("documents-view").hidden = view !== "documents";
    for (const link of document.querySelectorAll("nav.views a")) {
      if (link.dataset.view === view) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    if (view === "documents") {
      document.title = "Documents — govqa";
      loadDocuments();
    }
  }

  function applyLocation() {
    const params = paramsFromUrl();
    fillForm(params);
    showView(params.view);
    if (params.read) openReaderAt(params.read, params.start, params.end);
    if (params.view !== "ask") return;
    if (params.q) {
      ask(params);
    } else {
      abortInFlight();
      clearResults();
      document.title = "govqa — ask the documents";
    }
  }

  function navigate(url) {
    if (url !== location.pathname + location.search) history.pushState(null, "", url);
    applyLocation();
  }

  // ---------- asking ----------

  function requestBody(params) {
    const body = { question: params.q, top_k: Number(params.k), mode: params.mode };
    if (params.docs.length) body.doc_ids = params.docs.slice().sort();
    return body;
  }

  function abortInFlight() {
    if (state.inFlight) state.inFlight.controller.abort();
    state.inFlight = null;
    setBusy(false);
  }

  function setBusy(busy) {
    $("results").setAttribute("aria-busy", String(busy));
    $("ask-form").classList.toggle("busy", busy);
    $("ask-button").setAttribute("aria-disabled", String(busy));
    $("ask-button").textContent = busy ? "Asking…" : "Ask";
    if (busy) $("status").replaceChildren(el("span", { class: "spinner", "aria-hidden": "true" }), "Looking through the documents…");
    else if ($("status").querySelector(".spinner")) $("status").replaceChildren();
  }

  function announce(text) {
    $("status").replaceChildren(el("span", { class: "visually-hidden" }, text));
  }

  // A question enters the history once it is answered: a rejected one (too long, a server error) does not.
  function remember(params) {
    const url = urlFor(params);
    if (url !== location.pathname + location.search) history.pushState(null, "", url);
  }

  async function ask(params, record = false) {
    const body = requestBody(params);
    const key = JSON.stringify(body);
    if (state.inFlight && state.inFlight.key === key) return;   // a double submit sends one request
    abortInFlight();
    hideError();
    if (state.answers.has(key)) {
      if (record) remember(params);
      render(state.answers.get(key));
      return;
    }
    const controller = new AbortController();
    state.inFlight = { key, controller };
    setBusy(true);
    const documentsReady = loadDocuments();   // dates and authors of the passages
    try {
      const response = await fetch("/v1/ask", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: key,
        signal: controller.signal,
      });
      const payload = await readJson(response);
      if (state.inFlight === null || state.inFlight.key !== key) return;
      if (!response.ok) {
        clearResults();
        showError(describeError(response, payload, body.question));
        return;
      }
      state.answers.set(key, payload);
      await documentsReady;
      if (state.inFlight === null || state.inFlight.key !== key) return;
      if (record) remember(params);
      render(payload);
    } catch (error) {
      if (error.name === "AbortError") return;
      clearResults();
      showError({ title: "Could not reach govqa", message: "Check that the server is running, then ask again." });
    } finally {
      if (state.inFlight && state.inFlight.key === key) {
        state.inFlight = null;
        setBusy(false);
      }
    }
  }

  async function readJson(response) {
    try {
      return await response.json();
    } catch {
      return null;
    }
  }

  function describeError(response, payload, question) {
    const error = payload && typeof payload.error === "object" ? payload.error : null;
    let message = error && typeof error.message === "string" ? error.message : "";
    message = message.replace(/\bValue error, /, "").replace(/^question: question /, "The question ");
    const length = Array.from(question || "").length;
    switch (response.status) {
      case 422: {
        const tooLong = length > MAX_QUESTION;
        return {
          title: tooLong ? "This question is too long" : "The question could not be asked",
          message: tooLong ? `Questions may have at most ${MAX_QUESTION} characters; this one has ${length}. Shorten it and ask again.` : message,
          detail: tooLong ? message : "",
        };
      }
      case 413:
        return {
          title: "This question is too large to send",
          message: `Questions may have at most ${MAX_QUESTION} characters; this one has ${length}.`,
          detail: message,
        };
      case 503:
        return {
          title: "govqa cannot answer right now",
          message: message || "The service is busy or still loading its documents.",
          detail: "Try again in a moment.",
        };
      default:
        return {
          title: `The server could not answer (${response.status} ${response.statusText})`.trim(),
          message: message || "Something went wrong while answering.",
        };
    }
  }

  function showError({ title, message, detail }) {
    const box = $("error");
    box.replaceChildren(el("p", { class: "error-title" }, title));
    if (message) box.append(el("p", {}, message));
    if (detail) box.append(el("p", { class: "hint" }, detail));
    box.hidden = false;
  }

  function hideError() {
    $("error").hidden = true;
    $("error").replaceChildren();
  }

  function clearResults() {
    state.shown = null;
    hideTip();
    $("answer-section").hidden = true;
    $("passages-section").hidden = true;
    $("answer").replaceChildren();
    $("passages").replaceChildren();
    $("asked").replaceChildren();
  }

  // ---------- rendering an answer ----------

  function render(response) {
    hideTip();
    state.shown = response;
    const question = response.question;
    document.title = `${question} — govqa`;
    $("asked").replaceChildren("Question: ", el("q", { lang: questionLang(question) }, question),
      el("span", { class: "hint" }, ` · ${MODE_NAMES[response.mode] || response.mode}`));

    const answer = $("answer");
    answer.replaceChildren();
    if (response.answer) {
      answer.append(answerParagraph(response), confidenceLine(response.answer.confidence));
    } else {
      answer.append(el("p", { class: "abstain" }, "The documents do not answer this."));
      if (response.abstain_reasons.length) {
        answer.append(el("ul", { class: "reasons", "aria-label": "Why" },
          ...response.abstain_reasons.map((r) => el("li", {}, r))));
      }
      answer.append(el("p", { class: "hint" }, response.passages.length
        ? "The closest passages are listed below." : "No passage came close."));
    }
    $("answer-heading").textContent = response.answer ? "Answer" : "No answer";
    $("answer-section").hidden = false;

    const cited = new Map();
    for (const s of (response.answer ? response.answer.sentences : [])) {
      if (!cited.has(s.passage)) cited.set(s.passage, new Set());
      cited.get(s.passage).add(`${s.start}:${s.end}`);
    }
    $("passages-heading").textContent = response.answer ? "Passages" : "Closest passages";
    $("passages").replaceChildren(...response.passages.map((p) => passageItem(p, cited.get(p.n) || new Set())));
    $("passages-section").hidden = response.passages.length === 0;
    if (state.inFlight) {
      state.inFlight = null;
      setBusy(false);
    }
    announce(response.answer
      ? `Answer ready, with ${response.passages.length} passages.`
      : `The documents do not answer this; ${response.passages.length} closest passages listed.`);
  }

  function answerParagraph(response) {
    const sentences = response.answer.sentences;
    const paragraph = el("p", { class: "answer-text", lang: langOf(sentences.length ? sentences[0].doc_id : "") });
    sentences.forEach((s, i) => {
      const passage = response.passages.find((p) => p.n === s.passage);
      const source = passage ? `${passage.title}${passage.section ? `, ${passage.section}` : ""}` : "";
      paragraph.append(
        el("span", { class: "answer-sentence", id: `answer-sentence-${i}` }, s.text.trim()),
        "\u2009",
        el("a", {
          class: "cite", href: `#passage-${s.passage}`, dataset: { sentence: String(i) },
          "aria-describedby": `cite-source-${i}`,
          onclick: (event) => { event.preventDefault(); goToPassage(s); },
          onmouseenter: (event) => showTip(event.currentTarget, s, passage),
          onfocus: (event) => showTip(event.currentTarget, s, passage),
          onmouseleave: () => { if (document.activeElement.dataset.sentence === undefined) hideTip(); },
          onblur: hideTip,
        }, `[${s.passage}]`),
        el("span", { class: "visually-hidden", id: `cite-source-${i}` }, `Source: passage ${s.passage}, ${source}`),
        " ",
      );
    });
    return paragraph;
  }

  function confidenceLine(confidence) {
    return el("p", { class: "hint confidence" },
      `${Math.round(confidence * 100)}% of the question's key terms appear in the cited passages. Every sentence above is quoted exactly; hover, focus or click a marker to check it.`);
  }

  function passageItem(p, citedSpans) {
    const lang = langOf(p.doc_id);
    const doc = state.documents.get(p.doc_id);
    const author = passageAuthor(p.author, doc ? doc.authors : []);
    const meta = el("p", { class: "passage-meta" });
    const field = (label, value, valueLang) => {
      if (!value) return;
      meta.append(el("span", { class: "field" }, el("span", { class: "label" }, `${label} `), el("span", { lang: valueLang }, value)));
    };
    field("Author", author, lang);
    field("Section", p.section, lang);
    field("Date", doc ? doc.date : "", null);

    const item = el("li", {},
      el("article", {
        class: "passage", id: `passage-${p.n}`, tabindex: "-1", "aria-labelledby": `passage-${p.n}-title`,
        dataset: { n: String(p.n), docId: p.doc_id, start: String(p.start), end: String(p.end) },
      },
      el("h3", { class: "passage-title", id: `passage-${p.n}-title` },
        el("span", { class: "badge" }, `[${p.n}]`), " ", el("span", { lang }, p.title)),
      meta,
      el("p", { class: "passage-text", lang }, ...highlighted(p, citedSpans)),
      el("div", { class: "passage-actions" },
        el("button", {
          type: "button", class: "show-in-document", "aria-label": `Show passage ${p.n} in its document`,
          onclick: () => openReader(p.doc_id, p),
        }, "Show in document"))));
    return item;
  }

  // A section's own byline (an essay's authors), unless it only repeats the document's authors.
  function passageAuthor(byline, documentAuthors) {
    if (byline && !(documentAuthors.length && documentAuthors.every((a) => byline.includes(a)))) return byline;
    return documentAuthors.join("、");
  }

  // The passage's text with its evidence sentences (document offsets) as <mark>s.
  // A Markdown link to nowhere ("[《…》](#)", left by an HTML conversion) reads as its label; a link to a real
  // address stays as written (service/display.py does the same for the API's display fields).
  const EMPTY_LINK = /(?<!!)\[([^\[\]\n]{1,200})\]\(\s*(?:#[^()\s]*|javascript:[^()]*)?\s*\)/g;
  function readable(text) {
    return text.replace(EMPTY_LINK, "$1");
  }

  function highlighted(p, citedSpans, clean = true) {
    const shown = clean ? readable : (text) => text;
    const text = codePoints(p.text);
    const spans = p.highlights
      .map((h) => ({ start: Math.max(h.start, p.start), end: Math.min(h.end, p.end) }))
      .filter((h) => h.start < h.end)
      .sort((a, b) => a.start - b.start || b.end - a.end);
    const parts = [];
    let at = p.start;
    for (const h of spans) {
      if (h.start < at) continue;   // overlapping: the first one wins
      if (h.start > at) parts.push(text.slice(at - p.start, h.start - p.start));
      const cited = citedSpans.has(`${h.start}:${h.end}`);
      parts.push(el("mark", { class: cited ? "evidence cited" : "evidence", dataset: { start: String(h.start), end: String(h.end) } },
        shown(text.slice(h.start - p.start, h.end - p.start))));
      at = h.end;
    }
    if (at < p.end) parts.push(text.slice(at - p.start, text.length));
    return parts.map((part) => (typeof part === "string" ? shown(part) : part));
  }

  function goToPassage(sentence) {
    hideTip();
    const article = $(`passage-${sentence.passage}`);
    if (!article) return;
    for (const old of document.querySelectorAll(".passage.targeted, mark.flash")) old.classList.remove("targeted", "flash");
    article.classList.add("targeted");
    const mark = article.querySelector(`mark[data-start="${sentence.start}"][data-end="${sentence.end}"]`);
    if (mark) mark.classList.add("flash");
    article.scrollIntoView({ block: "start", behavior: reducedMotion() ? "auto" : "smooth" });
    article.focus({ preventScroll: true });
  }

  // ---------- citation tooltip ----------

  function showTip(anchor, sentence, passage) {
    const tip = $("cite-tip");
    const lang = langOf(sentence.doc_id);
    tip.replaceChildren(
      el("span", { class: "tip-quote", lang }, sentence.text.trim()),
      el("span", { class: "tip-source" },
        el("span", {}, `[${sentence.passage}] `),
        el("span", { lang }, passage ? passage.title : sentence.doc_id),
        passage && passage.section ? el("span", { lang }, ` · ${passage.section}`) : null),
    );
    tip.hidden = false;
    const anchorBox = anchor.getBoundingClientRect();
    const width = Math.min(tip.offsetWidth, window.innerWidth - 16);
    const left = Math.min(Math.max(8, anchorBox.left + anchorBox.width / 2 - width / 2), window.innerWidth - width - 8);
    const below = anchorBox.bottom + 8;
    const top = below + tip.offsetHeight > window.innerHeight && anchorBox.top - tip.offsetHeight - 8 > 0
      ? anchorBox.top - tip.offsetHeight - 8 : below;
    tip.style.left = `${left + window.scrollX}px`;
    tip.style.top = `${top + window.scrollY}px`;
  }

  function hideTip() {
    $("cite-tip").hidden = true;
  }

  // ---------- reader ----------

  async function documentText(docId) {
    if (!state.texts.has(docId)) {
      const response = await fetch(`/v1/documents/${encodeURIComponent(docId)}/text`, { headers: { accept: "application/json" } });
      const payload = await readJson(response);
      if (!response.ok) throw describeError(response, payload, "");
      state.texts.set(docId, payload.text);
    }
    return state.texts.get(docId);
  }

  async function openReader(docId, passage) {
    state.opener = document.activeElement;
    hideTip();
    const reader = $("reader");
    reader.hidden = false;
    document.body.classList.add("reading");
    await loadDocuments();
    const doc = state.documents.get(docId) || { doc_id: docId, title: docId, authors: [], date: null, publisher: null, language: "zh", url: null };
    const lang = langOf(docId);
    $("reader-title").replaceChildren(el("span", { lang }, doc.title));
    $("reader-meta").replaceChildren(...documentMeta(doc, lang));
    $("reader-text").replaceChildren();
    $("reader-text").setAttribute("lang", lang);
    $("reader-status").textContent = "Loading the document…";
    let text;
    try {
      text = await documentText(docId);
    } catch (error) {
      $("reader-status").textContent = `${error.title || "Could not load the document"}. ${error.message || ""}`;
      return;
    }
    const points = codePoints(text);
    const start = passage ? passage.start : 0;
    const end = passage ? passage.end : points.length;
    const parts = [];
    let hit = null;
    if (passage) {
      hit = el("mark", { class: "reader-hit", id: "reader-hit", tabindex: "-1", dataset: { start: String(start), end: String(end) } },
        ...highlighted({ ...passage, text: points.slice(start, end) }, new Set(), false));
      parts.push(points.slice(0, start), hit, points.slice(end, points.length));
    } else {
      parts.push(text);
    }
    $("reader-text").replaceChildren(...parts);
    $("reader-status").textContent = passage
      ? `Showing ${passage.n ? `passage ${passage.n}, ` : ""}characters ${start}–${end} of ${points.length}.`
      : `${points.length} characters.`;

    const where = `${location.origin}/?read=${encodeURIComponent(docId)}&start=${start}&end=${end}`;
    const distinct = passage && passage.section && !passage.section.includes(doc.title) && passage.section !== doc.title;
    const section = distinct ? `, ${passage.section}` : "";
    state.citation = `${doc.title}${section}, characters ${start}–${end}. ${where}`;
    $("citation").textContent = state.citation;

    const body = $("reader-body");
    if (hit) {
      body.scrollTop = Math.max(0, hit.offsetTop - body.offsetTop - body.clientHeight / 4);
      hit.focus({ preventScroll: true });
    } else {
      body.scrollTop = 0;
      $("reader-title").focus({ preventScroll: true });
    }
    if (window.matchMedia("(min-width: 1100px)").matches) reader.scrollIntoView({ block: "nearest" });
  }

  // The reader opened from a link (?read=doc_id&start=&end=), as citations and the ask widget make them.
  async function openReaderAt(docId, start, end) {
    let text;
    try {
      text = await documentText(docId);
    } catch {
      showError({ title: "No such document", message: "The link names a document this corpus does not have." });
      return;
    }
    const length = codePoints(text).length;
    const from = start === null ? 0 : Math.min(start, length);
    const to = end === null || end < from ? length : Math.min(end, length);
    openReader(docId, start === null && end === null ? null : { n: null, start: from, end: to, section: "", highlights: [] });
  }

  function documentMeta(doc, lang) {
    const parts = [];
    const add = (label, value, valueLang) => {
      if (!value) return;
      parts.push(el("span", { class: "field" }, el("span", { class: "label" }, `${label} `), el("span", { lang: valueLang }, value)));
    };
    add("By", doc.authors && doc.authors.join("、"), lang);
    add("Date", doc.date, null);
    add("Publisher", doc.publisher, lang);
    return parts;
  }

  function closeReader() {
    $("reader").hidden = true;
    document.body.classList.remove("reading");
    const opener = state.opener;
    state.opener = null;
    if (opener && document.contains(opener)) opener.focus();
  }

  async function copyCitation() {
    const status = $("reader-status");
    try {
      await navigator.clipboard.writeText(state.citation);
      status.textContent = "Citation copied.";
    } catch {
      const range = document.createRange();
      range.selectNodeContents($("citation"));
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      status.textContent = "The citation is selected: copy it with Ctrl+C or ⌘C.";
    }
  }

  // ---------- documents ----------

  function loadDocuments() {
    if (state.documentsLoad) return state.documentsLoad;
    state.documentsLoad = (async () => {
      const response = await fetch("/v1/documents", { headers: { accept: "application/json" } });
      const payload = await readJson(response);
      if (!response.ok) throw describeError(response, payload, "");
      for (const d of payload.documents) state.documents.set(d.doc_id, d);
      renderDocumentOptions();
      renderDocumentsList();
    })().catch((error) => {
      state.documentsLoad = null;
      const message = `${error.title || "Could not load the documents"}. ${error.message || ""}`;
      $("doc-options").replaceChildren(el("p", { class: "hint" }, message));
      $("documents-summary").textContent = message;
    });
    return state.documentsLoad;
  }

  function renderDocumentOptions() {
    const options = Array.from(state.documents.values(), (d) => {
      const id = `doc-option-${d.doc_id}`;
      return el("div", { class: "doc-option" },
        el("input", { type: "checkbox", id, value: d.doc_id, checked: state.wantedDocs.has(d.doc_id), onchange: updateFilterSummary }),
        el("label", { for: id }, el("span", { lang: langOf(d.doc_id) }, d.title), d.date ? el("span", { class: "hint" }, ` (${d.date})`) : null));
    });
    $("doc-options").replaceChildren(...options);
    updateFilterSummary();
  }

  function renderDocumentsList() {
    const docs = Array.from(state.documents.values());
    const chars = docs.reduce((sum, d) => sum + d.chars, 0);
    $("documents-summary").textContent = `${docs.length} documents, ${chars.toLocaleString("en")} characters, ${docs.reduce((s, d) => s + d.chunks, 0)} passages.`;
    $("documents-list").replaceChildren(...docs.map((d) => {
      const lang = langOf(d.doc_id);
      const rows = [
        ["Authors", d.authors.join("、"), lang], ["Date", d.date, null], ["Publisher", d.publisher, lang],
        ["Language", d.language, null], ["Length", `${d.chars.toLocaleString("en")} characters, ${d.chunks} passages`, null],
        ["Id", d.doc_id, null], ["Source", d.url, null],
      ].filter(([, value]) => value);
      return el("li", {},
        el("article", { class: "document", "aria-labelledby": `document-${d.doc_id}` },
          el("h2", { id: `document-${d.doc_id}`, lang }, d.title),
          el("dl", {}, ...rows.flatMap(([label, value, valueLang]) => [el("dt", {}, label), el("dd", { lang: valueLang }, value)])),
          el("div", { class: "document-actions" },
            el("button", { type: "button", onclick: () => openReader(d.doc_id, null), "aria-label": `Read ${d.title}` }, "Read"),
            el("button", { type: "button", class: "ghost", onclick: () => askWithin(d.doc_id), "aria-label": `Ask about ${d.title} only` },
              "Ask about this document only"))));
    }));
  }

  function askWithin(docId) {
    state.wantedDocs = new Set([docId]);
    navigate("/");
    for (const box of document.querySelectorAll("#doc-options input")) box.checked = box.value === docId;
    $("filters").open = true;
    updateFilterSummary();
    $("question").focus();
  }

  // ---------- wiring ----------

  function onSubmit(event) {
    event.preventDefault();
    const params = paramsFromForm();
    if (!params.q) {
      showError({ title: "Type a question first", message: "For example: 首尔峰会的主题是什么？" });
      $("question").focus();
      return;
    }
    showView("ask");
    ask(params, true);
  }

  function init() {
    const question = $("question");
    $("ask-form").addEventListener("submit", onSubmit);
    question.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        $("ask-form").requestSubmit();
      }
    });
    question.addEventListener("input", updateCount);
    $("mode").addEventListener("change", updateFilterSummary);
    $("top-k").addEventListener("change", updateFilterSummary);
    $("reader-close").addEventListener("click", closeReader);
    $("copy-citation").addEventListener("click", copyCitation);
    $("reader").addEventListener("keydown", (event) => { if (event.key === "Escape") closeReader(); });
    document.addEventListener("keydown", (event) => { if (event.key === "Escape") hideTip(); });
    window.addEventListener("resize", hideTip);
    for (const link of document.querySelectorAll("a[data-view]")) {
      link.addEventListener("click", (event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(link.dataset.view === "documents" ? "/?view=documents" : "/");
      });
    }
    window.addEventListener("popstate", applyLocation);
    loadDocuments();
    applyLocation();
  }

  init();
})();
