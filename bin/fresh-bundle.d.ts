/** Whether dist/hookpost.js matches the sources it was built from (see fresh-bundle.js). */
export function freshBundle(root: string, env?: Record<string, string | undefined>): boolean
