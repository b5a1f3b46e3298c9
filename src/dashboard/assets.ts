// The dashboard's two static files: htmx (from node_modules, read once at start, no CDN) and
// the stylesheet. Both are served under /dashboard/assets with a version in the URL.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

export interface Asset {
  body: Buffer
  type: string
  /** Short content hash, used as the cache-busting query string. */
  version: string
}

const hash = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 12)

function asset(body: Buffer, type: string): Asset {
  return { body, type, version: hash(body) }
}

export function loadHtmx(): Asset {
  const path = createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js')
  return asset(readFileSync(path), 'text/javascript; charset=utf-8')
}

const css = `
:root { --fg:#1d2330; --muted:#5b6475; --bg:#f6f7f9; --card:#fff; --line:#d9dde5; --accent:#1f5fd1;
  --ok:#17803d; --bad:#c62828; --warn:#a15c00; --idle:#6b7280; --focus:#ffbf47; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--fg);
  background: var(--bg); font-size: 15px; line-height: 1.45; }
body { margin: 0; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible,
summary:focus-visible, [tabindex]:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px;
  box-shadow: 0 0 0 5px var(--fg); }
.skip { position: absolute; left: -9999px; top: 0; background: var(--fg); color: #fff; padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; top: .5rem; }
header.top { background: var(--fg); color: #fff; }
header.top .bar { display: flex; gap: 1.5rem; align-items: center; max-width: 72rem; margin: 0 auto; padding: .6rem 1rem; flex-wrap: wrap; }
header.top .brand { font-weight: 700; color: #fff; text-decoration: none; font-size: 1.1rem; }
header.top nav ul { display: flex; gap: 1rem; list-style: none; margin: 0; padding: 0; flex-wrap: wrap; }
header.top nav a { color: #dfe6f3; text-decoration: none; padding: .2rem .1rem; }
header.top nav a[aria-current="page"] { color: #fff; border-bottom: 2px solid #fff; }
header.top .who { margin-left: auto; display: flex; gap: .75rem; align-items: center; color: #c5cedd; font-size: .9rem; }
header.top .who button { background: transparent; color: #fff; border: 1px solid #8a94a6; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem 1rem 3rem; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 1rem; margin: 0 0 1rem; }
.card > h2:first-child, .card > h3:first-child, .card > form > h3:first-of-type { margin-top: 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: 1rem; }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .85rem; color: var(--muted); font-weight: 600; }
caption { text-align: left; font-weight: 600; padding: .4rem 0; }
details > summary { cursor: pointer; padding: .2rem 0; }
.table-wrap { overflow-x: auto; }
code, pre { font-family: "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace; font-size: .85rem; }
code { overflow-wrap: anywhere; }
pre { background: #f0f2f6; border: 1px solid var(--line); padding: .6rem; overflow: auto; max-height: 24rem; white-space: pre-wrap; overflow-wrap: anywhere; }
label { display: block; font-weight: 600; margin: .6rem 0 .2rem; }
label.inline { display: inline-flex; gap: .4rem; align-items: center; font-weight: normal; }
input[type=text], input[type=password], input[type=url], input[type=datetime-local], input[type=number], select {
  font: inherit; padding: .4rem .5rem; border: 1px solid #8a94a6; border-radius: 4px; width: 100%; max-width: 36rem; background: #fff; }
button, .button { font: inherit; padding: .4rem .9rem; border-radius: 4px; border: 1px solid var(--accent);
  background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.danger { background: #fff; color: var(--bad); border-color: var(--bad); }
button:disabled { opacity: .55; cursor: not-allowed; }
.actions { display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; margin: .75rem 0; }
.actions form { margin: 0; }
.filters { display: flex; gap: 1rem; flex-wrap: wrap; align-items: flex-end; margin-bottom: .75rem; }
.filters label { margin-top: 0; }
.filters select { width: auto; }
.hint { color: var(--muted); font-size: .9rem; margin: .2rem 0; }
.notice { border-left: 4px solid var(--ok); background: #eaf6ee; padding: .6rem .8rem; margin: 0 0 1rem; }
.error { border-left: 4px solid var(--bad); background: #fdecec; padding: .6rem .8rem; margin: 0 0 1rem; }
.secret { border-left: 4px solid var(--warn); background: #fff6e6; padding: .6rem .8rem; margin: 0 0 1rem; }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: 999px; font-size: .8rem; font-weight: 600; border: 1px solid; }
.s-delivered, .s-active, .s-ok { color: var(--ok); border-color: var(--ok); }
.s-failed, .s-bad { color: var(--bad); border-color: var(--bad); }
.s-pending, .s-warn { color: var(--warn); border-color: var(--warn); }
.s-cancelled, .s-inactive { color: var(--idle); border-color: var(--idle); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.chart svg { width: 100%; height: auto; max-width: 48rem; display: block; }
.chart .legend { display: flex; gap: 1rem; flex-wrap: wrap; font-size: .85rem; margin: .3rem 0; }
.chart .key { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: -1px; }
.k-delivered { background: var(--ok); } .k-failed { background: var(--bad); }
.k-pending { background: #e0a400; } .k-cancelled { background: var(--idle); }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.htmx-request { opacity: .7; }
`

export function dashboardCss(): Asset {
  return asset(Buffer.from(css, 'utf8'), 'text/css; charset=utf-8')
}
