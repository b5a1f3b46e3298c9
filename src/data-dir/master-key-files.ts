// Master keys kept in the data directory (when HOOKPOST_MASTER_KEY is unset): `master.key` holds
// the current key, `master.key.previous` the earlier ones, one a line, which only open. A
// process reads the files again when they change, so `hookpost secrets rotate-master-key
// --generate` needs no restart: the next seal uses the new key, and a ciphertext under a key id
// it has not seen yet makes it look again before it gives up.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import {
  generateMasterKey,
  type MasterKey,
  parseMasterKey,
  type Sealed,
  SecretBox,
} from '../secrets/secret-box.ts'

export const masterKeyFile = 'master.key'
export const previousKeysFile = 'master.key.previous'

function readLines(path: string): string[] {
  if (!existsSync(path)) return []
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'))
}

export interface KeyFiles {
  current: MasterKey
  previous: MasterKey[]
}

export function readKeyFiles(dir: string): KeyFiles {
  const [current] = readLines(resolve(dir, masterKeyFile))
  if (current === undefined) throw new Error(`${resolve(dir, masterKeyFile)} holds no master key`)
  return {
    current: parseMasterKey(current),
    previous: readLines(resolve(dir, previousKeysFile)).map(parseMasterKey),
  }
}

/** Writes a file (0600) by rename, so that a reader sees the old content or the new, never half. */
function writeAtomic(path: string, content: string): void {
  const tmp = `${path}.tmp-${process.pid}`
  writeFileSync(tmp, content, { mode: 0o600 })
  chmodSync(tmp, 0o600)
  renameSync(tmp, path)
}

/**
 * Generates a new current key; the old one joins master.key.previous first, so that a crash
 * between the two writes leaves it in both files (harmless) rather than in neither.
 */
export function rotateKeyFiles(dir: string): { keyId: string; previousKeyId: string | null } {
  mkdirSync(dir, { recursive: true })
  const currentPath = resolve(dir, masterKeyFile)
  const previousPath = resolve(dir, previousKeysFile)
  const [old] = readLines(currentPath)
  if (old !== undefined) {
    const kept = readLines(previousPath)
    if (!kept.includes(old)) writeAtomic(previousPath, [...kept, old].map((l) => `${l}\n`).join(''))
  }
  const fresh = generateMasterKey()
  writeAtomic(currentPath, `${fresh}\n`)
  return { keyId: parseMasterKey(fresh).id, previousKeyId: old === undefined ? null : parseMasterKey(old).id }
}

/** A SecretBox over the key files that follows their changes (see the top of this file). */
export class KeyFileSecretBox extends SecretBox {
  readonly #dir: string
  readonly #extra: readonly MasterKey[]
  #inner: SecretBox
  #known: Set<string>
  #stamp: string

  /** extra: earlier keys given in configuration (HOOKPOST_MASTER_KEY_PREVIOUS). */
  constructor(dir: string, extra: readonly MasterKey[] = []) {
    const files = readKeyFiles(dir)
    super(files.current, [...files.previous, ...extra])
    this.#dir = dir
    this.#extra = extra
    this.#inner = new SecretBox(files.current, [...files.previous, ...extra])
    this.#known = new Set([files.current, ...files.previous, ...extra].map((k) => k.id))
    this.#stamp = this.#currentStamp()
  }

  #currentStamp(): string {
    return [masterKeyFile, previousKeysFile]
      .map((f) => {
        try {
          const s = statSync(resolve(this.#dir, f))
          return `${s.mtimeMs}:${s.size}:${s.ino}`
        } catch {
          return '-'
        }
      })
      .join('|')
  }

  /** Reads the files again when they changed; keeps the keys it has when they cannot be read. */
  #refresh(): void {
    const stamp = this.#currentStamp()
    if (stamp === this.#stamp) return
    try {
      const files = readKeyFiles(this.#dir)
      const previous = [...files.previous, ...this.#extra]
      this.#inner = new SecretBox(files.current, previous)
      this.#known = new Set([files.current, ...previous].map((k) => k.id))
      this.#stamp = stamp
    } catch {
      // A half-edited file: try again next time.
    }
  }

  override get currentKeyId(): string {
    this.#refresh()
    return this.#inner.currentKeyId
  }

  override currentKey(): MasterKey {
    this.#refresh()
    return this.#inner.currentKey()
  }

  override seal(plaintext: string, associatedData: string): Sealed {
    this.#refresh()
    return this.#inner.seal(plaintext, associatedData)
  }

  override open(sealed: Sealed, associatedData: string): string {
    // An unknown key id: another process may have rotated the files (a stat when it did not).
    if (!this.#known.has(sealed.keyId)) this.#refresh()
    return this.#inner.open(sealed, associatedData)
  }
}
