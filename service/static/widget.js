/* govqa's ask widget. A host page adds it with one element:
 *   <script src="https://govqa.example/widget.js" data-govqa="Ask the documents"></script>
 * and gets an ask box, in place of the script, that shows govqa's cited answer and links each source into
 * govqa's reader. Optional: data-govqa-k (passages, 1–10, default 3), data-govqa-doc (restrict to one doc_id).
 * Nothing is fetched but from govqa's own origin (the script's); no HTML is parsed (text only); styles are a
 * constructed stylesheet in a shadow root, so a strict Content-Security-Policy on the host page (no inline
 * scripts or styles) is no obstacle: the host allows govqa's origin in script-src and connect-src, and govqa
 * allows the host's origin in GOVQA_CORS_ORIGINS. */
(function () {
  "use strict";
  const script = document.currentScript;
  if (!script) return;
  const origin = new URL(script.src).origin;
  const label = script.dataset.govqa || "Ask the documents";
  const k = Math.min(Math.max(parseInt(script.dataset.govqaK || "3", 10) || 3, 1), 10);
  const doc = script.dataset.govqaDoc || "";

  const CSS = `
    :host { all: initial; display: block; font: 15px/1.5 system-ui, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; color: #1b1f24; }
    .box { border: 1px solid #c9d1d9; border-radius: 8px; padding: 12px 14px; background: #fff; max-width: 44rem; }
    form { display: flex; gap: 8px; }
    label { display: block; font-weight: 600; margin-bottom: 6px; }
    input { flex: 1; min-width: 0; font: inherit; padding: 6px 8px; border: 1px solid #8c959f; border-radius: 6px; }
    button { font: inherit; padding: 6px 14px; border: 0; border-radius: 6px; background: #0b5cad; color: #fff; cursor: pointer; }
    button[disabled] { opacity: .6; cursor: progress; }
    .answer { margin: 10px 0 0; }
    .answer blockquote { margin: 0 0 6px; padding-left: 10px; border-left: 3px solid #0b5cad; }
    .answer sup a, .sources a { color: #0b5cad; }
    .none, .error { margin: 10px 0 0; color: #6e4b00; }
    .sources { margin: 8px 0 0; padding-left: 1.4em; font-size: 13px; color: #57606a; }
    .hint { font-size: 12px; color: #57606a; margin: 8px 0 0; }
  `;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    for (const child of children) node.append(child);
    return node;
  }

  function readerLink(p) {
    return `${origin}/?read=${encodeURIComponent(p.doc_id)}&start=${p.start}&end=${p.end}`;
  }

  const host = el("div", { class: "govqa-widget" });
  script.after(host);
  const root = host.attachShadow({ mode: "open" });
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  root.adoptedStyleSheets = [sheet];

  const input = el("input", { type: "text", id: "q", maxlength: "1000", autocomplete: "off" });
  const button = el("button", { type: "submit" }, "Ask");
  const form = el("form", { role: "search" }, input, button);
  const output = el("div", { class: "answer", "aria-live": "polite" });
  root.append(el("div", { class: "box" }, el("label", { for: "q" }, label), form, output));

  function show(...nodes) {
    output.replaceChildren(...nodes);
  }

  function render(body) {
    const parts = [];
    if (body.answer) {
      for (const s of body.answer.sentences) {
        const p = body.passages.find((x) => x.n === s.passage);
        const marker = el("a", { href: readerLink({ doc_id: s.doc_id, start: s.start, end: s.end }), target: "_blank", rel: "noopener", title: p ? p.title : "" }, `[${s.passage}]`);
        parts.push(el("blockquote", { lang: "zh" }, s.display || s.text, " ", el("sup", {}, marker)));
      }
    } else {
      parts.push(el("p", { class: "none" }, "The documents do not answer this. The closest passages:"));
    }
    const cited = new Set(body.answer ? body.answer.sentences.map((s) => s.passage) : body.passages.map((p) => p.n));
    const sources = body.passages.filter((p) => cited.has(p.n)).map((p) =>
      el("li", { value: String(p.n) }, el("a", { href: readerLink(p), target: "_blank", rel: "noopener" }, p.title), p.section && !p.section.includes(p.title) ? ` — ${p.section}` : ""));
    parts.push(el("ol", { class: "sources" }, ...sources));
    parts.push(el("p", { class: "hint" }, "Every sentence is quoted from a document; each link opens it in govqa's reader."));
    show(...parts);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const question = input.value.trim();
    if (!question) return;
    button.disabled = true;
    show(el("p", { class: "hint" }, "Asking…"));
    const body = { question, top_k: k };
    if (doc) body.doc_ids = [doc];
    try {
      const response = await fetch(`${origin}/v1/ask`, {
        method: "POST", mode: "cors", credentials: "omit",
        headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify(body),
      });
      const payload = await response.json().catch(() => null);
      if (!response.ok || !payload) {
        const message = payload && payload.error ? payload.error.message : `govqa answered ${response.status}`;
        show(el("p", { class: "error", role: "alert" }, `Could not ask: ${message}`));
      } else {
        render(payload);
      }
    } catch {
      show(el("p", { class: "error", role: "alert" }, "Could not reach govqa from this page."));
    } finally {
      button.disabled = false;
    }
  });
})();
