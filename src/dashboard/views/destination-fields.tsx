// The destination part of the subscription form (docs/destinations.md): the type (http, or a
// message broker), its URL and the type's own fields, built from the registered types. Without
// JavaScript every type's fields are shown; with CSS :has() only the chosen type's.
import type { DestinationTypeInfo } from '../../subscriptions/destination.ts'

/** What the form holds: a type, a URL and that type's fields. */
export interface DestinationValues {
  type: string
  url: string
  [field: string]: string
}

/** The submitted form → `url` (http, BaseKit's form) or a `destination` for the use case. */
export function destinationFromForm(
  form: Record<string, unknown>,
  types: readonly DestinationTypeInfo[],
): { url: string } | { destination: DestinationValues } {
  const text = (name: string, max: number) => {
    const v = Object.hasOwn(form, name) ? form[name] : undefined
    return typeof v === 'string' ? v.trim().slice(0, max) : ''
  }
  const chosen = types.find((t) => t.type === text('destination_type', 40)) ?? types[0]
  const url = text('url', 2048)
  if (!chosen || chosen.type === 'http') return { url }
  const destination: DestinationValues = { type: chosen.type, url }
  for (const f of chosen.fields) destination[f.name] = text(`dest_${chosen.type}_${f.name}`, 512)
  return { destination }
}

/** One line: the URL, and a broker's type and fields. */
export function DestinationSummary(props: { url: string; destination: DestinationValues }) {
  const d = props.destination
  if (d.type === 'http') return <code>{props.url}</code>
  const extra = Object.entries(d).filter(([k]) => k !== 'type' && k !== 'url')
  return (
    <span>
      <span class="badge">{d.type}</span> <code>{d.url}</code>
      {extra.map(([k, v]) => (
        <span key={k}>
          {' '}
          {k} <code>{v}</code>
        </span>
      ))}
    </span>
  )
}

export function DestinationFields(props: {
  types: readonly DestinationTypeInfo[]
  value: DestinationValues
  idp: string
}) {
  const { types, value, idp } = props
  const current = types.find((t) => t.type === value.type) ?? types[0]
  return (
    <>
      <label for={`${idp}-destination-type`}>Destination</label>
      <select
        id={`${idp}-destination-type`}
        name="destination_type"
        aria-describedby={`${idp}-destination-hint`}
      >
        {types.map((t) => (
          <option key={t.type} value={t.type} selected={t.type === current?.type}>
            {t.type === 'http' ? 'HTTP endpoint' : t.type}
          </option>
        ))}
      </select>
      <p class="hint" id={`${idp}-destination-hint`}>
        An HTTP endpoint, or a message broker: Hookpost publishes the same signed delivery there and retries
        until the broker acknowledges it.
      </p>
      <label for={`${idp}-url`}>URL</label>
      <input
        type="text"
        inputmode="url"
        id={`${idp}-url`}
        name="url"
        required
        spellcheck={false}
        placeholder={current?.urlExample ?? 'https://example.com/webhooks'}
        value={value.url}
        aria-describedby={`${idp}-url-hint`}
      />
      <p class="hint" id={`${idp}-url-hint`}>
        Where Hookpost delivers each event, signed. The sending policy may refuse private addresses. A broker
        URL's password is stored encrypted and shown as <code>****</code>: keep it as shown to keep the
        password.
      </p>
      {types
        .filter((t) => t.fields.length > 0)
        .map((t) => (
          <fieldset key={t.type} class="dest-fields" data-type={t.type}>
            <legend>{t.type} fields</legend>
            {t.fields.map((f) => {
              const id = `${idp}-dest-${t.type}-${f.name}`
              return (
                <div key={f.name}>
                  <label for={id}>{f.name}</label>
                  <input
                    type="text"
                    id={id}
                    name={`dest_${t.type}_${f.name}`}
                    spellcheck={false}
                    placeholder={f.example}
                    value={t.type === value.type ? (value[f.name] ?? '') : ''}
                    aria-describedby={`${id}-hint`}
                  />
                  <p class="hint" id={`${id}-hint`}>
                    {f.description}
                  </p>
                </div>
              )
            })}
          </fieldset>
        ))}
    </>
  )
}
