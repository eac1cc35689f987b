/**
 * The report page's frame: escaping, the page skeleton with its scripts
 * (classic `<script src>` tags, since Chromium refuses ES modules and
 * `fetch` over file://), and the page's data as inline JSON.
 *
 * @module
 */

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/**
 * JSON for an inline `<script type="application/json">`: every `<` is
 * written as `\u003c`, so no string in the data can close the script.
 */
export function inlineJson(data: unknown): string {
  return JSON.stringify(data).replaceAll("<", "\\u003c");
}

/** A section of the page, listed in its navigation. */
export interface PageSection {
  readonly id: string;
  readonly title: string;
  readonly html: string;
}

/** What {@linkcode pageHtml} assembles. */
export interface PageParts {
  readonly title: string;
  /** HTML under the title (inputs, counts). */
  readonly summary: string;
  readonly sections: readonly PageSection[];
  /** Scripts under `assets/`, in load order. */
  readonly scripts: readonly string[];
  readonly stylesheet: string;
  readonly data: unknown;
}

/** The whole `index.html`. */
export function pageHtml(parts: PageParts): string {
  const nav = parts.sections.map((s) => `<a href="#${s.id}">${escapeHtml(s.title)}</a>`).join("");
  const sections = parts.sections.map((s) =>
    `<section id="${s.id}">\n<h2>${escapeHtml(s.title)}</h2>\n${s.html}\n</section>`
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(parts.title)}</title>
<link rel="stylesheet" href="assets/${parts.stylesheet}">
</head>
<body>
<header>
<h1>${escapeHtml(parts.title)}</h1>
${parts.summary}
<nav>${nav}</nav>
</header>
<main>
${sections.join("\n")}
</main>
<aside id="provenance" hidden>
<button type="button" class="close" aria-label="close">×</button>
<div class="content"></div>
</aside>
<script type="application/json" id="report-data">${inlineJson(parts.data)}</script>
${parts.scripts.map((s) => `<script src="assets/${s}"></script>`).join("\n")}
</body>
</html>
`;
}
