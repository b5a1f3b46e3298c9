// The layering of ARCHITECTURE.md as one table of rules, and the checker that applies it to
// every file under a source root: static imports and re-exports, `import()` (also in types),
// `require`, and reads of `process.env` / `process['env']`. test/architecture/layering.test.ts
// runs it on src/ (a violation fails the build) and on a copy with planted violations.
import { readdirSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join, posix, relative, sep } from 'node:path'
import ts from 'typescript'

/** The pure core: use cases and rules over ports (src/store/store.ts is the storage port). */
export const coreFolders = [
  'subscriptions',
  'events',
  'deliveries',
  'signing',
  'secrets',
  'environments',
  'network',
  'sessions',
  'shared',
  'audit',
].map((f) => `src/${f}/`)

/** Storage adapters and their drivers: picked by the composition roots only. */
const storeAdapters = ['src/store/sql/', 'src/store/sqlite/', 'src/store/postgres/']
const drivers = ['pg', 'better-sqlite3', 'kysely']
/** Where adapters are picked: the composition root and the CLI's operator entry. */
const compositionRoots = ['src/main.ts', 'src/cli/main.ts']
/**
 * The sending thread's entry: a thread gets no objects from main.ts, so it composes its own
 * senders (the HTTP sender and the registered broker types) from the configuration it is given.
 */
const threadRoots = ['src/outbound/sender-thread.ts']
/** Message broker clients: only the destination adapters use them (src/destinations/). */
const brokerClients = [
  'amqplib',
  '@nats-io/transport-node',
  '@nats-io/jetstream',
  '@nats-io/nats-core',
  'ioredis',
]
/** Transports call use cases (the `Hookpost` object); they never see the store's SQL. */
const transports = ['src/http/', 'src/dashboard/', 'src/cli/', 'src/relay/']

export interface Rule {
  name: string
  why: string
  /** Files the rule applies to (path prefixes relative to the project root). */
  from: readonly string[]
  /** Except these. */
  except?: readonly string[]
  /** A violation: an import of one of these (path prefixes or package names). */
  forbid?: readonly string[]
  /** A violation: an import of anything not listed (path prefixes or package names). */
  allowOnly?: readonly string[]
  /** A violation: reading process.env. */
  forbidEnv?: boolean
}

export const layeringRules: readonly Rule[] = [
  {
    name: 'core-is-pure',
    why: 'the core imports only the core, the store contract and pure libraries (no driver, HTTP, undici, SQL)',
    from: coreFolders,
    except: ['src/network/address-policy.ts'],
    allowOnly: [
      ...coreFolders,
      'src/store/store.ts',
      'node:crypto',
      // Payload validation (JSON Schema) and address parsing: pure libraries.
      'ajv',
      'ajv-formats',
      'ipaddr.js',
    ],
  },
  {
    name: 'address-policy-parses-only',
    why: 'the address policy may use node:net for isIP (a parser, no socket), nothing else of the network',
    from: ['src/network/address-policy.ts'],
    allowOnly: [...coreFolders, 'node:net', 'ipaddr.js'],
  },
  {
    name: 'sandbox-in-its-adapter',
    why: 'the QuickJS (WebAssembly) engine is loaded only by src/transformations/, which implements the Transformer port of src/subscriptions/transformation.ts',
    from: ['src/'],
    except: ['src/transformations/'],
    forbid: ['quickjs-emscripten-core', '@jitl/quickjs-wasmfile-release-sync'],
  },
  {
    name: 'transformations-are-an-adapter',
    why: 'the sandbox adapter imports the core (its port) and its engine: no transport, store or driver',
    from: ['src/transformations/'],
    allowOnly: [...coreFolders, 'quickjs-emscripten-core', '@jitl/quickjs-wasmfile-release-sync'],
  },
  {
    name: 'settings-from-config',
    why: "only src/config/load.ts reads process.env (the CLI takes its client flags' defaults from it)",
    from: ['src/'],
    except: ['src/config/load.ts', 'src/cli/'],
    forbidEnv: true,
  },
  {
    name: 'http-not-dashboard',
    why: 'the HTTP API and the dashboard do not import each other (src/web-app.ts joins them)',
    from: ['src/http/'],
    forbid: ['src/dashboard/'],
  },
  {
    name: 'dashboard-not-http',
    why: 'the HTTP API and the dashboard do not import each other (src/web-app.ts joins them)',
    from: ['src/dashboard/'],
    forbid: ['src/http/'],
  },
  {
    name: 'transports-call-use-cases',
    why: "transports call the use cases, never the store's SQL or a database driver",
    from: transports,
    except: compositionRoots,
    forbid: [...storeAdapters, ...drivers],
  },
  {
    name: 'adapters-picked-by-the-root',
    why: 'only src/main.ts and the CLI operator entry pick a store adapter',
    from: ['src/'],
    except: [...compositionRoots, ...storeAdapters],
    forbid: [...storeAdapters, ...drivers],
  },
  {
    name: 'brokers-in-destinations',
    why: 'broker clients are used only by the destination types in src/destinations/ (the core sees the Sender port)',
    from: ['src/'],
    except: ['src/destinations/'],
    forbid: brokerClients,
  },
  {
    name: 'destinations-picked-by-the-root',
    why: 'only src/main.ts (and the sending thread, for its own isolate) composes the destination types; the core and the transports never import them',
    from: ['src/'],
    except: [...compositionRoots, ...threadRoots, 'src/destinations/'],
    forbid: ['src/destinations/'],
  },
]

