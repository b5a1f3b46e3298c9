// Hookpost: verify a delivery in a Zapier "Code by Zapier → Run JavaScript" step.
// Paste this whole file as the step's code. Self-contained: Node's built-in `crypto` only, no
// npm packages and no global `crypto` needed (Zapier runs Node 18). Docs: docs/zapier.md.
//
// Input Data of the step (key on the left is yours to type; pick the value from the
// "Webhooks by Zapier → Catch Raw Hook" trigger). Key spelling is forgiving: case, spaces,
// "_" / "-" and a leading "Headers" / "Http" are ignored, so "Http X Delivery Hmac Sha256" works.
//   secret             your whsec_… signing secret (type it in)
//   raw_body           Raw Body
//   webhook_id         Headers Http Webhook Id
//   webhook_timestamp  Headers Http Webhook Timestamp
//   webhook_signature  Headers Http Webhook Signature
//   hmac               Headers Http X Delivery Hmac Sha256   (optional when the three above are mapped)
//
// With webhook_signature mapped, the Standard Webhooks signature and its timestamp are checked
// (replay protection); otherwise the X-Delivery-Hmac-SHA256 header (body only, no timestamp).
// On success the step outputs { verified: true, webhook_id, event_name, payload, … }; use
// webhook_id to drop duplicates (retries reuse it). On failure the step stops the Zap with an
// error, unless STOP_ON_FAILURE is false: then it outputs { verified: false, error_code } for a
// Filter step ("Only continue if verified is true").

const TOLERANCE_SECONDS = 300
const STOP_ON_FAILURE = true

function verifyHookpostDelivery(input, options) {
  // Bare names: what Zapier documents for its require of Node built-ins.
  // biome-ignore lint/style/useNodejsImportProtocol: keep the form Zapier's sandbox documents
  const crypto = require('crypto')
  // biome-ignore lint/style/useNodejsImportProtocol: keep the form Zapier's sandbox documents
  const { Buffer } = require('buffer')

  function refuse(code, message) {
    const err = new Error(`Hookpost delivery refused (${code}): ${message}`)
    err.code = code
    throw err
  }

  // Input keys normalised: "Headers Http X Delivery Hmac Sha256" -> "xdeliveryhmacsha256".
  function normalise(key) {
    let k = String(key)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
    for (;;) {
      if (k.startsWith('headers') && k.length > 'headers'.length) k = k.slice('headers'.length)
      else if (k.startsWith('http') && k.length > 'http'.length) k = k.slice('http'.length)
      else return k
    }
  }

  const fields = {}
  for (const key of Object.keys(input || {})) {
    const value = input[key]
    const name = normalise(key)
    if ((name === 'headers' || name === 'rawheaders') && typeof value === 'string') {
      // A whole header object mapped as JSON text.
      try {
        const parsed = JSON.parse(value)
        if (parsed && typeof parsed === 'object') {
          for (const h of Object.keys(parsed)) fields[normalise(h)] = String(parsed[h])
        }
      } catch (_e) {
        // not JSON: ignore
      }
    } else if (value !== undefined && value !== null) {
      fields[name] = String(value)
    }
  }
  function field(...names) {
    for (const n of names) {
      const v = fields[n]
      if (v !== undefined && v.trim() !== '') return v.trim()
    }
    return undefined
  }

  const secret = field('secret', 'signingsecret', 'hmacsecret', 'whsec')
  if (!secret) refuse('missing_secret', 'map your whsec_… secret as the input "secret"')
  const rawBody = fields.rawbody !== undefined ? fields.rawbody : fields.body
  if (rawBody === undefined)
    refuse('not_raw_body', 'map "Raw Body" of the Catch Raw Hook trigger as "raw_body"')

  let standardSignature = field('webhooksignature', 'svixsignature')
  let basekitSignature = field('xdeliveryhmacsha256', 'hmac', 'hmacsha256')
  const loose = field('signature')
  if (loose !== undefined) {
    if (/^v1a?,/.test(loose)) standardSignature = standardSignature || loose
    else basekitSignature = basekitSignature || loose
  }
  const id = field('webhookid', 'svixid', 'id')
  const timestampText = field('webhooktimestamp', 'svixtimestamp', 'timestamp')

  const whole = secret.startsWith('whsec_') ? secret : `whsec_${secret}`
  const body = Buffer.from(rawBody, 'utf8')
  function digestOf(text) {
    const t = text.trim().replace(/,+$/, '')
    if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex')
    if (/^[A-Za-z0-9+/]{43}=?$/.test(t)) return Buffer.from(t, 'base64')
    return null
  }
  function same(a, b) {
    return a !== null && a.length === b.length && crypto.timingSafeEqual(a, b)
  }

  let scheme
  let timestamp = null
  if (standardSignature !== undefined) {
    scheme = 'standard'
    if (id === undefined || timestampText === undefined) {
      refuse('missing_signature', 'map webhook_id and webhook_timestamp as well as webhook_signature')
    }
    if (!/^\d{1,15}$/.test(timestampText)) refuse('bad_timestamp', 'webhook-timestamp is not Unix seconds')
    timestamp = Number(timestampText)
    const key = Buffer.from(whole.slice('whsec_'.length), 'base64')
    const expected = crypto
      .createHmac('sha256', key)
      .update(`${id}.${timestamp}.`, 'utf8')
      .update(body)
      .digest()
    const ok = standardSignature
      .split(/\s+/)
      .some((entry) => entry.startsWith('v1,') && same(digestOf(entry.slice(3)), expected))
    if (!ok) refuse('bad_signature', 'no v1 entry of webhook-signature matches the body')
    const now = Math.floor(Date.now() / 1000)
    if (now - timestamp > options.toleranceSeconds) refuse('timestamp_too_old', `${now - timestamp} s old`)
    if (timestamp - now > options.toleranceSeconds) refuse('timestamp_too_new', `${timestamp - now} s ahead`)
  } else if (basekitSignature !== undefined) {
    scheme = 'basekit'
    const expected = crypto.createHmac('sha256', Buffer.from(whole, 'utf8')).update(body).digest()
    const ok = basekitSignature
      .split(/[\s,]+/)
      .some((s) => same(digestOf(s.replace(/^sha256=/i, '')), expected))
    if (!ok) refuse('bad_signature', 'X-Delivery-Hmac-SHA256 does not match the body')
  } else {
    refuse('missing_signature', 'map webhook_signature (or hmac) from the trigger')
  }

  let payload
  try {
    payload = JSON.parse(rawBody)
  } catch (_e) {
    refuse('invalid_payload', 'the body is not JSON')
  }
  const attempt = field('xdeliveryattempt', 'attempt')
  const eventHeader = field('xdeliveryevent', 'event', 'eventname')
  return {
    verified: true,
    scheme,
    webhook_id: id === undefined ? null : id,
    timestamp,
    event_name: payload && typeof payload.eventName === 'string' ? payload.eventName : eventHeader || null,
    attempt: attempt !== undefined && /^\d+$/.test(attempt) ? Number(attempt) : null,
    payload,
  }
}

try {
  output = verifyHookpostDelivery(inputData, { toleranceSeconds: TOLERANCE_SECONDS })
} catch (err) {
  if (STOP_ON_FAILURE || !err.code) throw err
  output = { verified: false, error_code: err.code, error: err.message }
}
