// The dashboard's static files: htmx (from node_modules, read once at start, no CDN), the
// stylesheet and the copy buttons' script. All are served under /dashboard/assets with a version
// in the URL (the CSP allows scripts and styles from the same origin only: nothing inline).
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
main > * { max-width: 100%; }
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
/* The destination form (views/destination-fields.tsx): a type's fields show only while it is chosen. */
.dest-fields { border: 1px solid var(--line); border-radius: 6px; margin: .5rem 0 1rem; padding: .25rem .75rem .5rem; }
form:has(select[name="destination_type"] option:checked:not([value="amqp"])) .dest-fields[data-type="amqp"],
form:has(select[name="destination_type"] option:checked:not([value="nats"])) .dest-fields[data-type="nats"],
form:has(select[name="destination_type"] option:checked:not([value="redis"])) .dest-fields[data-type="redis"] { display: none; }
.table-wrap { overflow-x: auto; }
code, pre { font-family: "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace; font-size: .85rem; }
code { overflow-wrap: anywhere; }
td code.id { white-space: nowrap; }
table.pairs td:first-child { width: 30%; }
pre { background: #f0f2f6; border: 1px solid var(--line); padding: .6rem; overflow: auto; max-height: 24rem; white-space: pre-wrap; overflow-wrap: anywhere; }
label { display: block; font-weight: 600; margin: .6rem 0 .2rem; }
label.inline { display: inline-flex; gap: .4rem; align-items: center; font-weight: normal; }
input[type=text], input[type=password], input[type=url], input[type=datetime-local], input[type=number], select {
  font: inherit; padding: .4rem .5rem; border: 1px solid #8a94a6; border-radius: 4px; width: 100%; max-width: 36rem; background: #fff; }
textarea { font-family: "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace; font-size: .85rem; padding: .4rem .5rem;
  border: 1px solid #8a94a6; border-radius: 4px; width: 100%; max-width: 48rem; box-sizing: border-box; background: #fff; }
textarea.code { min-height: 10rem; max-width: none; }
button, .button { font: inherit; padding: .4rem .9rem; border-radius: 4px; border: 1px solid var(--accent);
  background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.danger { background: #fff; color: var(--bad); border-color: var(--bad); }
button:disabled { opacity: .55; cursor: not-allowed; }
.actions { display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; margin: .75rem 0; }
.actions form { margin: 0; }
.filters { display: flex; gap: 1rem; flex-wrap: wrap; align-items: flex-end; margin-bottom: .75rem; }
.filters label { margin-top: 0; }
.filters > div { min-width: 0; max-width: 100%; }
.filters select { width: auto; max-width: 100%; }
.hint { color: var(--muted); font-size: .9rem; margin: .2rem 0; }
.notice { border-left: 4px solid var(--ok); background: #eaf6ee; padding: .6rem .8rem; margin: 0 0 1rem; }
.error { border-left: 4px solid var(--bad); background: #fdecec; padding: .6rem .8rem; margin: 0 0 1rem; }
.secret { border-left: 4px solid var(--warn); background: #fff6e6; padding: .6rem .8rem; margin: 0 0 1rem; }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: 999px; font-size: .8rem; font-weight: 600; border: 1px solid; }
.s-delivered, .s-active, .s-ok { color: var(--ok); border-color: var(--ok); }
.s-failed, .s-bad { color: var(--bad); border-color: var(--bad); }
.s-pending, .s-warn { color: var(--warn); border-color: var(--warn); }
.s-cancelled, .s-inactive { color: var(--idle); border-color: var(--idle); }
dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .25rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.chart svg { width: 100%; height: auto; max-width: 48rem; display: block; }
.chart .legend { display: flex; gap: 1rem; flex-wrap: wrap; font-size: .85rem; margin: .3rem 0; }
.chart .key { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: -1px; }
.k-delivered { background: var(--ok); } .k-failed { background: var(--bad); }
.k-pending { background: #e0a400; } .k-cancelled { background: var(--idle); }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.htmx-request { opacity: .7; }
.head { display: flex; gap: .5rem 1rem; align-items: baseline; justify-content: space-between; flex-wrap: wrap; }
.head > h2, .head > h3 { margin: 0; }
.card > .head:first-child { margin-bottom: .5rem; }
button.copy { font-size: .85rem; padding: .15rem .6rem; background: #fff; color: var(--accent); }
button.copy.copied { color: var(--ok); border-color: var(--ok); }
.copyable { display: inline-flex; max-width: 100%; gap: .5rem; align-items: baseline; }
.copyable > :first-child { flex: 0 1 auto; min-width: 0; }
.copyable > .pre { align-self: flex-start; }
.copyable > button { flex: none; }
.secret pre, .secret code { background: #fff; }
ol.steps { padding-left: 1.4rem; margin: .5rem 0; }
ol.steps li { margin: .4rem 0; }
fieldset { border: 0; padding: 0; margin: 0 0 .75rem; min-width: 0; }
legend { font-weight: 600; padding: 0; margin: 0 0 .3rem; }
.choices { display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; }
/* The custom range's fields only when it is chosen (browsers without :has() show them always). */
form:has(input[name=range][value=custom]:not(:checked)) .custom-range { display: none; }
table + form, table + .card, table + p { margin-top: 1rem; }
.data { font-size: .8rem; color: var(--muted); }
/* Phone widths: table rows become cards, each cell labelled by its column (data-label). */
@media (max-width: 48rem) {
  main { padding: .75rem .75rem 2.5rem; }
  h1 { font-size: 1.3rem; overflow-wrap: anywhere; }
  .card { padding: .75rem; }
  header.top .bar { gap: .5rem 1rem; padding: .5rem .75rem; }
  header.top .who { margin-left: 0; }
  table.stack thead { display: none; }
  table.stack, table.stack tbody, table.stack tr { display: block; width: 100%; }
  table.stack { background: transparent; }
  table.stack tr { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .35rem .6rem; margin: 0 0 .6rem; }
  table.stack td { display: flow-root; border: 0; padding: .2rem 0 .2rem 6.75rem; }
  table.stack td::before { content: attr(data-label); float: left; width: 6.25rem; margin: .1rem 0 0 -6.75rem;
    color: var(--muted); font-size: .8rem; font-weight: 600; line-height: 1.3; }
  table.stack td[data-label=""] { padding-left: 0; }
  table.stack td code.id { white-space: normal; }
  dl.facts { grid-template-columns: minmax(0, 1fr); gap: 0; }
  dl.facts dd { margin: 0 0 .45rem; }
}
`

export function dashboardCss(): Asset {
  return asset(Buffer.from(css, 'utf8'), 'text/css; charset=utf-8')
}

/**
 * Copy buttons, the dashboard's only script besides htmx. A button carries what it copies:
 * data-copy (a short value such as a key) or data-copy-b64 (the exact bytes of a payload, which
 * HTML text would not keep: the parser turns CRLF into LF). Buttons are rendered hidden and shown
 * here, so that a page without JavaScript shows no dead button.
 */
const script = `(function () {
  'use strict'
  var selector = 'button[data-copy], button[data-copy-b64]'
  function textOf(b) {
    var b64 = b.getAttribute('data-copy-b64')
    if (b64 === null) return b.getAttribute('data-copy') || ''
    var bin = atob(b64)
    var bytes = new Uint8Array(bin.length)
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
    return new TextDecoder('utf-8').decode(bytes)
  }
  // Without the Clipboard API (a page served over plain http to another host): a copy command
  // whose data we set ourselves, so that the text is exact too.
  function viaCommand(text) {
    var done = false
    function onCopy(e) { e.clipboardData.setData('text/plain', text); e.preventDefault(); done = true }
    document.addEventListener('copy', onCopy)
    try { document.execCommand('copy') } finally { document.removeEventListener('copy', onCopy) }
    return done ? Promise.resolve() : Promise.reject(new Error('copy refused'))
  }
  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return viaCommand(text) })
    }
    return viaCommand(text)
  }
  function announce(message) {
    var live = document.getElementById('copy-status')
    if (live) live.textContent = message
  }
  function reveal(root) {
    var list = root.querySelectorAll ? root.querySelectorAll(selector) : []
    for (var i = 0; i < list.length; i++) list[i].hidden = false
  }
  document.addEventListener('click', function (e) {
    var b = e.target && e.target.closest ? e.target.closest(selector) : null
    if (!b) return
    var idle = b.getAttribute('data-idle') || b.textContent
    b.setAttribute('data-idle', idle)
    var what = b.getAttribute('aria-label') || idle
    copy(textOf(b)).then(function () {
      b.textContent = 'Copied'
      b.classList.add('copied')
      var thing = what.replace(/^Copy /, '')
      announce(thing.charAt(0).toUpperCase() + thing.slice(1) + ' copied to the clipboard')
    }, function () {
      b.textContent = 'Copy failed'
      announce('Copying failed: select the text and copy it by hand')
    })
    setTimeout(function () { b.textContent = idle; b.classList.remove('copied') }, 2500)
  })
  document.addEventListener('DOMContentLoaded', function () { reveal(document) })
  document.addEventListener('htmx:load', function (e) { reveal(e.target) })
})()
`

export function dashboardScript(): Asset {
  return asset(Buffer.from(script, 'utf8'), 'text/javascript; charset=utf-8')
}