export interface Violation {
  file: string
  line: number
  rule: string
  message: string
}

interface Use {
  /** A project path (src/…) or a package name (node: prefix for built-ins); '(computed)' when not a literal. */
  target: string
  line: number
  env?: true
}

const builtins = new Set(builtinModules)

/** Resolves a specifier to a project path or a package name (`pg/lib/x` → `pg`). */
function targetOf(file: string, spec: string): string {
  if (spec.startsWith('.')) return posix.normalize(posix.join(posix.dirname(file), spec))
  if (builtins.has(spec) || spec.startsWith('node:'))
    return `node:${spec.replace(/^node:/, '').split('/')[0]}`
  const parts = spec.split('/')
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
}

/** Every import and process.env read of one source file. */
export function usesOf(file: string, text: string): Use[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX)
  const uses: Use[] = []
  const lineOf = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1
  const add = (spec: ts.Node | undefined, at: ts.Node) => {
    const literal = spec && (ts.isStringLiteral(spec) || ts.isNoSubstitutionTemplateLiteral(spec))
    uses.push({ target: literal ? targetOf(file, spec.text) : '(computed)', line: lineOf(at) })
  }
  const isProcess = (e: ts.Expression) =>
    (ts.isIdentifier(e) && e.text === 'process') ||
    (ts.isPropertyAccessExpression(e) &&
      e.name.text === 'process' &&
      ts.isIdentifier(e.expression) &&
      e.expression.text === 'globalThis')
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier)
      add(n.moduleSpecifier, n)
    else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) {
      add(n.moduleReference.expression, n)
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) add(n.argument.literal, n)
    else if (ts.isCallExpression(n)) {
      const c = n.expression
      const isRequire =
        (ts.isIdentifier(c) && c.text === 'require') ||
        (ts.isPropertyAccessExpression(c) && ts.isIdentifier(c.expression) && c.expression.text === 'require')
      if (c.kind === ts.SyntaxKind.ImportKeyword || isRequire) add(n.arguments[0], n)
    } else if (ts.isPropertyAccessExpression(n) && n.name.text === 'env' && isProcess(n.expression)) {
      uses.push({ target: 'process.env', line: lineOf(n), env: true })
    } else if (
      ts.isElementAccessExpression(n) &&
      isProcess(n.expression) &&
      (ts.isStringLiteral(n.argumentExpression) ||
        ts.isNoSubstitutionTemplateLiteral(n.argumentExpression)) &&
      n.argumentExpression.text === 'env'
    ) {
      uses.push({ target: 'process.env', line: lineOf(n), env: true })
    } else if (
      ts.isVariableDeclaration(n) &&
      ts.isObjectBindingPattern(n.name) &&
      n.initializer &&
      isProcess(n.initializer) &&
      n.name.elements.some((e) => ((e.propertyName ?? e.name) as ts.Identifier).text === 'env')
    ) {
      uses.push({ target: 'process.env', line: lineOf(n), env: true })
    }
    ts.forEachChild(n, visit)
  }
  visit(sf)
  return uses
}

const matches = (target: string, patterns: readonly string[]) =>
  patterns.some((p) => (p.endsWith('/') ? target.startsWith(p) : target === p))

/** The violations of `rules` by one file (path relative to the project root, with `/`). */
export function checkFile(file: string, text: string, rules: readonly Rule[] = layeringRules): Violation[] {
  const out: Violation[] = []
  const applying = rules.filter((r) => matches(file, r.from) && !(r.except && matches(file, r.except)))
  const uses = applying.length > 0 ? usesOf(file, text) : []
  for (const rule of applying) {
    for (const u of uses) {
      const bad = u.env
        ? rule.forbidEnv === true || rule.allowOnly !== undefined
        : (rule.forbid !== undefined && matches(u.target, rule.forbid)) ||
          (rule.allowOnly !== undefined && u.target !== file && !matches(u.target, rule.allowOnly))
      if (!bad) continue
      const what = u.env ? 'reads process.env' : `imports ${u.target}`
      out.push({
        file,
        line: u.line,
        rule: rule.name,
        message: `${file}:${u.line} ${what}: breaks rule "${rule.name}" (${rule.why})`,
      })
    }
  }
  return out
}

/** Checks every .ts/.tsx file under `<root>/src`. */
export function checkLayering(root: string, rules: readonly Rule[] = layeringRules): Violation[] {
  const files: string[] = []
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (/\.tsx?$/.test(e.name)) files.push(p)
    }
  }
  walk(join(root, 'src'))
  return files.flatMap((p) =>
    checkFile(relative(root, p).split(sep).join('/'), readFileSync(p, 'utf8'), rules),
  )
}
