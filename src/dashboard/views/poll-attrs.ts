// The htmx attributes that keep a region of a page fresh while deliveries are pending: the
// delivery log, a subscription's recent deliveries, one delivery's state.

/**
 * While something is pending, the region re-fetches itself (and stops once nothing is); `also`
 * names regions elsewhere on the page that the same answer refreshes (out of band).
 */
export function pollAttrs(active: boolean, url: string, id: string, also?: string): Record<string, string> {
  return active
    ? {
        'hx-get': url,
        'hx-trigger': 'every 2s',
        'hx-select': `#${id}`,
        'hx-target': 'this',
        'hx-swap': 'outerHTML',
        ...(also !== undefined ? { 'hx-select-oob': also } : {}),
      }
    : {}
}
