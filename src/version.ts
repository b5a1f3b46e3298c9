// The service's version, from package.json (User-Agent: Hookpost/<version>).
import pkg from '../package.json' with { type: 'json' }

export const version: string = pkg.version
