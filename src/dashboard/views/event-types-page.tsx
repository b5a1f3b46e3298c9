// The portal's event catalogue: each event type with its description, an example payload and its
// JSON Schema, and a link to subscribe to it.
import type { EventType } from '../../events/event-types.ts'
import { Json, Page, type PageCtx } from './layout.tsx'

const base = '/dashboard/portal'

export function EventTypesPage({ ctx, types }: { ctx: PageCtx; types: readonly EventType[] }) {
  return (
    <Page ctx={{ ...ctx, current: 'event-types' }} title="Event types">
      <h1>Event types</h1>
      <p>The events you can subscribe to, each with its JSON Schema and an example payload.</p>
      <ul>
        {types.map((t) => (
          <li key={t.name}>
            <a href={`#type-${t.name.replace(/[^a-z0-9_-]/gi, '-')}`}>{t.name}</a>
          </li>
        ))}
      </ul>
      {types.map((t) => (
        <section
          key={t.name}
          class="card"
          id={`type-${t.name.replace(/[^a-z0-9_-]/gi, '-')}`}
          aria-labelledby={`h-${t.name.replace(/[^a-z0-9_-]/gi, '-')}`}
        >
          <h2 id={`h-${t.name.replace(/[^a-z0-9_-]/gi, '-')}`}>
            <code>{t.name}</code>
          </h2>
          <p>{t.description}</p>
          <p>
            <a href={`${base}/subscriptions/new?event=${encodeURIComponent(t.name)}`}>
              Subscribe to {t.name}
            </a>
          </p>
          <h3>Example</h3>
          <Json value={t.example} label={`${t.name} example payload`} />
          <details>
            <summary>JSON Schema</summary>
            <Json value={t.schema} label={`${t.name} JSON Schema`} />
          </details>
        </section>
      ))}
    </Page>
  )
}
